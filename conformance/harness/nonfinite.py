"""NaN and Inf propagation: where the inputs hold NaN or +-Inf, which outputs are non-finite, and how.

The reference is the canonical scatter in float64, which multiplies only real input elements by real taps
and adds the products (IEEE 754: NaN * w = NaN, +-Inf * w = +-Inf by sign, Inf + -Inf = NaN, NaN + anything =
NaN). So an output element is NaN or +-Inf exactly when the products that land on it (and its bias) make it so.
A framework that computes the transpose as a correlation over a zero-stuffed input multiplies the stuffed
zeros by the kernel too, and 0 * Inf = NaN spreads an Inf in the kernel to outputs no real product reaches:
that is the kind of difference this property records (kind "nonfinite"), element class by element class.
Finite outputs are not value-checked here (the values property does that).
"""

from __future__ import annotations

import numpy as np

from conformance.core import models
from conformance.core.ieee import CLASS_NAMES, classes, expected_classes  # noqa: F401 - this property's vocabulary
from conformance.core.spec import Problem
from conformance.harness import behaviour
from conformance.harness.check import Case, Outcome, classify_result, returned_despite_refusal
from conformance.harness.surface import Documented


def classify_nonfinite(documented: Documented, y, case: Case, x, w, b) -> Outcome:
    """check.run_case's `on_result` for this property: compare the class of every output element."""
    y = np.asarray(y)
    if documented.refused:
        return returned_despite_refusal(documented, y, case, x, w, b)
    if documented.window is None:        # an edge the docs leave open: no window to compare classes at
        return classify_result(documented, y, case, x, w, b)
    problem = Problem(case.conv, documented.window, case.dtype)
    shape = (case.conv.batch, case.conv.c_out, *documented.window.length)
    if y.shape != shape:
        text = f"shape {y.shape}, documented {shape} (the shapes property judges this)"
        delta = [a - e for a, e in zip(y.shape[2:], shape[2:])] if y.ndim == len(shape) else None
        return Outcome("divergence", "shape", documented, detail=text, observed=text,
                       behaviour={"outcome": "shape", "shape": list(y.shape), "length_delta": delta,
                                  "found_crop": None, "shift": None})
    want, got = expected_classes(x, w, b, problem), classes(y)
    wrong = np.argwhere(want != got)
    summary = (f"{int((got != 0).sum())} non-finite outputs, the reference has {int((want != 0).sum())}")
    if not len(wrong):
        return Outcome("pass", None, documented, observed=summary)
    at = tuple(int(v) for v in wrong[0])
    detail = (f"{len(wrong)} of {want.size} outputs differ in class from the IEEE scatter: first at index {at}, "
              f"reference {CLASS_NAMES[want[at]]}, framework {CLASS_NAMES[got[at]]} ({summary})")
    pairs = {f"{CLASS_NAMES[want[tuple(i)]]}->{CLASS_NAMES[got[tuple(i)]]}" for i in wrong}
    observed = behaviour.nonfinite(pairs, len(wrong), models.matching_classes(y, x, w, b, problem))
    return Outcome("divergence", "nonfinite", documented, detail=detail, observed=detail, behaviour=observed)
