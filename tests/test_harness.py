"""Meta-tests: the plugin, judge, records and summary, run end to end against the framework-free fake adapter.

A correct implementation must pass; each deliberate bug must fail the right property with a message that
names the config, the documented expectation and its doc, what came out, and a reproducer that replays it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conformance.core.spec import Conv
from conformance.harness import records as records_mod
from conformance.harness.check import Case, reproducer, run_case
from tests.fake_adapter import load
from tests.plugin_runs import ROOT, run_plugin


def test_correct_fake_passes_and_records_every_case(tmp_path):
    run = run_plugin(tmp_path)
    assert run.returncode == 0, run.output
    recs = records_mod.read(run.records)
    assert {r["property"] for r in recs} == {"shapes", "values", "refusals", "robustness"}
    assert all(r["status"] == "pass" for r in recs)
    assert any(r["verdict"] == "refused" for r in recs), "the strategies never drew a documented refusal"
    assert "new divergences: 0" in run.output


@pytest.mark.parametrize("mutation, test, kind, must_show", [
    ("crop-off-by-one", "test_shapes", "crop", "matches the reference at crop="),
    ("short-output", "test_shapes", "shape", "shape (..., "),
    ("wrong-values", "test_values", "value", "err/bound at the documented crop"),
    ("swallow-refusal", "test_refusals", "error-vs-result", "the framework returned shape"),
    ("refuse-valid", "test_refusals", "error-vs-result", "raised ValueError: fake: stride 3"),
])
def test_mutation_is_caught_with_a_full_message(tmp_path, mutation, test, kind, must_show):
    run = run_plugin(tmp_path, mutation=mutation)
    assert run.returncode == 1, run.output
    assert f"FAILED suites/test_conformance.py::{test}[fake:fake.conv_transpose@cpu]" in run.output, run.output
    message = run.output[run.output.index(f"{kind} divergence on fake:fake.conv_transpose"):]
    for part in ("config:    N=", "params:    padding=", "expected:  ", "tests/fake_adapter.py", must_show,
                 "reproduce:", "rng = np.random.default_rng("):
        assert part in message, f"{part!r} missing from the failure message:\n{message[:3000]}"
    recs = records_mod.read(run.records)
    final = [r for r in recs if r["status"] == "divergence" and r["final"]]
    assert final and all(r["kind"] == kind for r in final), {r["kind"] for r in final}
    assert f"NEW {kind} on fake:fake.conv_transpose" in run.output


def test_expected_divergence_is_not_a_failure_and_xpass_is_reported(tmp_path):
    expectations = tmp_path / "expected.toml"
    expectations.write_text('''
[[divergence]]
id = "fake-late-crop"
surface = "fake:*"
when = "True"
kind = "crop"
reason = "the fake starts one element late"
behaviour = { relation = "tuple([0] * (rank - 1) + [1]) in shifts" }

[[divergence]]
id = "fake-never-happens"
surface = "fake:*"
when = "max(stride) == 1"
kind = "value"
reason = "never diverges: must be reported as XPASS"
behaviour = { err_over_bound = [1.0, 1e300] }
''')
    run = run_plugin(tmp_path, "--expectations", str(expectations), mutation="crop-off-by-one")
    assert run.returncode == 0, run.output
    assert "fake-late-crop (crop," in run.output
    assert "XPASS fake-never-happens" in run.output
    statuses = {r["status"] for r in records_mod.read(run.records)}
    assert "expected" in statuses and "divergence" not in statuses


@pytest.mark.parametrize("args, env, message", [
    (("--framework", "nope"), {}, "unknown framework(s) nope"),
    (("--device", "gpu"), {}, "--device gpu: no selected framework has a gpu device; found: fake: cpu (NumPy)"),
    (("--device", "gpu:1"), {}, "--device gpu:1: no selected framework has a device named gpu:1; found: fake: cpu"),
    (("--surface", "zzz*"), {}, "--surface 'zzz*' matches no surface"),
    (("--expectations", "/nonexistent.toml"), {}, "cannot read"),
    ((), {"CONFORMANCE_PROFILE": "turbo"}, "CONFORMANCE_PROFILE='turbo'"),
])
def test_bad_input_is_one_line_and_nonzero(tmp_path, args, env, message):
    run = run_plugin(tmp_path, *args, env=env)   # a later --framework overrides run_plugin's "fake"
    assert run.returncode not in (0, 1), run.output
    assert message in run.output, run.output
    assert "Traceback" not in run.output, run.output


def test_missing_framework_is_a_skip_with_reason(tmp_path):
    env = {**os.environ, "CONFORMANCE_ADAPTERS": "absent=tests.absent_adapter", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "suites"), "-p", "no:cacheprovider", "-q",
                           "-rs", "--framework", "absent", "--records", str(tmp_path / "r.jsonl")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "absent unavailable: absentlib is not installed" in out, out
    assert "Traceback" not in out


def test_reproducer_replays_the_fake_call():
    surface = load().surfaces[0]
    conv = Conv((3, 2), (2, 3), (2, 1), (1, 2), batch=2, c_in=4, c_out=2, groups=2, bias=True)
    case = Case(conv, {"padding": [1, 0], "output_padding": [1, 0]}, "float64", "cpu", seed=7)
    outcome = run_case(surface, case)
    assert outcome.verdict == "pass", outcome
    namespace: dict = {}
    script = reproducer(surface, case, "0.0")
    exec(compile(script, "<reproducer>", "exec"), namespace)  # noqa: S102 - our own generated script
    from conformance.harness.check import make_inputs
    x, w, b = make_inputs(conv, "float64", 7)
    np.testing.assert_array_equal(namespace["y"], surface.run(x, w, b, case.params, conv, "float64", "cpu"))


def test_records_survive_xdist_workers(tmp_path):
    pytest.importorskip("xdist")
    run = run_plugin(tmp_path, "-n", "2")
    assert run.returncode == 0, run.output
    recs = records_mod.read(run.records)
    assert len({r["run_id"] for r in recs}) == 1
    assert {r["property"] for r in recs} == {"shapes", "values", "refusals", "robustness"}
    for line in run.records.read_text().splitlines():
        json.loads(line)   # no interleaved lines


@pytest.mark.parametrize("mutation, signal_name", [("abort-on-stride-3", "SIGABRT"),
                                                   ("segfault-on-stride-3", "SIGSEGV")])
def test_a_flagged_crashing_call_runs_in_a_child_and_is_recorded(tmp_path, mutation, signal_name):
    expectations = tmp_path / "expected.toml"
    expectations.write_text('''
[[divergence]]
id = "fake-dies-on-stride-3"
surface = "fake:*"
when = "3 in stride"
kind = "crash"
reason = "the fake kills its process on stride 3"
behaviour = { signal = "SIGABRT|SIGSEGV", stderr = "Fatal Python error: (Aborted|Segmentation fault)" }
''')
    # dev profile, fixed seed: every flagged case spawns a child process, so keep the example count small
    run = run_plugin(tmp_path, "--expectations", str(expectations), "--hypothesis-seed=3", "--revisit", "1",
                     mutation=mutation, profile="dev")
    assert run.returncode == 0, run.output
    crashes = [r for r in records_mod.read(run.records) if r["kind"] == "crash"]
    assert crashes, "no stride-3 case was drawn"
    assert all(r["status"] == "expected" and signal_name in r["actual"]["error"] for r in crashes), crashes[0]
    assert "fake-dies-on-stride-3 (crash," in run.output
