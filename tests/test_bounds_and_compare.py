"""The error bound catches a wrong value and accepts rounding; compare() tells shape, crop and value apart."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.core import bounds, reference
from conformance.core.compare import compare
from conformance.core.spec import Conv, Problem, Window
from tests.strategies import arrays_for, small_convs

CONV = Conv((4, 3), (3, 2), (2, 1), (1, 2), batch=2, c_in=4, c_out=6, groups=2, bias=True)
FULL = CONV.full_size                     # (9, 5)
WINDOW = Window((1, 0), (FULL[0] - 2, FULL[1]))


def _inputs(dtype: str, seed: int = 3):
    x, w, b = arrays_for(CONV, seed)
    return x.astype(dtype), w.astype(dtype), b.astype(dtype)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_a_correctly_rounded_result_is_within_the_bound(dtype):
    x, w, b = _inputs(dtype)
    problem = Problem(CONV, WINDOW, dtype)
    exact = reference.conv_transpose(x, w, b, problem)
    rounded = exact.astype(dtype)             # the best any implementation in `dtype` can do
    ratio = bounds.error_ratio(rounded, exact, bounds.error_bound(x, w, b, problem))
    assert ratio <= 1.0 / (2 * (CONV.terms_per_output + 3)) + 1e-12, ratio


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_one_wrong_element_is_caught_and_reported_as_its_ratio(dtype):
    x, w, b = _inputs(dtype)
    problem = Problem(CONV, WINDOW, dtype)
    exact = reference.conv_transpose(x, w, b, problem)
    bound = bounds.error_bound(x, w, b, problem)
    wrong = exact.copy()
    wrong[1, 3, 2, 1] += 3 * bound[1, 3, 2, 1]
    assert bounds.error_ratio(wrong, exact, bound) == pytest.approx(3.0, rel=0.02)
    wrong[0, 0, 0, 0] = np.nan
    assert bounds.error_ratio(wrong, exact, bound) == np.inf


def test_float16_bound_is_wider_than_float32():
    x, w, b = _inputs("float16")
    p16, p32 = Problem(CONV, WINDOW, "float16"), Problem(CONV, WINDOW, "float32")
    assert np.all(bounds.error_bound(x, w, b, p16) > 1000 * bounds.error_bound(x, w, b, p32))


def test_float32_computation_passes_float16_error_fails():
    """A float32 implementation (NumPy in float32) passes the float32 bound; rounding its result to
    float16 (a silent downcast) fails it by a wide margin."""
    x, w, b = _inputs("float32")
    problem = Problem(CONV, WINDOW, "float32")
    full32 = reference.scatter_full(x, w, CONV).astype(np.float32)
    y32 = reference.add_bias(reference.crop_window(full32, WINDOW), b).astype(np.float32)
    assert compare(y32, x, w, b, problem).kind == "pass"
    downcast = compare(y32.astype(np.float16), x, w, b, problem)
    assert downcast.kind == "value" and downcast.ratio > 10, downcast


def test_compare_finds_a_shifted_crop():
    x, w, b = _inputs("float64")
    documented = Problem(CONV, WINDOW, "float64")
    shifted = reference.conv_transpose(x, w, b, Problem(CONV, Window((2, 0), WINDOW.length), "float64"))
    result = compare(shifted, x, w, b, documented)
    assert result.kind == "crop" and result.found_crop == (2, 0) and result.shift == (1, 0), result
    assert "shift (1, 0)" in result.describe()


def test_compare_reports_a_wrong_length_with_the_crop_it_matches():
    x, w, b = _inputs("float64")
    documented = Problem(CONV, WINDOW, "float64")
    longer = reference.conv_transpose(x, w, b, Problem(CONV, Window((1, 0), (FULL[0] - 1, FULL[1])), "float64"))
    result = compare(longer, x, w, b, documented)
    assert result.kind == "shape" and result.found_crop == (1, 0), result


def test_compare_reports_wrong_channels_as_shape():
    x, w, b = _inputs("float64")
    result = compare(np.zeros((2, 5, *WINDOW.length)), x, w, b, Problem(CONV, WINDOW, "float64"))
    assert result.kind == "shape"


def test_compare_reports_garbage_as_value():
    x, w, b = _inputs("float64")
    garbage = np.random.default_rng(0).standard_normal((2, 6, *WINDOW.length))
    result = compare(garbage, x, w, b, Problem(CONV, WINDOW, "float64"))
    assert result.kind == "value" and result.found_crop is None and "no nearby crop" in result.describe()


def test_compare_spots_a_flipped_kernel():
    x, w, b = _inputs("float64")
    problem = Problem(CONV, WINDOW, "float64")
    flipped = reference.conv_transpose(x, np.flip(w, (2, 3)), b, problem)
    assert compare(flipped, x, w, b, problem).kind != "pass"


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(conv=small_convs(), seed=st.integers(0, 1000), data=st.data())
def test_compare_passes_the_reference_itself_at_any_window(conv, seed, data):
    window = Window(tuple(data.draw(st.integers(-2, f)) for f in conv.full_size),
                    tuple(data.draw(st.integers(0, f + 2)) for f in conv.full_size))
    x, w, b = (a.astype("float32") if a is not None else None for a in arrays_for(conv, seed))
    problem = Problem(conv, window, "float32")
    y = reference.conv_transpose(x, w, b, problem).astype("float32")
    assert compare(y, x, w, b, problem).kind == "pass"
