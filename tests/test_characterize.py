"""Characterization (conformance.harness.characterize): probing one parameter at a time around a divergence finds the
parameters it depends on and where the boundary lies, on fakes whose bug is known by construction."""

from __future__ import annotations

import dataclasses
import os

import pytest

from conformance.core.spec import Conv
from conformance.harness import characterize
from conformance.harness.check import Case, run_case
from tests.fake_adapter import DOC, FakeSurface, fake_call
from tests.report_records import record


def fake(mutation: str) -> FakeSurface:
    return FakeSurface(framework="fake", name=f"mutant/{mutation}", doc=DOC, groups=True, bias=True,
                       extra={"mutation": mutation}, call=fake_call)


def drawn_case(surface, conv: Conv, padding: list[int], output_padding: list[int], dtype="float64") -> Case:
    log = [*(("padding", "integer", (0, d.kd), p) for d, p in zip(conv.dims(), padding)),
           *(("output_padding", "integer", (0, d.s), op) for d, op in zip(conv.dims(), output_padding))]
    drawer = characterize.ReplayDrawer(log)
    params = surface.draw_params(drawer, conv)
    assert params == {"padding": padding, "output_padding": output_padding}
    return Case(conv, params, dtype, "cpu", seed=1, draws=tuple(log))


def test_the_replay_drawer_keeps_offsets_and_overrides_one_draw():
    log = [("size", "integer", (3, 9), 5), ("mode", "choice", ("a", "b"), "b"), ("flag", "boolean", (), True)]
    d = characterize.ReplayDrawer(log)
    assert (d.integer(10, 20, "size"), d.choice(["a", "b"], "mode"), d.boolean("flag")) == (12, "b", True)
    d = characterize.ReplayDrawer(log, override=(1, "a"))
    assert (d.integer(3, 9, "size"), d.choice(["a", "b"], "mode"), d.boolean("flag")) == (5, "a", True)
    d = characterize.ReplayDrawer(log)
    assert d.integer(0, 1, "size") == 1 and d.choice(["c"], "mode") == "c" and d.boolean("other") is False


def test_a_refusal_on_stride_3_depends_on_the_stride_only():
    surface = fake("refuse-valid")
    conv = Conv((3, 2), (2, 3), (3, 1), (1, 1), batch=2, c_in=2, c_out=2, bias=True)
    case = drawn_case(surface, conv, [1, 0], [0, 0])
    outcome = run_case(surface, case)
    assert outcome.kind == "error-vs-result", outcome
    got = characterize.Characterizer().characterize("refusals", surface, "0", case, outcome, None,
                                                    lambda c: run_case(surface, c), "divergence")
    params = got["parameters"]
    assert params["stride[0]"]["condition"] == "stride[0] >= 3 and stride[0] <= 3", params["stride[0]"]
    assert params["stride[1]"]["condition"] is None      # the shrunk case keeps 3 in dimension 0 only
    for independent in ("kernel", "in_size", "batch", "c_in", "c_out", "bias", "dtype"):
        assert independent in got["summary"].split("independent of ")[1], got["summary"]
    assert got["shrunk"]["config"]["stride"][0] == 3 and got["shrunk"]["config"]["kernel"] == (1, 1)
    assert got["probes"] > 10


def test_a_crop_off_by_one_is_independent_of_everything_but_where_it_shows():
    surface = fake("crop-off-by-one")
    conv = Conv((4,), (3,), (2,), (1,), batch=1, c_in=1, c_out=1)
    case = drawn_case(surface, conv, [1], [1])
    outcome = run_case(surface, case)
    assert outcome.kind == "crop" and outcome.behaviour["shift"] == [1], outcome
    got = characterize.Characterizer().characterize("shapes", surface, "0", case, outcome, None,
                                                    lambda c: run_case(surface, c), "divergence")
    independent = got["summary"].split("independent of ")[1]
    for name in ("stride", "dilation", "batch", "c_in", "c_out", "dtype"):
        assert name in independent, got["summary"]


def test_each_surface_and_entry_is_characterized_once_and_the_total_time_is_bounded():
    surface = fake("refuse-valid")
    conv = Conv((3,), (2,), (3,), (1,))
    case = drawn_case(surface, conv, [0], [0])
    outcome = run_case(surface, case)
    ch = characterize.Characterizer(max_total_seconds=0.0)
    probe = lambda c: run_case(surface, c)  # noqa: E731
    assert ch.characterize("refusals", surface, "0", case, outcome, None, probe, "divergence") is not None
    assert ch.characterize("refusals", surface, "0", dataclasses.replace(case, seed=2), outcome, None, probe,
                           "divergence") is None
    other = Case(conv, case.params, "float64", "cpu", seed=3, draws=case.draws)
    assert ch.characterize("shapes", surface, "0", other, outcome, None, probe, "divergence") is None
    assert ch.skipped, "the second characterization was over the time budget: it says so"


def test_a_proposed_predicate_is_validated_against_records():
    recs = [record(config={**record()["config"], "stride": [s]}, verdict="divergence" if s == 3 else "pass")
            for s in (1, 2, 3, 3, 4)]
    v = characterize.validate("stride[0] == 3", recs, "fw:fw.conv_transpose",
                              lambda r: r["verdict"] == "divergence")
    assert (v["inside"], v["showing"], v["both"], v["precision"], v["recall"]) == (2, 2, 2, 1.0, 1.0)
    v = characterize.validate("stride[0] >= 2", recs, "fw:fw.conv_transpose", lambda r: r["verdict"] == "divergence")
    assert v["precision"] == 0.5 and v["recall"] == 1.0     # strides 2, 3, 3, 4 inside; the two 3s diverge


@pytest.mark.skipif(os.environ.get("FAKE_MUTATION") not in (None, "none"), reason="uses the fakes' own mutations")
def test_the_condition_text_of_kept_and_lost_values():
    assert characterize.condition("stride[0]", [2, 3, 4], [1]) == "stride[0] >= 2"
    assert characterize.condition("k", [1, 2], [3, 4]) == "k <= 2"
    assert characterize.condition("dtype", ["float64"], ["float32"]) == "dtype == 'float64'"
    assert characterize.condition("padding", ["SAME", "VALID"], [[[1, 1]]]) == "padding in ('SAME', 'VALID')"
    assert characterize.condition("k", [1, 2], []) is None
