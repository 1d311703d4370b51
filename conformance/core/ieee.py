"""IEEE 754 classes of an array's elements (finite, NaN, +Inf, -Inf), and the classes the reference gives: the
vocabulary of the nonfinite property and of the value models that predict NaN/Inf patterns."""

from __future__ import annotations

import numpy as np

from conformance.core import reference
from conformance.core.spec import Problem

CLASS_NAMES = ("finite", "nan", "+inf", "-inf")


def classes(a) -> np.ndarray:
    """0 finite, 1 NaN, 2 +Inf, 3 -Inf, per element."""
    a = np.asarray(a, np.float64)
    out = np.zeros(a.shape, np.int8)
    out[np.isnan(a)] = 1
    out[np.isposinf(a)] = 2
    out[np.isneginf(a)] = 3
    return out


def expected_classes(x, w, b, problem: Problem) -> np.ndarray:
    with np.errstate(invalid="ignore", over="ignore"):
        return classes(reference.conv_transpose(x, w, b, problem))
