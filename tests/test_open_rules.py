"""Open edges of documented semantics (conformance.core.rules.Check(open=True)): where the docs' own formula reaches a
case they say nothing about, neither a result nor a refusal diverges; a refusal anywhere in the call still wins."""

from __future__ import annotations

import numpy as np

from conformance.core.rules import Case, Check, Rules, evaluate
from conformance.core.spec import Conv
from conformance.harness.check import Case as RunCase
from conformance.harness.check import _raised, classify_result, make_inputs
from conformance.harness.surface import documented

DOC = "https://example.org/op"
RULES = Rules(cases=(Case(("c = lo", "L = F - lo - hi"),
                          checks=(Check("lo >= 0", "pads are not negative"),
                                  Check("L >= 1", "the docs do not say what an empty output does", open=True))),),
              doc=DOC)


def conv(*sizes: int) -> Conv:
    rank = len(sizes)
    return Conv(tuple(sizes), (3,) * rank, (1,) * rank, (1,) * rank)


def test_a_failing_open_check_leaves_the_call_open_with_its_reason():
    got = evaluate(RULES, {"pads": [[2, 1]]}, conv(1))          # F = 3, L = 0
    assert got.crop is None and got.refusal == "" and "the docs do not say" in got.open
    doc = documented(RULES, {"pads": [[2, 1]]}, conv(1))
    assert doc.window is None and not doc.refused and doc.rule.startswith("open: ") and doc.doc == DOC


def test_a_refusal_in_any_dimension_wins_over_an_open_edge_in_another():
    got = evaluate(RULES, {"pads": [[2, 1], [-1, 0]]}, conv(1, 4))   # first: open (L = 0); second: refused
    assert got.refusal.startswith("pads are not negative") and got.open == ""


def test_a_call_without_open_edges_keeps_its_window():
    got = evaluate(RULES, {"pads": [[1, 0]]}, conv(4))            # F = 6, L = 5
    assert (got.crop, got.length, got.open) == ((1,), (5,), "")


def test_the_check_passes_either_outcome_of_an_open_call_and_records_what_came_out():
    problem = conv(1)
    doc = documented(RULES, {"pads": [[2, 1]]}, problem)
    case = RunCase(problem, {"pads": [[2, 1]]})
    x, w, b = make_inputs(problem, "float32", 0)
    returned = classify_result(doc, np.zeros((1, 1, 0), np.float32), case, x, w, b)
    assert returned.verdict == "pass" and returned.shape == (1, 1, 0) and "leave it open" in returned.detail
    raised = _raised(doc, "ValueError: empty", "ValueError: empty")
    assert raised.verdict == "refused" and raised.kind is None and "leave it open" in raised.detail
    # a refused call that returns is still a divergence
    refused = documented(RULES, {"pads": [[-1, 0]]}, problem)
    assert classify_result(refused, np.zeros((1, 1, 4), np.float32), case, x, w, b).verdict == "divergence"
