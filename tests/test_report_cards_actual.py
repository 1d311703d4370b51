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


def _abort(key: str, message: str, **over) -> dict:
    stderr = f"F0000 00:00:1.5 42 ops.cc:610] Check failed: {message}\nFatal Python error: Aborted"
    return crash(**{"status": "divergence", "expected_divergence": None, "expectations_matched": [], "entries": {},
                    "property": "robustness", "final": True,
                    "fault": {"case": "strides:first-entry-huge", "fault": "strides", "value": [2 ** 31, 1],
                              "expect": "any"},
                    "behaviour": {"outcome": "crash", "signal": "SIGABRT", "stderr": stderr, "key": key}, **over})


def test_one_card_per_crash_signature_with_its_fault_signature_and_fresh_process_check():
    key_a = "SIGABRT: ops.cc] Check failed: Dimension N must be >= N"
    fresh = {"outcome": "crash", "signal": "SIGABRT", "key": key_a, "same_signature": True, "data_limit": 2 ** 30}
    records = [_abort(key_a, "Dimension -2147483648 must be >= 0", seed=1, reproduced=fresh),
               _abort(key_a, "Dimension -4294967296 must be >= 0", seed=2),       # the same bug, other numbers
               _abort("SIGABRT: ops.cc] Check failed: index >= N", "index >= 0", seed=3)]
    by_key = {c.crash_key: c for c in cards.build(records)}
    assert set(by_key) == {key_a, "SIGABRT: ops.cc] Check failed: index >= N"}
    card = by_key[key_a]
    assert card.records == 2 and card.signature.cls == key_a
    assert card.fault_text == "strides:first-entry-huge (strides = [2147483648, 1])"
    assert card.fresh_text == "reproduced in a fresh process, data segment capped at 1 GiB: SIGABRT, the same signature"
    assert "not checked" in by_key["SIGABRT: ops.cc] Check failed: index >= N"].fresh_text


def test_a_crash_that_needs_the_worker_history_says_so():
    fresh = {"outcome": "returned", "signal": None, "key": None, "same_signature": False, "data_limit": None}
    card, = cards.build([_abort("SIGABRT: k", "k", reproduced=fresh)])
    assert card.fresh_text == ("the reproducer returned in a fresh process: the death needs what ran before it in the "
                               "worker")
