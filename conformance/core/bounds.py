"""Per-element error bound for a transposed convolution computed in a floating-point dtype.

    |y - ref| <= g * u * ((|x|) (*) (|w|) + |b|) + tiny

(*) is the same transposed convolution on absolute values (so the bound follows the magnitude of the terms
actually summed into each element), u the dtype's unit roundoff, and g = 2 * (n + 2) with n the number of
products accumulated per output element (C_in/groups * prod(kernel), +1 for the bias). n + 2 is the classical
bound for recursive summation of n rounded products stored in the dtype (Higham, "Accuracy and Stability
of Numerical Algorithms", 2nd ed., eq. 3.5, gamma_n); the factor 2 allows blocked/reassociated sums and
one rounding of the output. The reference is computed in float64 on inputs already rounded to the dtype,
so input rounding is not charged to the framework. `tiny` absorbs underflow: n * the dtype's smallest normal.

Where a framework documents that it computes in another precision than the output dtype (`accumulate`: float32
sums for float16 outputs, or TensorFloat-32 for float32 convolutions on NVIDIA GPUs, where only 10 mantissa bits of
the inputs are read), the sum's term uses that precision's unit roundoff and one rounding of the result to the
output dtype is added:  g * u_acc * m + u_out * m + tiny.  `tfloat32` is that format (u = 2^-11, float32's range).
"""

from __future__ import annotations

import numpy as np

from conformance.core import reference
from conformance.core.spec import Problem

UNIT_ROUNDOFF = {"float16": 2.0 ** -11, "bfloat16": 2.0 ** -8, "float32": 2.0 ** -24, "float64": 2.0 ** -53,
                 "tfloat32": 2.0 ** -11}
SMALLEST_NORMAL = {"float16": 2.0 ** -14, "bfloat16": 2.0 ** -126, "float32": 2.0 ** -126, "float64": 2.0 ** -1022,
                   "tfloat32": 2.0 ** -126}


def accumulation_terms(problem: Problem) -> int:
    return problem.conv.terms_per_output + (1 if problem.conv.bias else 0)


def bound_from_magnitude(magnitude: np.ndarray, terms: int, dtype: str, accumulate: str | None = None) -> np.ndarray:
    """g * u * magnitude + tiny, with g = 2 * (terms + 2) and tiny = terms * the dtype's smallest normal. With an
    `accumulate` precision other than `dtype`: g * u_acc * magnitude + u_dtype * magnitude + tiny (module doc)."""
    if accumulate is None or accumulate == dtype:
        return 2.0 * (terms + 2) * UNIT_ROUNDOFF[dtype] * magnitude + terms * SMALLEST_NORMAL[dtype]
    return ((2.0 * (terms + 2) * UNIT_ROUNDOFF[accumulate] + UNIT_ROUNDOFF[dtype]) * magnitude
            + terms * max(SMALLEST_NORMAL[dtype], SMALLEST_NORMAL[accumulate]))


def error_bound(x, w, b, problem: Problem, dtype: str | None = None, accumulate: str | None = None) -> np.ndarray:
    """Per-element bound, same shape as the reference output. `dtype` overrides the problem's; `accumulate` is the
    precision the framework documents for the sums (module doc)."""
    magnitude = reference.conv_transpose(np.abs(np.asarray(x, np.float64)), np.abs(np.asarray(w, np.float64)),
                                         None if b is None else np.abs(np.asarray(b, np.float64)), problem)
    return bound_from_magnitude(magnitude, accumulation_terms(problem), dtype or problem.dtype, accumulate)


def error_ratio(actual: np.ndarray, expected: np.ndarray, bound: np.ndarray) -> float:
    """max |actual - expected| / bound (<= 1 passes); inf where actual is non-finite and expected is not."""
    if actual.size == 0:
        return 0.0
    a = np.asarray(actual, np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - expected)
    diff = np.where(np.isfinite(a) | ~np.isfinite(expected), diff, np.inf)
    diff = np.where(np.isnan(diff) & np.isnan(a) & np.isnan(expected), 0.0, diff)
    return float(np.max(diff / bound))
