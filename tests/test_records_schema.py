"""reports/records.schema.json documents the records exactly: what the judge writes validates, and the schema
rejects what a reader could not use."""

from __future__ import annotations

import copy
import json

import pytest

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the test dependency group")

from conformance.harness import records as records_mod  # noqa: E402
from tests.plugin_runs import ROOT, run_plugin  # noqa: E402

SCHEMA = json.loads((ROOT / "reports" / "records.schema.json").read_text())


@pytest.fixture(scope="module")
def fake_records(tmp_path_factory):
    """Records of a dev-profile run on the fake with portable spellings and one mutation (so divergences,
    refusals, expected-free failures and portable records all occur)."""
    out = []
    for mutation in ("none", "crop-off-by-one", "swallow-refusal"):
        tmp = tmp_path_factory.mktemp(mutation)
        run = run_plugin(tmp, mutation=mutation, profile="dev",
                         env={"CONFORMANCE_ADAPTERS": "fake=tests.fake_portable_adapter"})
        out.extend(records_mod.read(run.records))
    return out


def test_every_record_written_validates_against_the_schema(fake_records):
    validator = jsonschema.Draft202012Validator(SCHEMA)
    assert {r["property"] for r in fake_records} >= {"shapes", "values", "refusals", "portable"}
    assert {r["status"] for r in fake_records} >= {"pass", "divergence"}
    for r in fake_records:
        errors = sorted(validator.iter_errors(r), key=str)
        assert not errors, f"{errors[0].message} at {list(errors[0].absolute_path)} in\n{json.dumps(r)[:2000]}"


def test_the_schema_requires_every_field_the_judge_writes(fake_records):
    written = set().union(*(r.keys() for r in fake_records))
    assert written == set(SCHEMA["required"]) == set(SCHEMA["properties"]), (
        written ^ set(SCHEMA["required"]))


@pytest.mark.parametrize("damage", [
    lambda r: r.pop("reproducer"),
    lambda r: r.update(kind="wobble"),
    lambda r: r.update(schema=2),
    lambda r: r["config"].update(stride=[0]),
    lambda r: r.update(expected={"crop": [0]}),
    lambda r: r.update(colour="red"),
], ids=["missing-field", "unknown-kind", "other-schema-version", "bad-stride", "half-a-window", "unknown-field"])
def test_the_schema_rejects_damaged_records(fake_records, damage):
    record = copy.deepcopy(fake_records[0])
    damage(record)
    assert not jsonschema.Draft202012Validator(SCHEMA).is_valid(record)


def test_divergence_records_carry_a_checked_reproducer(fake_records):
    diverged = [r for r in fake_records if r["verdict"] == "divergence"]
    assert diverged
    for r in diverged[:5]:
        assert "def reference(" in r["reproducer"] and "assert ok, verdict" in r["reproducer"] or \
            "the docs refuse this call" in r["reproducer"], r["reproducer"]
