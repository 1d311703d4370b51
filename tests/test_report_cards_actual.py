"""Every card kind has an honest `actual` line: what the call did, from its record, never a clean-looking result for
a wrong one and never a death that did not happen (a nonfinite card once said "the process making the call died").
One synthetic record per divergence kind, with the `actual` and `behaviour` fields the judge writes for it."""

from __future__ import annotations

import pytest

from reports import cards
from tests.report_records import crash, crop_shift, expected_refusal_returned, record

DIVERGENCE = {"verdict": "divergence", "status": "divergence", "err_over_bound": None}
SHAPE = {"shape": [1, 1, 8], "found_crop": None}

CASES = [
    # (kind, record, words the actual line must hold, words it must not)
    ("crash", crash(), ["process killed by SIGABRT"], []),
    ("crash-without-error", crash(actual={}), ["the process making the call died"], []),
    ("error-vs-result-returned", expected_refusal_returned(), ["shape (1, 1, 9)"], ["died", "raised"]),
    ("error-vs-result-raised", record(**DIVERGENCE, kind="error-vs-result", actual={"error": "ValueError: no"},
                                      behaviour={"outcome": "raised", "exception": "ValueError", "message": "no"}),
     ["raised ValueError: no"], ["died"]),
    ("shape", record(**DIVERGENCE, kind="shape", actual={"shape": [1, 1, 9], "found_crop": None},
                     behaviour={"outcome": "shape", "shape": [1, 1, 9], "length_delta": [1]}),
     ["shape (1, 1, 9)"], ["died"]),
    ("crop", crop_shift(2), ["shape (1, 1, 8)", "crop=3", "shifted by [2]"], ["died"]),
    ("value", record(**DIVERGENCE, kind="value", actual=SHAPE,
                     behaviour={"outcome": "value", "err_over_bound": 40.0, "wrong_elements": 3,
                                "wrong_fraction": 0.375, "models": ["kernel-channels-swapped"]}),
     ["shape (1, 1, 8)", "values beyond the bound", "kernel-channels-swapped"], ["died"]),
    ("nonfinite", record(**DIVERGENCE, property="nonfinite", kind="nonfinite", actual=SHAPE,
                         behaviour={"outcome": "nonfinite", "wrong": 2, "classes": ["nan->finite"]}),
     ["shape (1, 1, 8)", "2 elements of another IEEE class"], ["died", "no result"]),
    ("nonfinite-without-shape", record(**DIVERGENCE, property="nonfinite", kind="nonfinite", actual={},
                                       behaviour={"outcome": "nonfinite", "wrong": 2, "classes": ["nan->finite"]}),
     ["2 elements of another IEEE class"], ["died", "no result"]),
    ("gradient", record(**DIVERGENCE, property="gradients", kind="gradient", actual={},
                        behaviour={"outcome": "gradient", "wrong": ["gx"], "missing": ["gb"]}),
     ["gradients: wrong gx; missing gb"], ["died", "no result"]),
    ("mode", record(**DIVERGENCE, property="modes", kind="mode", actual={},
                    behaviour={"outcome": "disagree", "differs_in": "values", "first": "eager: ok",
                               "second": "jit: off by 1e-3"}),
     ["differ in values", "jit: off by 1e-3"], ["died", "no result"]),
    ("nondeterminism", record(**DIVERGENCE, property="determinism", kind="nondeterminism", actual={},
                              behaviour={"outcome": "nondeterministic", "difference": "2 of 8 elements differ"}),
     ["2 of 8 elements differ"], ["died", "no result"]),
]


@pytest.mark.parametrize("name, rec, must, must_not", CASES, ids=[c[0] for c in CASES])
def test_each_card_kind_says_what_the_call_did(name, rec, must, must_not):
    card, = cards.build([rec])
    text = card.actual_text
    for words in must:
        assert words in text, f"{name}: {text!r} lacks {words!r}"
    for words in must_not:
        assert words not in text, f"{name}: {text!r} says {words!r}"
