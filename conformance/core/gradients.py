"""Float64 NumPy reference gradients (vector-Jacobian products) of the canonical transposed convolution.

For y = crop_window(scatter_full(x, w)) + b and a cotangent gy of y's shape (N, C_out, *L), let G be gy embedded
in the full result: G[n, co, p] = gy[n, co, p - c] for p - c in 0..L-1 and p in [0, F), zero elsewhere (an element
of the window outside [0, F) holds only the bias, so its gy reaches only gb). With g the group of input channel ci,
M = C_out / groups and co = g*M + m, every input element i and tap j met at position p = i*s + j*d, so

    gx[n, ci, i] = sum_{m, j} G[n, g*M + m, i*s + j*d] * w[ci, m, j]    a strided, dilated correlation (forward conv)
    gw[ci, m, j] = sum_{n, i} G[n, g*M + m, i*s + j*d] * x[n, ci, i]    a correlation of x with G
    gb[co]       = sum_{n, o} gy[n, co, o]                               the whole window, zero extension included

Both sums read G through one gather, P[n, co, j, i] = G[n, co, i*s + j*d] (`patches`): the forward reference
(conformance.core.reference.scatter_full) scatters, this module gathers, so they share no indexing code, and
tests/test_gradients.py checks them against each other by finite differences and the adjoint identity.

Bounds, per element, as for the forward (conformance.core.bounds): g * u * magnitude + tiny with g = 2 (n + 2), the
magnitude the same sum on absolute values and n the number of products summed into the element:
    gx: |gy| (*) |w|, n = M * prod(kernel);   gw: |gy| (*) |x|, n = N * prod(in_size);   gb: sum |gy|, n = N * prod(L).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from conformance.core.bounds import SMALLEST_NORMAL, UNIT_ROUNDOFF, accumulation_terms, bound_from_magnitude
from conformance.core.reference import conv_transpose
from conformance.core.spec import Conv, Problem, Window


@dataclass(frozen=True)
class Gradients:
    """The three VJPs in canonical layouts: gx (N, C_in, *i), gw (C_in, C_out/groups, *k), gb (C_out,) or None."""

    gx: np.ndarray
    gw: np.ndarray
    gb: np.ndarray | None

    def items(self):
        """(name, array) for the arrays present: gb is left out without a bias."""
        return [(n, a) for n, a in (("gx", self.gx), ("gw", self.gw), ("gb", self.gb)) if a is not None]


def _as64(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float64)


def cotangent(problem: Problem, seed: int) -> np.ndarray:
    """The cotangent gy of the output's shape: standard normal from (seed, 1), rounded to the problem's dtype
    (a stream apart from the inputs', which come from `seed` alone; the gradient reproducer does the same)."""
    return np.random.default_rng([seed, 1]).standard_normal(problem.output_shape).astype(problem.dtype)


def embed(gy, conv: Conv, window: Window) -> np.ndarray:
    """G (batch, c_out, *F): gy placed at positions c..c+L-1 of the full result, zero elsewhere; the parts of gy
    that fall outside [0, F) are dropped."""
    gy = _as64(gy)
    expected = (conv.batch, conv.c_out, *window.length)
    if gy.shape != expected:
        raise ValueError(f"gy has shape {gy.shape}, the problem's output is {expected}")
    full = np.zeros((conv.batch, conv.c_out, *conv.full_size))
    dst, src = [slice(None)] * 2, [slice(None)] * 2
    for f, c, n in zip(conv.full_size, window.crop, window.length):
        lo, hi = max(c, 0), min(c + n, f)
        if hi <= lo:
            return full                      # the window misses the full result: G is zero
        dst.append(slice(lo, hi))
        src.append(slice(lo - c, hi - c))
    full[tuple(dst)] = gy[tuple(src)]
    return full


def patches(full: np.ndarray, conv: Conv) -> np.ndarray:
    """P (batch, c_out, *kernel, *in_size): P[n, co, j, i] = full[n, co, i*s + j*d], by one fancy index per axis."""
    index = [np.arange(k)[:, None] * d + np.arange(i)[None, :] * s
             for i, k, s, d in zip(conv.in_size, conv.kernel, conv.stride, conv.dilation)]
    out = full
    for dim, idx in enumerate(index):
        out = np.take(out, idx, axis=2 + 2 * dim)       # axis 2+2*dim becomes (k, i)
    rank = conv.rank
    order = [0, 1] + [2 + 2 * d for d in range(rank)] + [3 + 2 * d for d in range(rank)]
    return out.transpose(order)


def _group_slices(conv: Conv):
    g = conv.groups
    cin_g, m_g = conv.c_in // g, conv.c_out // g
    for gi in range(g):
        yield slice(gi * cin_g, (gi + 1) * cin_g), slice(gi * m_g, (gi + 1) * m_g)


def input_grad(p: np.ndarray, w, conv: Conv) -> np.ndarray:
    """gx[n, ci, i] = sum_{m, j} P[n, g*M+m, j, i] * w[ci, m, j]."""
    w = _as64(w)
    taps = 1 + conv.rank                                 # contracted axes: m and the kernel's
    gx = np.empty(conv.input_shape)
    for cin, cout in _group_slices(conv):
        # (N, M, k..., i...) . (Cin_g, M, k...) over (M, k...) -> (N, i..., Cin_g)
        part = np.tensordot(p[:, cout], w[cin], axes=(list(range(1, 1 + taps)), list(range(1, 1 + taps))))
        gx[:, cin] = np.moveaxis(part, -1, 1)
    return gx


def kernel_grad(p: np.ndarray, x, conv: Conv) -> np.ndarray:
    """gw[ci, m, j] = sum_{n, i} P[n, g*M+m, j, i] * x[n, ci, i]."""
    x = _as64(x)
    rank = conv.rank
    gw = np.empty(conv.kernel_shape)
    p_axes = [0] + list(range(2 + rank, 2 + 2 * rank))   # n and the input positions
    x_axes = [0] + list(range(2, 2 + rank))
    for cin, cout in _group_slices(conv):
        # (N, M, k..., i...) . (N, Cin_g, i...) -> (M, k..., Cin_g)
        part = np.tensordot(p[:, cout], x[:, cin], axes=(p_axes, x_axes))
        gw[cin] = np.moveaxis(part, -1, 0)
    return gw


def bias_grad(gy) -> np.ndarray:
    """gb[co] = sum over batch and every window position of gy[n, co, o]."""
    gy = _as64(gy)
    return gy.sum(axis=(0, *range(2, gy.ndim)))


def vjp(x, w, b, gy, problem: Problem) -> Gradients:
    """The reference VJPs (float64) of `problem` at (x, w, b) for the cotangent gy; gb is None without a bias."""
    conv = problem.conv
    if np.shape(x) != conv.input_shape or np.shape(w) != conv.kernel_shape:
        raise ValueError(f"x {np.shape(x)} / w {np.shape(w)} do not match {conv.input_shape} / {conv.kernel_shape}")
    p = patches(embed(gy, conv, problem.window), conv)
    return Gradients(input_grad(p, w, conv), kernel_grad(p, x, conv), bias_grad(gy) if conv.bias else None)


def terms(problem: Problem) -> dict[str, int]:
    """Products summed into one element of each gradient (an upper bound: taps that miss the window add zeros)."""
    conv = problem.conv
    return {"gx": conv.c_out // conv.groups * math.prod(conv.kernel),
            "gw": conv.batch * math.prod(conv.in_size),
            "gb": conv.batch * math.prod(problem.window.length)}


def error_bounds(x, w, b, gy, problem: Problem, accumulate: str | None = None) -> Gradients:
    """Per-element bounds of gx, gw, gb: the same sums on absolute values, through bounds.bound_from_magnitude
    (`accumulate`: the precision the framework documents for its sums, when not the problem's dtype)."""
    dtype = problem.dtype
    mag = vjp(np.abs(_as64(x)), np.abs(_as64(w)), None, np.abs(_as64(gy)), problem)
    n = terms(problem)
    return Gradients(*(None if m is None else bound_from_magnitude(m, n[name], dtype, accumulate)
                       for name, m in (("gx", mag.gx), ("gw", mag.gw), ("gb", mag.gb if problem.conv.bias else None))))


def bias_pairing(b, gy) -> float:
    """<b broadcast over the window, gy> = <b, sum of gy over batch and positions>: the bias's share of <y, gy>."""
    return 0.0 if b is None else float(np.dot(_as64(b), bias_grad(gy)))


def adjoint_bound(x, w, b, gy, problem: Problem, gradient: str = "gx", accumulate: str | None = None) -> float:
    """Bound on |<y, gy> - <b, sum gy> - <x, gx>| (gradient "gx") or |... - <w, gw>| (gradient "gw") when y and the
    gradient are each within their per-element bounds of the exact values:

        sum_o |gy| * bound_y  +  sum |x| * bound_gx   (or |w| * bound_gw),

    both weighted sums equal to (g_y + g_grad) * u * M with M = <|x| (*) |w| + |b|, |gy|> (the same absolute products
    seen from either side), plus the float64 rounding of the three dot products and the underflow allowance. With an
    `accumulate` precision (bounds.bound_from_magnitude), u is that precision's, plus one rounding to the dtype each."""
    dtype = problem.dtype
    u = UNIT_ROUNDOFF[accumulate or dtype]
    rounding = 0.0 if accumulate in (None, dtype) else 2 * UNIT_ROUNDOFF[dtype]
    magnitude = conv_transpose(np.abs(_as64(x)), np.abs(_as64(w)), None if b is None else np.abs(_as64(b)), problem)
    m = float(np.vdot(magnitude, np.abs(_as64(gy))))
    n_y, n_g = accumulation_terms(problem), terms(problem)[gradient]
    g = 2.0 * (n_y + 2) + 2.0 * (n_g + 2)
    other = x if gradient == "gx" else w
    tiny = (n_y * float(np.abs(_as64(gy)).sum()) + n_g * float(np.abs(_as64(other)).sum())) * SMALLEST_NORMAL[dtype]
    dots = 3 * 2.0 * (max(np.size(gy), np.size(x), np.size(w)) + 2) * UNIT_ROUNDOFF["float64"] * m
    return (g * u + rounding) * m + dots + tiny
