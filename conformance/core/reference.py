"""Float64 NumPy reference for the canonical transposed convolution, built from small named steps.

    conv_transpose = add_bias(crop_window(scatter_full(x, w)))

No framework and no framework's padding formula is used: the only geometry is the canonical one
(tap j of input element i lands at i*s + j*d; the API's window is y[o] = full[o + c]).
Vectorised over pixels, batch and channels; the only Python loop is over kernel taps. The steps over plain
arrays (scatter, cropped, add_bias, reference) are shipped code (conformance.core.source): the reproducers' inline
reference is their source, not a second copy.

`conv_forward` is the adjoint of `conv_transpose` with respect to x (the input gradient), implemented
as a gather (im2col), a different mechanism from the scatter, so the adjoint identity is a real check.
"""

from __future__ import annotations

import numpy as np

from conformance.core.source import shipped
from conformance.core.spec import Conv, Problem, Window


def _as64(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float64)


def _check_shapes(x: np.ndarray, w: np.ndarray, conv: Conv) -> None:
    if x.shape != conv.input_shape:
        raise ValueError(f"x has shape {x.shape}, the problem says {conv.input_shape}")
    if w.shape != conv.kernel_shape:
        raise ValueError(f"w has shape {w.shape}, the problem says {conv.kernel_shape}")


@shipped
def scatter(x, w, stride, dilation, groups):
    """The uncropped result, float64 (batch, c_out, *F): full[.., i*s + j*d] += x[.., i] * w[.., j] per group."""
    import itertools

    import numpy as np
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    batch, c_in, *in_size = x.shape
    kernel = w.shape[2:]
    cin_g, m_g = c_in // groups, w.shape[1]
    full_size = [0 if i == 0 else (i - 1) * s + d * (k - 1) + 1
                 for i, k, s, d in zip(in_size, kernel, stride, dilation)]
    full = np.zeros((batch, groups, m_g, *full_size))
    if 0 not in in_size:
        xg = x.reshape(batch, groups, cin_g, *in_size)
        wg = w.reshape(groups, cin_g, m_g, *kernel)
        for tap in itertools.product(*(range(k) for k in kernel)):
            where = tuple(slice(j * d, j * d + (i - 1) * s + 1, s)
                          for j, d, i, s in zip(tap, dilation, in_size, stride))
            full[(slice(None),) * 3 + where] += np.einsum("ngc...,gcm->ngm...", xg, wg[(Ellipsis, *tap)])
    return full.reshape(batch, groups * m_g, *full_size)


@shipped
def cropped(full, crop, length):
    """The window: y[.., o] = full[.., o + c] for o in 0..L-1, with full taken as zero outside [0, F)."""
    import numpy as np
    pads, slices = [(0, 0), (0, 0)], [slice(None), slice(None)]
    for f, c, n in zip(full.shape[2:], crop, length):
        before, after = max(0, -c), max(0, c + n - f)
        pads.append((before, after))
        slices.append(slice(c + before, c + before + n))
    return np.pad(full, pads)[tuple(slices)]


@shipped
def add_bias(y, b):
    """y + b per output channel (b None: y)."""
    import numpy as np
    if b is None:
        return y
    return y + np.asarray(b, np.float64).reshape(1, -1, *([1] * (y.ndim - 2)))


@shipped(uses=(scatter, cropped, add_bias))
def reference(x, w, b, stride, dilation, groups, crop, length):
    """The transposed convolution in float64: the full scatter, its window [c, c+L), the bias. The reproducers
    ship this function's source (conformance.core.source) as their inline reference."""
    return add_bias(cropped(scatter(x, w, stride, dilation, groups), crop, length), b)


def scatter_full(x, w, conv: Conv) -> np.ndarray:
    """`scatter` for `conv`'s inputs (shapes checked)."""
    _check_shapes(np.asarray(x), np.asarray(w), conv)
    return scatter(x, w, conv.stride, conv.dilation, conv.groups)


def crop_window(full: np.ndarray, window: Window) -> np.ndarray:
    """`cropped` at `window` (rank and lengths checked)."""
    if len(full.shape[2:]) != len(window.crop):
        raise ValueError("window rank differs from the full result's rank")
    if min(window.length, default=0) < 0:
        raise ValueError(f"negative output length in {window}")
    return cropped(full, window.crop, window.length)


def conv_transpose(x, w, b, problem: Problem) -> np.ndarray:
    """The reference output of `problem` (float64), for inputs already rounded to the problem's dtype."""
    full = scatter_full(x, w, problem.conv)
    return add_bias(crop_window(full, problem.window), b if problem.conv.bias else None)


def conv_forward(y, w, conv: Conv, window: Window) -> np.ndarray:
    """Adjoint of the un-biased conv_transpose in x: x_adj[n, ci, i] = sum_{m, j} Y[n, g*M+m, i*s + j*d] w[ci, m, j]

    with Y the (batch, c_out, *F) array holding y at positions c..c+L-1 (parts outside [0, F) dropped).
    A strided, dilated cross-correlation, computed by gathering patches (im2col) and one tensordot per group.
    """
    y, w = _as64(y), _as64(w)
    rank = conv.rank
    full = np.zeros((conv.batch, conv.c_out, *conv.full_size))
    src, dst = [slice(None)] * 2, [slice(None)] * 2
    for f, c, n in zip(conv.full_size, window.crop, window.length):
        lo, hi = max(c, 0), min(c + n, f)
        if hi <= lo:
            return np.zeros(conv.input_shape)
        dst.append(slice(lo, hi))
        src.append(slice(lo - c, hi - c))
    full[tuple(dst)] = y[tuple(src)]
    # index[dim] has shape (i, k): position i*s + j*d in the full result
    index = [np.arange(i)[:, None] * s + np.arange(k)[None, :] * d
             for i, k, s, d in zip(conv.in_size, conv.kernel, conv.stride, conv.dilation)]
    patches = full
    for dim in range(rank):
        axis = 2 + 2 * dim  # earlier dims already expanded into (i, k) pairs
        patches = np.take(patches, index[dim], axis=axis)
    # patches: (N, C_out, i1, k1, i2, k2, ...) -> (N, C_out, k..., i...)
    order = [0, 1] + [3 + 2 * d for d in range(rank)] + [2 + 2 * d for d in range(rank)]
    patches = patches.transpose(order)
    g = conv.groups
    cin_g, m_g = conv.c_in // g, conv.c_out // g
    out = np.empty(conv.input_shape)
    taps = 1 + rank  # axes of w to contract: (m, *k)
    for gi in range(g):
        pg = patches[:, gi * m_g:(gi + 1) * m_g]              # (N, M, k..., i...)
        wg = w[gi * cin_g:(gi + 1) * cin_g]                  # (Cin_g, M, k...)
        out[:, gi * cin_g:(gi + 1) * cin_g] = np.moveaxis(
            np.tensordot(pg, wg, axes=(list(range(1, 1 + taps)), list(range(1, 1 + taps)))), -1, 1)
    return out
