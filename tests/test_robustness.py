"""The robustness property (suites/test_robustness.py, conformance.harness.robustness): its fault space, and the
plugin on the fake adapter: clean on the correct fake, and a fake that aborts on one drawn fault class (a malformed
stride, like TensorFlow's CHECKs on attributes) is found, shrunk and reported as a crash with its fault."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conformance.harness import robustness
from tests.fake_adapter import load
from tests.plugin_runs import ROOT, run_plugin

PATHS = ("suites/test_robustness.py",)


def test_every_kind_of_valid_value_has_faults_of_other_kinds_and_ranges():
    ints = dict(robustness.argument_faults(3))
    assert {ints["zero"], ints["negative"], ints["huge"], ints["none"], ints["string"]} == {0, -1, 2 ** 31, None, "3"}
    seq = dict(robustness.argument_faults((2, 2)))
    assert seq["one-more-entry"] == (2, 2, 2) and seq["one-fewer-entry"] == (2,) and seq["empty"] == ()
    assert seq["first-entry-huge"] == (2 ** 31, 2) and seq["nested"] == ((2, 2),)
    assert seq["without-first-entry"] == (2,) and ints["plus-one"] == 4
    # an array where a list of numbers goes, spelled in the reproducer as the code that makes it
    assert repr(seq["as-array"]) == "np.asarray([2, 2])" and repr(ints["as-array"]) == "np.asarray(3)"
    pairs = dict(robustness.argument_faults([[1, 0]]))
    assert pairs["first-pair-three-entries"] == [[1, 0, 0]] and pairs["first-pair-huge"] == [[2 ** 31, 2 ** 31]]
    words = dict(robustness.argument_faults("SAME"))
    assert words["other-case"] == "same" and words["empty-string"] == "" and words["int"] == 1
    assert dict(robustness.argument_faults(None))["empty-list"] == []
    assert dict(robustness.argument_faults(True))["none"] is None


def test_the_space_covers_each_api_argument_and_the_inputs_but_no_harness_argument():
    surface, = load().surfaces
    args = surface.arguments({"padding": [1], "output_padding": [0]}, _conv(), "float32", "cpu")
    where = {f.where for f in robustness.faults(surface, args)}
    assert where == {"stride", "padding", "output_padding", "dilation", "groups", "input"}
    assert "dtype" not in where and "mutation" not in where          # the call's own plumbing is not faulted


def test_every_fault_of_the_space_makes_a_script_that_runs_and_spells_its_values(monkeypatch):
    # every fault's reproducer is valid, self-contained Python: the call raises or returns in the worker, and never
    # fails on the script itself (a value whose repr is not code, an input line that breaks)
    from conformance.harness.check import Case
    from conformance.harness.isolate import Worker
    monkeypatch.setenv("FAKE_MUTATION", "none")
    surface, = load().surfaces
    params = {"padding": [1], "output_padding": [0]}
    space = robustness.faults(surface, surface.arguments(params, _conv(), "float32", "cpu"))
    assert len(space) > 60 and len({f.label for f in space}) == len(space)
    monkeypatch.setattr(robustness, "_worker", Worker(timeout=60))
    try:
        outcomes = {f.label: robustness.run(surface, Case(_conv(), params, "float32", "cpu", 0, fault=f.label), f)
                    for f in space}
    finally:
        robustness._worker.close()
    broken = {label: o.error for label, o in outcomes.items()
              if o.error and o.error.split(":")[0] in ("NameError", "SyntaxError")}
    assert not broken, broken
    assert {o.verdict for o in outcomes.values()} <= {"pass", "refused"}
    assert outcomes["stride:as-array"].error.startswith("ValueError"), outcomes["stride:as-array"]


def _conv():
    from conformance.core.spec import Conv
    return Conv((4,), (3,), (2,), (1,))


def test_the_correct_fake_returns_or_raises_on_every_drawn_fault(tmp_path):
    run = run_plugin(tmp_path, paths=PATHS, profile="ci")
    assert run.returncode == 0, run.output[-3000:]
    records = [json.loads(line) for line in run.records.read_text().splitlines()]
    assert len(records) >= 25 and {r["property"] for r in records} == {"robustness"}
    assert {r["verdict"] for r in records} <= {"pass", "refused"}
    assert len({r["fault"]["case"] for r in records}) >= 10, "the faults drawn are too few kinds"


def test_a_fake_that_aborts_on_a_malformed_stride_is_found_and_shrunk(tmp_path):
    # the ci profile: derandomized, no example database, so the run finds it from nothing (1 draw in 6 faults the
    # stride; a clean clone has no saved failing example to replay)
    run = run_plugin(tmp_path, paths=PATHS, mutation="abort-on-malformed-stride", profile="ci")
    assert run.returncode != 0, run.output[-3000:]
    assert "crash divergence on fake:fake.conv_transpose" in run.output and "SIGABRT" in run.output
    records = [json.loads(line) for line in run.records.read_text().splitlines()]
    final = [r for r in records if r["final"] and r["kind"] == "crash"]
    assert final, "no final (shrunk) crash record"
    minimal = final[-1]
    assert minimal["fault"]["case"].startswith("stride:"), minimal["fault"]
    assert minimal["config"]["in_size"] == [1] and minimal["config"]["kernel"] == [1], minimal["config"]
    assert f"fault {minimal['fault']['case']}" in minimal["reproducer"]
    # its signature, and the short reproducer run again alone: the abort needs nothing the worker ran before
    assert minimal["behaviour"]["key"].startswith("SIGABRT: "), minimal["behaviour"]
    assert minimal["reproduced"] == {"outcome": "crash", "signal": "SIGABRT", "key": minimal["behaviour"]["key"],
                                     "same_signature": True, "data_limit": robustness.DATA_LIMIT}
    assert "fresh:     reproduced in a fresh process" in run.output
    # the record's (checked) reproducer, pasted into a fresh interpreter, reports the death instead of suffering it
    checked = subprocess.run([sys.executable, "-c", minimal["reproducer"]], capture_output=True, text=True,
                             timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert checked.returncode == 1 and "DIVERGES: the call killed its process with SIGABRT" in checked.stderr, \
        checked.stderr[-2000:]


def _drawn(surface, label, actual, kind=None, status="pass", signal=None):
    return {"property": "robustness", "surface": surface, "fault": {"case": label}, "actual": actual, "kind": kind,
            "status": status, "behaviour": {"outcome": "crash", "signal": signal} if signal else None}


def test_the_errors_view_groups_drawn_faults_by_kind_across_argument_names():
    from conformance.views.errors_view import build_drawn, render_drawn_text
    rows = build_drawn([
        _drawn("torch:f", "stride:first-entry-huge", {"error": "RuntimeError: bad"}),
        _drawn("torch:f", "dilation:first-entry-huge", {"error": "RuntimeError: bad"}),
        _drawn("tf:g", "strides:first-entry-huge", {"error": "killed by SIGABRT"}, "crash", "expected", "SIGABRT"),
        _drawn("jax:h", "window_strides:first-entry-huge", {"shape": [1, 1, 3]}),
        _drawn("jax:h", "input:x-int32", {"shape": [1, 1, 3]}),
        {"property": "errors", "surface": "torch:f", "fault": {"case": "stride-zero"}, "actual": {}},   # not drawn
    ])
    assert set(rows) == {"first-entry-huge", "x-int32"}
    huge = rows["first-entry-huge"]
    assert huge["arguments"] == ["dilation", "stride", "strides", "window_strides"]
    assert huge["surfaces"]["torch:f"]["did"] == "refused 2 (RuntimeError 2)"
    assert huge["surfaces"]["tf:g"] == {"did": "CRASH SIGABRT 1", "outcome": "crashed", "arguments": ["strides"],
                                        "status": "expected"}
    assert huge["surfaces"]["jax:h"]["did"] == "returned 1"
    text = render_drawn_text(rows)
    assert "frameworks disagree: crashed / refused / returned" in text
