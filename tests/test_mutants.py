"""Mutation meta-tests: every deliberately wrong fake adapter (tests/fake_adapter.py, one surface each in
tests/mutant_adapter.py) must be killed by the ci profile, by the property and kind below, with nothing excused;
the correct fake must not be. One child pytest runs them all; `python -m tests.kill_table` prints the table.

Two entries of the run's expectations file (tests/kill_table.py, MISSTATED_ENTRIES) cover a mutant's bug with a
statement of another behaviour -- a wide value entry naming another wrong computation, and an entry over exactly the
refused calls naming the wrong exception: both mutants must still be reported NEW, the entries seen as covering the
case and diverging otherwise.
"""

from __future__ import annotations

import pytest

from conformance.harness import records as records_mod
from tests.kill_table import MISSTATED_ENTRIES, by_surface, describe_surface, kills, run_mutants, table
from tests.mutant_adapter import MUTANTS, surface_id

# mutant -> (the property that must kill it, the divergence kind it must report)
KILLS = {
    "crop-off-by-one": ("shapes", "crop"),
    "kernel-not-flipped": ("values", "value"),
    "output-padding-wrong-side": ("shapes", "crop"),
    "layout-transposed": ("values", "value"),
    "dilation-ignored": ("shapes", "shape"),
    "groups-mixed": ("values", "value"),
    "float64-as-float16": ("values", "value"),
    "swallow-refusal": ("refusals", "error-vs-result"),
    "refuse-valid": ("refusals", "error-vs-result"),
    "wrong-values": ("values", "value"),
    "short-output": ("shapes", "shape"),
}
# the eight of issue 3, part 3
ISSUE_MUTANTS = ("crop-off-by-one", "kernel-not-flipped", "output-padding-wrong-side", "layout-transposed",
                 "dilation-ignored", "groups-mixed", "float64-as-float16", "swallow-refusal")


@pytest.fixture(scope="module")
def mutant_run(tmp_path_factory):
    run = run_mutants(tmp_path_factory.mktemp("mutants"), profile="ci")
    assert run.records.exists(), f"the mutant run wrote no records:\n{run.output[-5000:]}"
    return run, by_surface(records_mod.read(run.records))


def test_every_mutant_has_an_expected_killer():
    assert set(ISSUE_MUTANTS) <= set(KILLS)
    assert set(KILLS) == set(MUTANTS) - {"none"}, "tests/mutant_adapter.py and KILLS list different mutants"


@pytest.mark.parametrize("mutant", list(KILLS))
def test_mutant_is_killed_in_ci(mutant_run, mutant):
    run, grouped = mutant_run
    prop, kind = KILLS[mutant]
    recs = grouped.get(surface_id(mutant), [])
    killing = [r for r in recs if r["status"] == "divergence" and r["property"] == prop and r["kind"] == kind]
    assert killing, (f"mutant {mutant!r} was expected to be killed by property {prop!r} with a {kind!r} "
                     f"divergence; its records show: {describe_surface(recs)}; killed by: {kills(recs) or 'nothing'}")
    item = f"FAILED suites/test_conformance.py::test_{prop}[{surface_id(mutant)}@cpu]"
    assert item in run.output, f"mutant {mutant!r}: records show a {prop}/{kind} kill but pytest did not report " \
                               f"{item!r}:\n{run.output[-3000:]}"


@pytest.mark.parametrize("mutant, entry, prop, kind", [
    ("wrong-values", "wide-value-entry-with-another-model", "values", "value"),
    ("refuse-valid", "refusal-entry-naming-the-wrong-exception", "refusals", "error-vs-result"),
])
def test_an_entry_that_states_another_behaviour_excuses_nothing(mutant_run, mutant, entry, prop, kind):
    run, grouped = mutant_run
    assert f'id = "{entry}"' in MISSTATED_ENTRIES
    recs = grouped.get(surface_id(mutant), [])
    inside = [r for r in recs if r["property"] == prop and r["kind"] == kind and entry in r["expectations_matched"]]
    assert inside, f"{entry!r} covered no {prop}/{kind} case of {mutant!r}: {describe_surface(recs)}"
    assert all(r["status"] == "divergence" and r["entries"][entry] == "otherwise" for r in inside), [
        (r["status"], r["entries"]) for r in inside][:5]
    assert not any(r["status"] == "expected" for r in recs), describe_surface(recs)
    assert f"NEW inside entry {entry!r}" in run.output, run.output[-3000:]


def test_correct_fake_is_not_killed(mutant_run):
    run, grouped = mutant_run
    recs = grouped.get(surface_id("none"), [])
    assert {r["property"] for r in recs} == {"shapes", "values", "refusals", "robustness"}, describe_surface(recs)
    bad = [r for r in recs if r["status"] != "pass"]
    assert not bad, f"the correct fake was killed: {describe_surface(recs)}; first: {bad[0]['detail']}"
    failed = [ln for ln in run.output.splitlines() if ln.startswith("FAILED") and f"[{surface_id('none')}@" in ln]
    assert not failed, failed
    assert run.returncode == 1, run.output[-3000:]   # the mutants fail, nothing else goes wrong


def test_kill_table_has_a_row_per_mutant(mutant_run):
    _, grouped = mutant_run
    text = table([r for recs in grouped.values() for r in recs], KILLS)
    rows = text.splitlines()[2:]
    assert len(rows) == len(MUTANTS), text
    for mutant, row in zip(MUTANTS, rows):
        prop, kind = KILLS.get(mutant, (None, None))
        assert row.startswith(f"| {mutant} | "), text
        assert (f"**{prop}: " in row and kind in row) if prop else "not killed" in row, text
