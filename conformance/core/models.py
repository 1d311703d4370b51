"""Named wrong computations: what a framework computes instead of its documented result, when an expected divergence
says so precisely ("the output equals the reference with the kernel's channel axes swapped").

A model is a pure NumPy function (x, w, b, problem) -> the float64 output it predicts in canonical layout, or None
where it does not apply to the case (it would predict nothing different, or the shapes do not allow it). For a value
divergence the judge records every model whose prediction the framework's output matches within the same
per-element bound as the reference (`matching_values`); for a non-finite divergence, every model whose IEEE class
pattern (finite, NaN, +Inf, -Inf per element) the output has (`matching_classes`). An entry's behaviour states
`model = "<name>"`, so a value bug of another shape inside its predicate is new.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from conformance.core import bounds, reference
from conformance.core.spec import Problem


def kernel_channels_swapped(x, w, b, problem: Problem):
    """The kernel read with its two channel axes exchanged: input channel a feeds output channel m through w[m, a]
    instead of w[a, m] (a filter passed as spatial + [in, out] to an op that reads spatial + [out, in]). Defined for
    groups == 1 and C_in == C_out, where the swapped kernel has the same shape."""
    conv = problem.conv
    if conv.groups != 1 or conv.c_in != conv.c_out:
        return None
    return reference.conv_transpose(x, np.swapaxes(np.asarray(w), 0, 1), b, problem)


def bias_on_last_spatial_axis(x, w, b, problem: Problem):
    """The bias broadcast along the last spatial axis instead of the channel axis: y[n, c, ..., l] = conv + b[l].
    Defined when there is a bias and the last output length equals C_out (otherwise the broadcast would fail)."""
    conv = problem.conv
    if b is None or not conv.bias or problem.window.length[-1] != conv.c_out:
        return None
    y = reference.conv_transpose(x, w, None, problem)
    return y + np.asarray(b, np.float64).reshape(*([1] * (y.ndim - 1)), -1)


def bias_dropped(x, w, b, problem: Problem):
    """The convolution without its bias: y = conv, the bias never added. Defined when there is a bias."""
    if b is None or not problem.conv.bias:
        return None
    return reference.conv_transpose(x, w, None, problem)


def zero_stuffed_correlation(x, w, b, problem: Problem, dense_kernel: bool = False):
    """The transposed convolution computed as a correlation of the zero-stuffed, zero-padded input with the flipped
    kernel, every tap multiplying every position of the padded input, stuffed and padding zeros included (IEEE:
    0 * Inf = NaN). Per dimension the input x is stuffed to (i-1)s+1 elements, padded by k'-1-c before and
    c+L-F+k'-1 after (a negative amount crops), and output o reads positions o + (k'-1) - j*d for tap j. Finite inputs
    give the reference's values; with NaN or Inf in the kernel it predicts NaN wherever a stuffed or padding zero
    meets the non-finite tap. `dense_kernel`: the kernel is dilated into a dense array first, so its holes are zero
    taps that multiply the input too (a NaN or Inf input element then spreads to the holes' outputs)."""
    if dense_kernel:
        return _dense_kernel(x, w, b, problem)
    conv, window = problem.conv, problem.window
    x64, w64 = np.asarray(x, np.float64), np.asarray(w, np.float64)
    n, rank = conv.batch, conv.rank
    stuffed = np.zeros((n, conv.c_in, *[(i - 1) * s + 1 for i, s in zip(conv.in_size, conv.stride)]))
    stuffed[(slice(None), slice(None), *[slice(None, None, s) for s in conv.stride])] = x64
    lo = [kd - 1 - c for kd, c in zip(conv.effective_kernel, window.crop)]
    hi = [c + length - f + kd - 1 for c, length, f, kd in zip(window.crop, window.length, conv.full_size,
                                                              conv.effective_kernel)]
    padded = np.pad(stuffed, [(0, 0), (0, 0)] + [(max(a, 0), max(z, 0)) for a, z in zip(lo, hi)])
    padded = padded[(slice(None), slice(None),
                     *[slice(max(-a, 0), padded.shape[2 + k] - max(-z, 0)) for k, (a, z) in enumerate(zip(lo, hi))])]
    cg, mg = conv.c_in // conv.groups, conv.c_out // conv.groups
    y = np.zeros((n, conv.c_out, *window.length))
    with np.errstate(invalid="ignore", over="ignore"):
        for tap in np.ndindex(*conv.kernel):
            start = [kd - 1 - j * d for kd, j, d in zip(conv.effective_kernel, tap, conv.dilation)]
            at = (slice(None), slice(None), *[slice(s0, s0 + length) for s0, length in zip(start, window.length)])
            for g in range(conv.groups):
                part = np.einsum("nc...,cm->nm...", padded[:, g * cg:(g + 1) * cg][at],
                                 w64[(slice(g * cg, (g + 1) * cg), slice(None), *tap)])
                y[:, g * mg:(g + 1) * mg] += part
        if b is not None and conv.bias:
            y = y + np.asarray(b, np.float64).reshape(-1, *[1] * rank)
    return y


def stride_phase_last_dim(x, w, b, problem: Problem):
    """oneDNN's strided backward-data kernel (brgconv_strided) in its exec_trans mode: output o (full position o + c)
    and tap j read the input at u = o + c - j*d only when u is a multiple of the stride s (stuffed holes skipped), per
    dimension; along the LAST spatial dim every such tap is applied and a u/s outside [0, i) reads a zero of the
    padded copy that is multiplied (0 * Inf = NaN, "phantom" positions before the first / after the last input
    element); along the other dims only real positions count. Finite inputs give the reference's values."""
    return _stride_phase(x, w, b, problem, problem.conv.rank - 1)


def stride_phase_h(x, w, b, problem: Problem):
    """stride_phase_last_dim with the phantoms along spatial dim rank-2 (H) instead: an upper bound of what oneDNN's
    row-blocked forward kernel does for a stride-1 transposed conv whose last spatial dim is trivial (which rows get
    the phantom products depends on its row blocking, i.e. on the thread count). None for rank 1."""
    return None if problem.conv.rank < 2 else _stride_phase(x, w, b, problem, problem.conv.rank - 2)


def _stride_phase(x, w, b, problem: Problem, phantom_dim: int):
    conv, window = problem.conv, problem.window
    rank = conv.rank
    x64, w64 = np.asarray(x, np.float64), np.asarray(w, np.float64)
    cg, mg = conv.c_in // conv.groups, conv.c_out // conv.groups
    y = np.zeros((conv.batch, conv.c_out, *window.length))
    with np.errstate(invalid="ignore", over="ignore"):
        for tap in np.ndindex(*conv.kernel):
            use, inside, sel = np.ones(window.length, bool), np.ones(window.length, bool), []
            for a, (length, c, j, d, s, i) in enumerate(zip(window.length, window.crop, tap, conv.dilation,
                                                            conv.stride, conv.in_size)):
                u = np.arange(length) + c - j * d
                shape = [1] * rank
                shape[a] = -1
                real = (u >= 0) & (u // s < i)
                aligned = u % s == 0
                use = use & (aligned if a == phantom_dim else aligned & real).reshape(shape)
                inside = inside & real.reshape(shape)
                sel.append(np.clip(u // s, 0, i - 1))
            xq = np.where(inside, x64[(slice(None), slice(None), *np.ix_(*sel))], 0.0)
            for g in range(conv.groups):
                part = np.einsum("nc...,cm->nm...", xq[:, g * cg:(g + 1) * cg],
                                 w64[(slice(g * cg, (g + 1) * cg), slice(None), *tap)])
                y[:, g * mg:(g + 1) * mg] += np.where(use, part, 0.0)
        if b is not None and conv.bias:
            y = y + np.asarray(b, np.float64).reshape(-1, *[1] * rank)
    return y


def half_slack_crop(x, w, b, problem: Problem):
    """The documented length, but cropped (F - L) // 2 from the start of the full result in every dimension (the
    smaller half of the slack first, as TensorFlow's 'SAME'), whatever crop the call asked for: what a converter that
    derives the pads from the output size alone computes (tf2onnx). Defined where every L <= F and some crop differs."""
    from conformance.core.spec import Window
    conv, window = problem.conv, problem.window
    if any(n > f for n, f in zip(window.length, conv.full_size)):
        return None
    crop = tuple((f - n) // 2 for f, n in zip(conv.full_size, window.length))
    if crop == tuple(window.crop):
        return None
    return reference.conv_transpose(x, w, b, Problem(conv, Window(crop, tuple(window.length)), problem.dtype))


def groups_densified(x, w, b, problem: Problem):
    """A grouped convolution computed as an ungrouped one with a block-diagonal kernel whose off-group blocks are
    exact zeros, every product taken (IEEE): finite inputs give the reference's values, but a NaN or Inf input
    element meets the other groups' zero weights (0 * Inf = NaN) and spreads NaN into their output channels over its
    footprint. Defined for groups > 1."""
    conv = problem.conv
    if conv.groups == 1:
        return None
    w64 = np.asarray(w, np.float64)
    cg, mg = conv.c_in // conv.groups, conv.c_out // conv.groups
    dense = np.zeros((conv.c_in, conv.c_out, *conv.kernel))
    for g in range(conv.groups):
        dense[g * cg:(g + 1) * cg, g * mg:(g + 1) * mg] = w64[g * cg:(g + 1) * cg]
    ungrouped = Problem(type(conv)(conv.in_size, conv.kernel, conv.stride, conv.dilation, conv.batch, conv.c_in,
                                   conv.c_out, 1, conv.bias), problem.window, problem.dtype)
    with np.errstate(invalid="ignore", over="ignore"):
        return reference.conv_transpose(x, dense, b, ungrouped)


def _dense_kernel(x, w, b, problem: Problem):
    conv = problem.conv
    w64 = np.asarray(w, np.float64)
    dense = np.zeros((*w64.shape[:2], *conv.effective_kernel))
    dense[(slice(None), slice(None), *[slice(None, None, d) for d in conv.dilation])] = w64
    undilated = Problem(type(conv)(conv.in_size, conv.effective_kernel, conv.stride, (1,) * conv.rank, conv.batch,
                                   conv.c_in, conv.c_out, conv.groups, conv.bias), problem.window, problem.dtype)
    return zero_stuffed_correlation(x, dense, b, undilated)


def zero_stuffed_correlation_dense_kernel(x, w, b, problem: Problem):
    """zero_stuffed_correlation with the dilated kernel's holes as zero taps (see its `dense_kernel`)."""
    return zero_stuffed_correlation(x, w, b, problem, dense_kernel=True)


MODELS: dict[str, Callable] = {
    "kernel-channels-swapped": kernel_channels_swapped,
    "bias-on-last-spatial-axis": bias_on_last_spatial_axis,
    "bias-dropped": bias_dropped,
    "zero-stuffed-correlation": zero_stuffed_correlation,
    "zero-stuffed-correlation-dense-kernel": zero_stuffed_correlation_dense_kernel,
    "groups-densified": groups_densified,
    "half-slack-crop": half_slack_crop,
    "stride-phase-last-dim": stride_phase_last_dim,
    "stride-phase-h": stride_phase_h,
}


# Kernel transforms a model name may start with, "transform+model": the model computed on the transformed kernel (a
# filter read with its channel axes swapped AND computed by a kernel that zero-stuffs). None where it does not apply.
KERNEL_TRANSFORMS: dict[str, Callable] = {
    "kernel-channels-swapped": lambda w, conv: (np.swapaxes(np.asarray(w), 0, 1)
                                                if conv.groups == 1 and conv.c_in == conv.c_out else None),
}


def names() -> list[str]:
    """Every model name: the models, and each kernel transform followed by another model ("a+b")."""
    return list(MODELS) + [f"{t}+{m}" for t in KERNEL_TRANSFORMS for m in MODELS if m != t]


def get(name: str) -> Callable:
    """The model called `name` (a model, or "transform+model"); KeyError for an unknown name."""
    if name in MODELS:
        return MODELS[name]
    transform, _, model = name.partition("+")
    if transform not in KERNEL_TRANSFORMS or model not in MODELS or model == transform:
        raise KeyError(name)

    def composed(x, w, b, problem):
        wt = KERNEL_TRANSFORMS[transform](w, problem.conv)
        return None if wt is None else MODELS[model](x, wt, b, problem)
    composed.__doc__ = f"{model} computed on the kernel after {transform}"
    return composed


def _kernel_magnitude(name: str, w, conv):
    """|w| as the model `name` uses it (after its kernel transform, if any)."""
    w_abs = np.abs(np.asarray(w, np.float64))
    transform = name.partition("+")[0] if "+" in name else name
    if transform in KERNEL_TRANSFORMS:
        swapped = KERNEL_TRANSFORMS[transform](w_abs, conv)
        return w_abs if swapped is None else swapped
    return w_abs


def matching_values(y, x, w, b, problem: Problem, accumulate: str | None = None) -> tuple[str, ...]:
    """The models whose prediction `y` matches within the per-element bound (of the model's own magnitudes)."""
    y = np.asarray(y)
    out = []
    for name in names():
        with np.errstate(invalid="ignore", over="ignore"):
            predicted = get(name)(x, w, b, problem)
        if predicted is None or predicted.shape != y.shape:
            continue
        w_abs = _kernel_magnitude(name, w, problem.conv)
        bound = bounds.error_bound(x, w_abs, b, problem, accumulate=accumulate)
        if bounds.error_ratio(y, predicted, bound) <= 1.0:
            out.append(name)
    return tuple(out)


def matching_classes(y, x, w, b, problem: Problem) -> tuple[str, ...]:
    """The models whose IEEE class pattern (finite / NaN / +Inf / -Inf per element) `y` has exactly."""
    from conformance.core.ieee import classes
    y = np.asarray(y)
    out = []
    for name in names():
        with np.errstate(invalid="ignore", over="ignore"):
            predicted = get(name)(x, w, b, problem)
        if predicted is not None and predicted.shape == y.shape and np.array_equal(classes(predicted), classes(y)):
            out.append(name)
    return tuple(out)


def differs_from_reference(name: str, x, w, b, problem: Problem) -> bool:
    """Whether the model `name` predicts another result than the reference, as the properties compare them: another
    IEEE class in some element when the inputs hold NaN or Inf (the nonfinite property compares classes only), else a
    value beyond the per-element bound. False where the model does not apply (it predicts nothing)."""
    from conformance.core.ieee import classes
    with np.errstate(invalid="ignore", over="ignore"):
        predicted = get(name)(x, w, b, problem)
        if predicted is None:
            return False
        ref = reference.conv_transpose(x, w, b, problem)
    poisoned = not all(np.isfinite(np.asarray(a, np.float64)).all() for a in (x, w, b) if a is not None)
    if not np.array_equal(classes(predicted), classes(ref)) or poisoned:
        return not np.array_equal(classes(predicted), classes(ref))
    finite = np.isfinite(ref)
    if not finite.any():
        return False
    bound = bounds.error_bound(np.nan_to_num(x), np.nan_to_num(w), None if b is None else np.nan_to_num(b), problem)
    return bool(np.any(np.abs(predicted[finite] - ref[finite]) > bound[finite]))
