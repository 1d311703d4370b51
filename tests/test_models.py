"""The named wrong computations (conformance.core.models): each is the reference on finite inputs where it claims to be
the same computation, each differs from it exactly where its docstring says, and the matchers find them."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.core import models, reference
from conformance.core.spec import Conv, Problem, Window
from conformance.harness.nonfinite import classes
from tests.fake_adapter import fake_conv_transpose, to_framework_kernel
from tests.strategies import arrays_for, problems


@settings(max_examples=150, deadline=None)
@given(problem=problems(), seed=st.integers(0, 2 ** 16))
def test_the_zero_stuffed_correlations_equal_the_reference_on_finite_inputs(problem, seed):
    x, w, b = arrays_for(problem.conv, seed)
    ref = reference.conv_transpose(x, w, b, problem)
    for name in ("zero-stuffed-correlation", "zero-stuffed-correlation-dense-kernel"):
        np.testing.assert_allclose(models.MODELS[name](x, w, b, problem), ref, rtol=1e-12, atol=1e-12,
                                   err_msg=f"{name} on {problem}")


def test_swapped_channels_is_the_reference_with_the_transposed_kernel():
    conv = Conv((4,), (3,), (2,), (1,), c_in=3, c_out=3, bias=True)
    problem = Problem(conv, Window((1,), (7,)), "float64")
    x, w, b = arrays_for(conv, 3)
    got = models.kernel_channels_swapped(x, w, b, problem)
    np.testing.assert_allclose(got, reference.conv_transpose(x, w.transpose(1, 0, 2), b, problem))
    matched = models.matching_values(got, x, w, b, problem)
    # on finite inputs every computation equals the reference: each one on the swapped kernel matches, none other
    assert "kernel-channels-swapped" in matched and all(m.startswith("kernel-channels-swapped") for m in matched)
    assert models.get("kernel-channels-swapped+zero-stuffed-correlation")(x, w, b, problem) is not None
    assert models.kernel_channels_swapped(x, w, b, Problem(Conv((4,), (3,), (2,), (1,), c_in=3, c_out=2),
                                                           Window((1,), (7,)))) is None


def test_bias_on_the_last_axis_applies_only_where_the_broadcast_works():
    conv = Conv((2,), (1,), (2,), (1,), c_in=1, c_out=2, bias=True)
    problem = Problem(conv, Window((0,), (2,)), "float64")
    x, w, b = np.array([[[1.0, 0.0]]]), np.array([[[10.0], [20.0]]]), np.array([0.5, 0.25])
    # the adapter's ten-line check of keras-tensorflow-channels-first-bias-on-length-axis, by hand
    np.testing.assert_allclose(models.bias_on_last_spatial_axis(x, w, b, problem), [[[10.5, 0.25], [20.5, 0.25]]])
    assert models.bias_on_last_spatial_axis(x, w, b, Problem(conv, Window((0,), (3,)))) is None


def test_bias_dropped_is_the_convolution_alone_and_needs_a_bias():
    conv = Conv((2,), (1,), (2,), (1,), c_in=1, c_out=2, bias=True)
    problem = Problem(conv, Window((0,), (3,)), "float64")
    x, w, b = np.array([[[1.0, 2.0]]]), np.array([[[10.0], [20.0]]]), np.array([0.5, 0.25])
    # by hand: a 1-tap kernel at stride 2 puts x[0] * w at 0, x[1] * w at 2, nothing at 1; no bias anywhere
    np.testing.assert_allclose(models.bias_dropped(x, w, b, problem), [[[10.0, 0.0, 20.0], [20.0, 0.0, 40.0]]])
    assert "bias-dropped" in models.matching_values(np.array([[[10.0, 0.0, 20.0], [20.0, 0.0, 40.0]]]), x, w, b,
                                                    problem)
    assert "bias-dropped" not in models.matching_values(reference.conv_transpose(x, w, b, problem), x, w, b, problem)
    assert models.bias_dropped(x, w, None, Problem(Conv((2,), (1,), (2,), (1,), c_in=1, c_out=2), Window((0,), (3,)))) \
        is None


def test_the_class_pattern_of_a_zero_stuffing_implementation_is_matched_with_an_inf_tap():
    conv = Conv((3,), (2,), (2,), (1,), c_in=1, c_out=1)
    problem = Problem(conv, Window((0,), (conv.full_size[0],)), "float64")
    x, w, _ = arrays_for(conv, 1)
    w = w.copy()
    w.flat[1] = math.inf
    # the fake adapter computes exactly such a correlation (tests/fake_adapter.py)
    y = fake_conv_transpose(x, w, None, conv.stride, [0], [0], conv.dilation, 1)
    ref = reference.conv_transpose(x, w, None, problem)
    assert not np.array_equal(classes(y), classes(ref)), \
        "the stuffed zeros meet the Inf: NaN where the scatter has none"
    assert "zero-stuffed-correlation" in models.matching_classes(y, x, w, None, problem)
    assert to_framework_kernel(w).shape == (2, 1, 1)


def test_a_dense_dilated_kernel_spreads_a_nan_input_through_its_holes():
    conv = Conv((3,), (2,), (1,), (2,), c_in=1, c_out=1)
    problem = Problem(conv, Window((0,), (conv.full_size[0],)), "float64")
    x, w, _ = np.array([[[1.0, math.nan, 2.0]]]), np.array([[[1.0, 1.0]]]), None
    sparse = classes(models.zero_stuffed_correlation(x, w, None, problem))
    dense = classes(models.zero_stuffed_correlation_dense_kernel(x, w, None, problem))
    assert np.array_equal(sparse, classes(reference.conv_transpose(x, w, None, problem)))
    assert (dense == 1).sum() > (sparse == 1).sum()
