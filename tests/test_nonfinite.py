"""NaN/Inf propagation: the IEEE classes of the reference's outputs, worked by hand, and the property on the
fake adapter, whose zero-stuffing correlation spreads a kernel Inf through the stuffed zeros (0 * Inf = NaN)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conformance.core.spec import Conv, Problem, Window
from conformance.harness import records as records_mod
from conformance.harness.nonfinite import classes, expected_classes
from tests.plugin_runs import ROOT, run_plugin

INF, NAN = math.inf, math.nan


def full_problem(i, k, s):
    conv = Conv((i,), (k,), (s,), (1,))
    return Problem(conv, Window((0,), conv.full_size), "float64")


@pytest.mark.parametrize("x, w, s, want", [
    ([1.0, INF], [1.0, -1.0], 2, [0, 0, 2, 3]),      # x1*w: +inf at 2, -inf at 3; x0 untouched
    ([1.0, INF], [1.0, -1.0], 1, [0, 2, 3]),         # -1 + inf = +inf at 1
    ([INF, INF], [1.0, -1.0], 1, [2, 1, 3]),         # -inf + inf = NaN at 1
    ([1.0, 2.0], [NAN, 1.0], 2, [1, 0, 1, 0]),       # the NaN tap reaches 0 and 2 only: no stuffed zero is multiplied
])
def test_ieee_classes_of_the_scatter_by_hand(x, w, s, want):
    problem = full_problem(len(x), len(w), s)
    got = expected_classes(np.array([[x]]), np.array([[w]]), None, problem)
    assert got.ravel().tolist() == want


def test_classes_names_every_kind():
    assert classes([0.0, NAN, INF, -INF]).tolist() == [0, 1, 2, 3]


def test_the_property_catches_a_zero_stuffing_implementation_and_an_entry_excuses_it(tmp_path):
    empty = tmp_path / "none.toml"
    empty.write_text("")
    run = run_plugin(tmp_path, "-k", "nonfinite", "--expectations", str(empty), nonfinite=True)
    assert run.returncode == 1 and "nonfinite divergence on fake:fake.conv_transpose" in run.output, run.output
    final = [r for r in records_mod.read(run.records) if r["status"] == "divergence" and r["final"]]
    # the fake's stuffed zeros (stride) and dilated-kernel zeros (dilation) meet the Inf: NaN where no real product is
    assert final and all("reference finite, framework nan" in r["detail"] for r in final), final[:1]

    entry = tmp_path / "entry.toml"
    entry.write_text('[[divergence]]\nid = "fake-zero-stuffing"\nsurface = "fake:*"\n'
                     'when = "len(poison) > 0"\nkind = "nonfinite"\nreason = "0 * Inf"\n'
                     'behaviour = { classes = ["finite->nan", "+inf->nan", "-inf->nan"], '
                     'model = "zero-stuffed-correlation-dense-kernel" }\n')
    (tmp_path / "second").mkdir()
    run = run_plugin(tmp_path / "second", "-k", "nonfinite", "--expectations", str(entry), nonfinite=True)
    assert run.returncode == 0, run.output
    recs = records_mod.read(run.records)
    assert {r["status"] for r in recs} >= {"pass", "expected"}
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "reports" / "records.schema.json").read_text())
    for r in recs:                                   # poisoned configs are part of the documented record format
        jsonschema.validate(r, schema)
