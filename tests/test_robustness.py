"""The robustness property (suites/test_robustness.py, conformance.harness.robustness): its fault space, and the
plugin on the fake adapter: clean on the correct fake, and a fake that aborts on one drawn fault class (a malformed
stride, like TensorFlow's CHECKs on attributes) is found, shrunk and reported as a crash with its fault."""

from __future__ import annotations

import json

from conformance.harness import robustness
from tests.fake_adapter import load
from tests.plugin_runs import run_plugin

PATHS = ("suites/test_robustness.py",)


def test_every_kind_of_valid_value_has_faults_of_other_kinds_and_ranges():
    ints = dict(robustness.argument_faults(3))
    assert {ints["zero"], ints["negative"], ints["huge"], ints["none"], ints["string"]} == {0, -1, 2 ** 31, None, "3"}
    seq = dict(robustness.argument_faults((2, 2)))
    assert seq["one-more-entry"] == (2, 2, 2) and seq["one-fewer-entry"] == (2,) and seq["empty"] == ()
    assert seq["first-entry-huge"] == (2 ** 31, 2) and seq["nested"] == ((2, 2),)
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
