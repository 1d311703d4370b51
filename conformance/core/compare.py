"""Compare one framework output with the reference: shape, crop (alignment) and values.

The documented window is checked first. If the values do not match there, nearby crops are searched on the
full reference, so a result that is the right numbers in the wrong place is reported as a `crop` divergence
with its shift (not as a wall of wrong values), and a wrong length as `shape` with the crop it matches.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from conformance.core import bounds, reference
from conformance.core.spec import Conv, Problem, Window

MAX_CANDIDATES = 4096


@dataclass(frozen=True)
class Comparison:
    kind: str                        # "pass", "shape", "crop", "value"
    expected: Window
    actual_shape: tuple[int, ...]
    ratio: float                     # max err/bound at the documented window (inf if the shape differs)
    found_crop: tuple[int, ...] | None = None   # a crop where the actual output matches, if not the documented one
    found_ratio: float | None = None
    # every crop at found_crop's distance from the documented one where the output matches too (a constant output,
    # zeros past the full result, matches several): a statement about the shift may name any of them
    found_crops: tuple[tuple[int, ...], ...] = ()

    @property
    def shift(self) -> tuple[int, ...] | None:
        if self.found_crop is None:
            return None
        return tuple(f - c for f, c in zip(self.found_crop, self.expected.crop))

    @property
    def shifts(self) -> tuple[tuple[int, ...], ...]:
        """The shifts of every equally near matching crop (found_crops), the first one first."""
        return tuple(tuple(f - c for f, c in zip(crop, self.expected.crop)) for crop in self.found_crops)

    def describe(self) -> str:
        shape = "x".join(map(str, self.actual_shape[2:]))
        text = f"shape (..., {shape}); err/bound at the documented crop = {self.ratio:.3g}"
        if self.found_crop is not None:
            text += (f"; matches the reference at crop={'x'.join(map(str, self.found_crop))} "
                     f"(shift {self.shift}, err/bound {self.found_ratio:.3g})")
        elif self.kind != "pass":
            text += "; no nearby crop matches either"
        return text


def _windows_ratio(actual, full, full_abs, b, b_abs, conv: Conv, window: Window, dtype: str,
                   accumulate: str | None = None) -> float:
    ref = reference.add_bias(reference.crop_window(full, window), b)
    mag = reference.add_bias(reference.crop_window(full_abs, window), b_abs)
    bound = bounds.bound_from_magnitude(mag, conv.terms_per_output + (1 if b is not None else 0), dtype, accumulate)
    return bounds.error_ratio(actual, ref, bound)


def _candidates(conv: Conv, center: tuple[int, ...], include_center: bool):
    radius = [min(max(kd, s) + 1, 8) for kd, s in zip(conv.effective_kernel, conv.stride)]
    while np.prod([2 * r + 1 for r in radius]) > MAX_CANDIDATES:
        radius = [max(1, r - 1) for r in radius]
    offsets = sorted(itertools.product(*(range(-r, r + 1) for r in radius)), key=lambda o: sum(map(abs, o)))
    for off in offsets:
        if any(off) or include_center:
            yield tuple(c + o for c, o in zip(center, off))


def compare(actual: np.ndarray, x, w, b, problem: Problem, accumulate: str | None = None) -> Comparison:
    """Classify `actual` (canonical layout) against the reference of `problem` (x, w, b rounded to its dtype).
    `accumulate`: the precision the framework documents for the sums, when not the dtype's (bounds module doc)."""
    conv, expected = problem.conv, problem.window
    dtype = problem.dtype
    actual = np.asarray(actual)
    full = reference.scatter_full(x, w, conv)
    full_abs = reference.scatter_full(np.abs(np.asarray(x, np.float64)), np.abs(np.asarray(w, np.float64)), conv)
    bb = np.asarray(b, np.float64) if (b is not None and conv.bias) else None
    b_abs = None if bb is None else np.abs(bb)
    spatial = tuple(actual.shape[2:])
    if actual.ndim != conv.rank + 2 or actual.shape[:2] != (conv.batch, conv.c_out):
        return Comparison("shape", expected, tuple(actual.shape), float("inf"))
    same_shape = spatial == expected.length
    ratio = (_windows_ratio(actual, full, full_abs, bb, b_abs, conv, expected, dtype, accumulate)
             if same_shape else float("inf"))
    if same_shape and ratio <= 1.0:
        return Comparison("pass", expected, tuple(actual.shape), ratio)
    if actual.size:
        # a wrong length is first tried at the documented crop (the window's start is right, its end is not)
        found, found_r, distance = [], None, None
        for crop in _candidates(conv, expected.crop, include_center=not same_shape):
            d = sum(abs(c - e) for c, e in zip(crop, expected.crop))
            if distance is not None and d > distance:
                break
            r = _windows_ratio(actual, full, full_abs, bb, b_abs, conv, Window(crop, spatial), dtype, accumulate)
            if r <= 1.0:
                found.append(crop)
                if distance is None:
                    distance, found_r = d, r
        if found:
            return Comparison("crop" if same_shape else "shape", expected, tuple(actual.shape), ratio, found[0],
                              found_r, tuple(found))
    return Comparison("value" if same_shape else "shape", expected, tuple(actual.shape), ratio)
