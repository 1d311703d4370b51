"""A framework-free fake adapter, so the self-tests can run the whole plugin (strategies, judge, records,
summary, failure messages) without TensorFlow, PyTorch or JAX.

Its surface has PyTorch-like documented semantics (c = padding, L = F - 2 padding + output_padding,
0 <= output_padding < stride, padding >= 0, L >= 1), takes groups, dilation and bias, and computes the result
with an independent loop-free NumPy implementation (zero-stuffing + correlation with the flipped kernel, not the
reference's scatter). Like a real adapter, it hands the kernel to its "framework" in that framework's layout,
TF-style (*k, C_out/groups, C_in), and the "framework" reads it back.

A mutation selects a deliberate bug, so the self-tests can check that the suite catches it: FAKE_MUTATION for
the surface of `load()`, one surface per mutation in tests/mutant_adapter.py. Each mutant is the kind of bug a
real adapter (or framework) has:

  none                 correct
  crop-off-by-one      the window starts one element late in the last dimension (a pad off by one)
  kernel-not-flipped   the correlation uses the kernel unflipped (a transposed conv written as a forward
                       conv on the zero-stuffed input, without the flip)
  output-padding-wrong-side  output_padding is added before the output instead of after it (an explicit pad
                       pair (lo, hi) built with the extra on the low side)
  layout-transposed    the kernel is put into the framework's (*k, C_out/groups, C_in) layout with reshape
                       instead of transpose: right shape, channels and taps scrambled (the same values only
                       where reshape and transpose agree: C_in = C_out/groups = 1, or a 1-tap kernel with one of
                       them 1)
  dilation-ignored     the dilation is dropped: the kernel is used undilated (so the length is wrong too)
  groups-mixed         input channels are dealt to groups interleaved (channel ci in group ci % groups)
                       instead of in blocks (ci // (C_in/groups)): a reshape (C/g, g) where (g, C/g) was meant
  float64-as-float16   float64 inputs are computed in float16 (inputs, products and sums rounded to float16)
                       and the result returned as float64
  swallow-refusal      output_padding >= stride is computed instead of refused
  refuse-valid         raises on stride 3 (a documented, valid configuration)
  wrong-values         adds 1e-3 to one output element
  short-output         drops the last output element of the last dimension
  abort-on-stride-3    os.abort() (SIGABRT) on stride 3, like a framework's failed C++ check
  segfault-on-stride-3 reads address 0 (SIGSEGV) on stride 3
  abort-on-malformed-stride  os.abort() when the stride is not a sequence of ints in [1, 2**31) (None, a string, an
                       empty or nested sequence, an entry 0, -1, 2**31 or 1.5: only robustness faults reach it), like a
                       framework's failed C++ check on an attribute
  hang-on-malformed-stride   sleeps for an hour on the same strides (a call that never returns)
Parameters beyond 2**20 (only robustness faults draw them) raise ValueError: the fake refuses them cleanly, as the
frameworks do, instead of trying to allocate the output.
"""

from __future__ import annotations

import os

import numpy as np

from conformance.core.source import shipped
from conformance.core.spec import Conv
from conformance.harness.surface import Adapter, Device, Documented, Drawer, Refusal, Surface, window_from_dims

DOC = "tests/fake_adapter.py (module docstring)"

MUTATIONS = ("none", "crop-off-by-one", "kernel-not-flipped", "output-padding-wrong-side", "layout-transposed",
             "dilation-ignored", "groups-mixed", "float64-as-float16", "swallow-refusal", "refuse-valid",
             "wrong-values", "short-output", "abort-on-stride-3", "segfault-on-stride-3", "abort-on-malformed-stride",
             "hang-on-malformed-stride")
# these kill the process making the call
CRASHING = ("abort-on-stride-3", "segfault-on-stride-3", "abort-on-malformed-stride", "hang-on-malformed-stride")


def to_framework_kernel(w: np.ndarray, mutation: str = "none") -> np.ndarray:
    """The adapter's side: canonical (C_in, C_out/groups, *k) -> the fake framework's (*k, C_out/groups, C_in)."""
    rank = w.ndim - 2
    if mutation == "layout-transposed":
        return w.reshape(*w.shape[2:], w.shape[1], w.shape[0])
    return np.transpose(w, (*range(2, 2 + rank), 1, 0))


def from_framework_kernel(wf: np.ndarray) -> np.ndarray:
    """The fake framework's side: (*k, C_out/groups, C_in) -> (C_in, C_out/groups, *k) for its computation."""
    rank = wf.ndim - 2
    return np.transpose(wf, (rank + 1, rank, *range(rank)))


def fake_conv_transpose(x, w, b, stride, padding, output_padding, dilation, groups, mutation="none"):
    """Zero-stuff x by the stride, pad by k'-1-padding (+output_padding at the end), correlate with the
    flipped dilated kernel. Independent of conformance.core.reference by construction."""
    if mutation not in MUTATIONS:
        raise ValueError(f"fake: unknown mutation {mutation!r}; known: {', '.join(MUTATIONS)}")
    if mutation in ("abort-on-malformed-stride", "hang-on-malformed-stride") and not (
            isinstance(stride, (tuple, list)) and stride
            and all(isinstance(s, int) and not isinstance(s, bool) and 0 < s < 2 ** 31 for s in stride)):
        if mutation.startswith("hang"):
            import time
            time.sleep(3600)
        os.abort()
    if any(not isinstance(v, int) or isinstance(v, bool) or abs(v) > 2 ** 20
           for v in (*stride, *padding, *output_padding, *dilation, groups)):
        raise ValueError("fake: stride, padding, output_padding, dilation and groups are ints below 2**20")
    x, w = np.asarray(x), np.asarray(w)
    # the working precision: float64, or float16 for the mutant that silently downcasts float64
    work = np.float16 if mutation == "float64-as-float16" and x.dtype == np.float64 else np.float64
    w = from_framework_kernel(to_framework_kernel(w, mutation))
    x, w = x.astype(work), w.astype(work)
    rank = x.ndim - 2
    if mutation == "dilation-ignored":
        dilation = [1] * rank
    if mutation == "refuse-valid" and 3 in stride:
        raise ValueError("fake: stride 3 is not implemented")
    if mutation == "abort-on-stride-3" and 3 in stride:
        os.abort()
    if mutation == "segfault-on-stride-3" and 3 in stride:
        import ctypes
        ctypes.string_at(0)
    if any(op >= s for op, s in zip(output_padding, stride)) and mutation != "swallow-refusal":
        raise ValueError("fake: output_padding must be smaller than stride")
    if min(padding) < 0:
        raise ValueError("fake: negative padding")
    n, c_in = x.shape[:2]
    kernel = w.shape[2:]
    kd = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    stuffed = np.zeros((n, c_in, *[(i - 1) * s + 1 for i, s in zip(x.shape[2:], stride)]), work)
    stuffed[(slice(None), slice(None), *[slice(None, None, s) for s in stride])] = x
    crop_shift = [0] * rank
    if mutation == "crop-off-by-one":
        crop_shift[-1] = 1
    if mutation == "output-padding-wrong-side":
        pads = [(kd_ - 1 - p + op, kd_ - 1 - p) for kd_, p, op in zip(kd, padding, output_padding)]
    else:
        pads = [(kd_ - 1 - p - sh, kd_ - 1 - p + op + sh)
                for kd_, p, op, sh in zip(kd, padding, output_padding, crop_shift)]
    out_len = [size + lo + hi - k + 1 for (lo, hi), size, k in zip(pads, stuffed.shape[2:], kd)]
    if min(out_len) < 1:
        raise ValueError(f"fake: output size {out_len} too small")
    # a negative pad (crop-off-by-one at padding 0) removes elements
    padded = np.pad(stuffed, [(0, 0), (0, 0)] + [(max(lo, 0), max(hi, 0)) for lo, hi in pads])
    padded = padded[(slice(None), slice(None), *[slice(max(-lo, 0), padded.shape[2 + a] - max(-hi, 0))
                                                 for a, (lo, hi) in enumerate(pads)])]
    dilated = np.zeros((*w.shape[:2], *kd), work)
    dilated[(slice(None), slice(None), *[slice(None, None, d) for d in dilation])] = w
    flipped = dilated if mutation == "kernel-not-flipped" else np.flip(dilated, tuple(range(2, 2 + rank)))
    c_out = w.shape[1] * groups
    cin_g, m_g = c_in // groups, w.shape[1]
    y = np.zeros((n, c_out, *out_len), work)
    windows = np.lib.stride_tricks.sliding_window_view(padded, kd, axis=tuple(range(2, 2 + rank)))
    for g in range(groups):
        if mutation == "groups-mixed":
            xs = windows[:, g::groups]                                     # interleaved: the bug
        else:
            xs = windows[:, g * cin_g:(g + 1) * cin_g]                     # (n, cin_g, *out, *kd)
        ws = flipped[g * cin_g:(g + 1) * cin_g]                           # (cin_g, m, *kd)
        axes_x = [1, *range(2 + rank, 2 + 2 * rank)]
        axes_w = [0, *range(2, 2 + rank)]
        y[:, g * m_g:(g + 1) * m_g] = np.moveaxis(np.tensordot(xs, ws, axes=(axes_x, axes_w)), -1, 1)
    if b is not None:
        y = y + np.asarray(b).astype(work).reshape(1, -1, *[1] * rank)
    if mutation == "wrong-values" and y.size:
        y.flat[y.size // 2] += 1e-3
    if mutation == "short-output" and y.shape[-1] > 1:
        y = y[..., :-1]
    return y


@shipped
def fake_call(x, w, b, gy=None, *, stride, padding, output_padding, dilation, groups, dtype, mutation):
    """The fake framework's call (tests/fake_adapter.py, fake_conv_transpose) with a mutation, as a dtype."""
    from tests.fake_adapter import fake_conv_transpose
    return fake_conv_transpose(x, w, b, stride, padding, output_padding, dilation, groups, mutation).astype(dtype)


class FakeSurface(Surface):
    """The fake's surface; `extra["mutation"]` fixes its mutation, else FAKE_MUTATION (default none) chooses."""

    @property
    def mutation(self) -> str | None:
        return self.extra.get("mutation")

    def draw_params(self, draw: Drawer, conv: Conv) -> dict:
        params = {"padding": [draw.integer(0, dim.kd, "padding") for dim in conv.dims()],
                  "output_padding": [draw.integer(0, dim.s, "output_padding") for dim in conv.dims()]}
        params.pop(os.environ.get("FAKE_DROP_PARAM", ""), None)   # breaks the params contract (test_registry.py)
        return params

    def semantics(self, params: dict, conv: Conv) -> Documented:
        for op, dim in zip(params["output_padding"], conv.dims()):
            if op >= dim.s:
                return Documented(refusal=Refusal(f"output_padding={op} >= stride={dim.s}", DOC))
        pairs = [(p, dim.full - 2 * p + op) for p, op, dim in zip(params["padding"], params["output_padding"],
                                                                  conv.dims())]
        if min(n for _, n in pairs) < 1:
            return Documented(refusal=Refusal(f"output length {[n for _, n in pairs]} < 1", DOC))
        return window_from_dims(pairs, "c = padding; L = F - 2 padding + output_padding", DOC)

    def arguments(self, params, conv, dtype, device, mode="eager"):
        return {"stride": conv.stride, "padding": list(params["padding"]),
                "output_padding": list(params["output_padding"]), "dilation": conv.dilation, "groups": conv.groups,
                "dtype": dtype, "mutation": self.mutation or os.environ.get("FAKE_MUTATION", "none")}


def load() -> Adapter:
    surface = FakeSurface(framework="fake", name="fake.conv_transpose", doc=DOC, groups=True, bias=True, call=fake_call,
                          param_keys=("padding", "output_padding"),
                          api_arguments=("stride", "padding", "output_padding", "dilation", "groups"))
    return Adapter(name="fake", version="0.0-" + os.environ.get("FAKE_MUTATION", "none"),
                   devices=[Device("cpu", "cpu", "NumPy")], surfaces=[surface])
