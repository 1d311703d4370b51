"""The error catalogue: the shipped file loads, a malformed one is refused naming its line, and the errors
property on the fake adapter records refusals, results and crashes (abort, segfault) without ending the run."""

from __future__ import annotations

import json

import pytest

from conformance.harness import catalogue
from conformance.harness import records as records_mod
from tests.plugin_runs import ROOT, run_plugin

GOOD = '''
[[case]]
id = "stride-zero"
what = "stride 0"
fault = "stride"
value = 0
expect = "refusal"
why = "no transposed convolution has it"
'''


def test_the_shipped_catalogue_loads_and_covers_the_issue_list():
    entries = catalogue.load(ROOT / "suites" / "error_catalogue.toml")
    faults = {e.fault for e in entries}
    assert faults >= {"output-padding", "padding", "output-size", "output-size-rank", "stride", "dilation",
                      "groups", "in_size", "batch", "c_in"}
    assert all(e.line > 0 and len(e.why) > 20 for e in entries)


@pytest.mark.parametrize("change, message", [
    (('expect = "refusal"', 'expect = "refusal"\ncolour = "red"'), "unknown field(s) ['colour']"),
    (('fault = "stride"', 'fault = "wobble"'), "no surface can express"),
    (('expect = "refusal"', 'expect = "maybe"'), "expect 'maybe' not one of"),
    (('value = 0', 'value = "s + zz"'), "value uses ['zz']"),
    (('value = 0', 'value = "__import__(1)"'), "may only call"),
    (('what = "stride 0"', 'what = "stride 0"\nbase = {stride = [0, 0]}'), "the base must be a valid configuration"),
    (('why = "no transposed convolution has it"', ''), "missing field(s) ['why']"),
])
def test_a_malformed_catalogue_is_refused_naming_the_line(change, message):
    text = "# a comment\n" + GOOD.replace(*change)
    with pytest.raises(catalogue.CatalogueError) as err:
        catalogue.parse(text, "cat.toml")
    assert message in str(err.value) and "cat.toml:4:" in str(err.value), str(err.value)


def test_duplicate_ids_are_refused():
    with pytest.raises(catalogue.CatalogueError, match="duplicate id"):
        catalogue.parse(GOOD + GOOD, "cat.toml")


def test_geometry_faults_reach_the_call_unvalidated():
    (entry,) = catalogue.parse(GOOD.replace("value = 0", "value = 1.5"))
    assert entry.faulty_conv().stride == (1.5, 1.5) and entry.base.stride == (2, 2)


CRASHING = GOOD.replace('id = "stride-zero"', 'id = "stride-three"').replace("value = 0", "value = 3") + '''
[[case]]
id = "empty-batch"
what = "batch 0"
fault = "batch"
value = 0
expect = "any"
why = "an edge the docs leave open"
''' + GOOD


@pytest.mark.parametrize("mutation, signal", [("abort-on-stride-3", "SIGABRT"), ("segfault-on-stride-3", "SIGSEGV")])
def test_the_errors_property_records_refusals_results_and_crashes(tmp_path, mutation, signal):
    cat = tmp_path / "catalogue.toml"
    cat.write_text(CRASHING)
    run = run_plugin(tmp_path, "-k", "error_behaviour", mutation=mutation, profile="dev",
                     env={"CONFORMANCE_ADAPTERS": "fake=tests.fake_portable_adapter",
                          "CONFORMANCE_ERROR_CATALOGUE": str(cat)})
    recs = {r["intent"]: r for r in records_mod.read(run.records)}
    assert set(recs) == {"stride-three", "empty-batch", "stride-zero"}, run.output[-3000:]
    assert recs["stride-three"]["kind"] == "crash" and signal in recs["stride-three"]["actual"]["error"]
    assert recs["stride-zero"]["verdict"] == "refused" and "error" in recs["stride-zero"]["actual"]
    assert recs["empty-batch"]["verdict"] in ("pass", "refused")
    assert run.returncode == 1 and "1 failed, 2 passed" in run.output, run.output[-3000:]
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "reports" / "records.schema.json").read_text())
    for r in recs.values():
        jsonschema.validate(r, schema)
    assert recs["stride-three"]["config"]["stride"] == [3, 3] and recs["stride-three"]["fault"]["value"] == [3, 3]


def _record(surface, case, actual, verdict="refused", status="pass", kind=None):
    return {"property": "errors", "final": True, "surface": surface, "version": "1", "verdict": verdict,
            "status": status, "kind": kind, "expected_divergence": None, "actual": actual,
            "fault": {"case": case, "fault": "stride", "value": [0, 0], "expect": "refusal"}}


def test_the_errors_view_shows_who_refuses_what_another_accepts(tmp_path):
    from conformance.views.errors_view import build, render_text
    rows = build([_record("a:x", "stride-zero", {"error": "ValueError: no"}),
                  _record("b:y", "stride-zero", {"shape": [1, 2, 3, 3], "found_crop": None}, "divergence",
                          "divergence", "error-vs-result"),
                  _record("c:z", "stride-zero", {"error": "killed by SIGABRT"}, "divergence", "divergence", "crash")])
    text = render_text(rows)
    assert "frameworks disagree" in text
    assert "refused: ValueError" in text and "returned 1x2x3x3" in text and "CRASH (killed by SIGABRT)" in text
    assert text.count("DIVERGES") == 2
    import subprocess
    import sys
    run = subprocess.run([sys.executable, "-m", "conformance", "errors", str(tmp_path / "none.jsonl")], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 2 and "no records file" in run.stderr
