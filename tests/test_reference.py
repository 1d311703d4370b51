"""The NumPy reference against a brute-force loop, hand-computed cases, and the adjoint identity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.core import reference
from conformance.core.spec import Conv, Problem, Window
from tests.brute import conv_transpose_loops
from tests.strategies import arrays_for, problems


@settings(max_examples=1000, deadline=None, derandomize=True, database=None)
@given(problem=problems(), seed=st.integers(0, 2 ** 16))
def test_reference_matches_brute_force_loop(problem, seed):
    x, w, b = arrays_for(problem.conv, seed)
    got = reference.conv_transpose(x, w, b, problem)
    want = conv_transpose_loops(x, w, b, problem)
    assert got.shape == want.shape, f"{problem}: shape {got.shape} != loop {want.shape}"
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=str(problem))


def _p(in_size, kernel, stride, dilation, crop, length, **kw) -> Problem:
    return Problem(Conv(in_size, kernel, stride, dilation, **kw), Window(crop, length), "float64")


# Hand-computed from the definition: input element i, tap j land at i*s + j*d; y[o] = full[o + c].
HAND = [
    # x = [1, 2], w = [1, 10], s = 1: full = [1, 10+2, 20] = [1, 12, 20]
    pytest.param(_p((2,), (2,), (1,), (1,), (0,), (3,)), [[[1, 2]]], [[[1, 10]]], None, [[[1, 12, 20]]],
                 id="1d-stride1"),
    # s = 2: positions 0,1 from x0 and 2,3 from x1: full = [1, 10, 2, 20]
    pytest.param(_p((2,), (2,), (2,), (1,), (0,), (4,)), [[[1, 2]]], [[[1, 10]]], None, [[[1, 10, 2, 20]]],
                 id="1d-stride2"),
    # s = 3 > k: gaps stay zero: full = [1, 10, 0, 2, 20]
    pytest.param(_p((2,), (2,), (3,), (1,), (0,), (5,)), [[[1, 2]]], [[[1, 10]]], None,
                 [[[1, 10, 0, 2, 20]]], id="1d-stride-gt-kernel"),
    # d = 2: taps at 0 and 2: x0 -> 0,2; x1 (s=1) -> 1,3: full = [1, 2, 10, 20]
    pytest.param(_p((2,), (2,), (1,), (2,), (0,), (4,)), [[[1, 2]]], [[[1, 10]]], None, [[[1, 2, 10, 20]]],
                 id="1d-dilation2"),
    # crop c = 1, L = 2 of [1, 12, 20] -> [12, 20]; c = -1, L = 5 -> [0, 1, 12, 20, 0]
    pytest.param(_p((2,), (2,), (1,), (1,), (1,), (2,)), [[[1, 2]]], [[[1, 10]]], None, [[[12, 20]]],
                 id="1d-crop"),
    pytest.param(_p((2,), (2,), (1,), (1,), (-1,), (5,)), [[[1, 2]]], [[[1, 10]]], None, [[[0, 1, 12, 20, 0]]],
                 id="1d-zero-extension"),
    # bias 5 added everywhere in the window, also on the zero extension
    pytest.param(_p((1,), (1,), (1,), (1,), (0,), (2,), bias=True), [[[3]]], [[[2]]], [5], [[[11, 5]]],
                 id="1d-bias"),
    # 2-D: x = [[1, 2]] (1x2), w = [[1], [10]] (2x1), s = (1, 2): full 2x3 -> rows j: [[1, 0, 2], [10, 0, 20]]
    pytest.param(_p((1, 2), (2, 1), (1, 2), (1, 1), (0, 0), (2, 3)), [[[[1, 2]]]], [[[[1], [10]]]], None,
                 [[[[1, 0, 2], [10, 0, 20]]]], id="2d-stride"),
    # groups = 2, C_in 2 -> C_out 4 (M = 2 per group): channel 0 feeds outputs 0,1; channel 1 feeds 2,3
    pytest.param(_p((1,), (1,), (1,), (1,), (0,), (1,), c_in=2, c_out=4, groups=2), [[[1], [2]]],
                 [[[3], [4]], [[5], [6]]], None, [[[3], [4], [10], [12]]], id="groups-2"),
    # two input channels summed into one output: 1*3 + 2*4 = 11
    pytest.param(_p((1,), (1,), (1,), (1,), (0,), (1,), c_in=2, c_out=1), [[[1], [2]]], [[[3]], [[4]]], None,
                 [[[11]]], id="channels-summed"),
]


@pytest.mark.parametrize("problem, x, w, b, want", HAND)
def test_reference_hand_computed(problem, x, w, b, want):
    got = reference.conv_transpose(np.array(x, float), np.array(w, float), None if b is None else np.array(b, float),
                                   problem)
    np.testing.assert_array_equal(got, np.array(want, float), err_msg=str(problem))


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(problem=problems(), seed=st.integers(0, 2 ** 16))
def test_adjoint_identity(problem, seed):
    """<convT(x), y> = <x, conv(y)> with conv an independent gather (im2col) forward convolution."""
    conv = problem.conv
    x, w, _ = arrays_for(conv, seed)
    y = np.random.default_rng(seed + 1).standard_normal((conv.batch, conv.c_out, *problem.window.length))
    unbiased = Problem(Conv(conv.in_size, conv.kernel, conv.stride, conv.dilation, conv.batch, conv.c_in,
                            conv.c_out, conv.groups, False), problem.window, "float64")
    left = float(np.vdot(reference.conv_transpose(x, w, None, unbiased), y))
    right = float(np.vdot(x, reference.conv_forward(y, w, unbiased.conv, problem.window)))
    scale = float(np.abs(x).sum() * np.abs(w).sum() * np.abs(y).max()) + 1.0
    assert abs(left - right) <= 1e-12 * scale, f"{problem}: <convT x, y> = {left}, <x, conv y> = {right}"


def test_reference_rejects_wrong_shapes():
    p = _p((2,), (2,), (1,), (1,), (0,), (3,))
    with pytest.raises(ValueError, match="x has shape"):
        reference.conv_transpose(np.zeros((1, 1, 3)), np.zeros((1, 1, 2)), None, p)


def test_spec_is_frozen_hashable_and_round_trips_json():
    p = _p((3, 4), (2, 3), (2, 1), (1, 2), (-1, 2), (5, 6), batch=2, c_in=4, c_out=6, groups=2, bias=True)
    assert hash(p) == hash(Problem.from_json(p.to_json()))
    assert Problem.from_json(p.to_json()) == p
    assert "C=4->6 g=2 i=3x4 k=2x3 s=2x1 d=1x2 F=6x8" in str(p)
    with pytest.raises(AttributeError):
        p.conv.groups = 3  # type: ignore[misc]


@pytest.mark.parametrize("kwargs, message", [
    (dict(in_size=(2,), kernel=(2, 2), stride=(1,), dilation=(1,)), "kernel has 2 entries"),
    (dict(in_size=(2,), kernel=(2,), stride=(0,), dilation=(1,)), ">= 1"),
    (dict(in_size=(2,), kernel=(2,), stride=(1,), dilation=(1,), c_in=3, groups=2), "must divide"),
    (dict(in_size=(1, 1, 1, 1), kernel=(1,) * 4, stride=(1,) * 4, dilation=(1,) * 4), "rank must be"),
])
def test_spec_rejects_invalid(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Conv(**kwargs)
