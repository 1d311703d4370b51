"""A framework-free fake adapter, so the self-tests can run the whole plugin (strategies, judge, records,
summary, failure messages) without TensorFlow, PyTorch or JAX.

Its one surface has PyTorch-like documented semantics (c = padding, L = F - 2 padding + output_padding,
0 <= output_padding < stride, padding >= 0, L >= 1) and computes the result with an independent loop-free
NumPy implementation (zero-stuffing + correlation with the flipped kernel, not the reference's scatter).
FAKE_MUTATION selects a deliberate bug, so the self-tests can check that the suite catches it:

  none                correct
  crop-off-by-one     the window starts one element late in the last dimension
  swallow-refusal     output_padding >= stride is computed instead of refused
  refuse-valid        raises on stride 3 (a documented, valid configuration)
  wrong-values        adds 1e-3 to one output element
  short-output        drops the last output element of the last dimension
  abort-on-stride-3   os.abort() (SIGABRT) on stride 3, like a framework's failed C++ check
  segfault-on-stride-3  reads address 0 (SIGSEGV) on stride 3
"""

from __future__ import annotations

import os

import numpy as np

from conformance.spec import Conv
from conformance.surface import Adapter, Device, Documented, Drawer, Refusal, Surface, dedent, window_from_dims

DOC = "tests/fake_adapter.py (module docstring)"


def fake_conv_transpose(x, w, b, stride, padding, output_padding, dilation, groups, mutation="none"):
    """Zero-stuff x by the stride, pad by k'-1-padding (+output_padding at the end), correlate with the
    flipped dilated kernel. Independent of conformance.reference by construction."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    rank = x.ndim - 2
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
    stuffed = np.zeros((n, c_in, *[(i - 1) * s + 1 for i, s in zip(x.shape[2:], stride)]))
    stuffed[(slice(None), slice(None), *[slice(None, None, s) for s in stride])] = x
    crop_shift = [0] * rank
    if mutation == "crop-off-by-one":
        crop_shift[-1] = 1
    pads = [(kd_ - 1 - p - sh, kd_ - 1 - p + op + sh) for kd_, p, op, sh in zip(kd, padding, output_padding, crop_shift)]
    out_len = [size + lo + hi - k + 1 for (lo, hi), size, k in zip(pads, stuffed.shape[2:], kd)]
    if min(out_len) < 1:
        raise ValueError(f"fake: output size {out_len} too small")
    # a negative pad (crop-off-by-one at padding 0) removes elements
    padded = np.pad(stuffed, [(0, 0), (0, 0)] + [(max(lo, 0), max(hi, 0)) for lo, hi in pads])
    padded = padded[(slice(None), slice(None), *[slice(max(-lo, 0), padded.shape[2 + a] - max(-hi, 0))
                                                 for a, (lo, hi) in enumerate(pads)])]
    dilated = np.zeros((*w.shape[:2], *kd))
    dilated[(slice(None), slice(None), *[slice(None, None, d) for d in dilation])] = w
    flipped = np.flip(dilated, tuple(range(2, 2 + rank)))
    c_out = w.shape[1] * groups
    cin_g, m_g = c_in // groups, w.shape[1]
    y = np.zeros((n, c_out, *out_len))
    windows = np.lib.stride_tricks.sliding_window_view(padded, kd, axis=tuple(range(2, 2 + rank)))
    for g in range(groups):
        xs = windows[:, g * cin_g:(g + 1) * cin_g]                       # (n, cin_g, *out, *kd)
        ws = flipped[g * cin_g:(g + 1) * cin_g]                           # (cin_g, m, *kd)
        axes_x = [1, *range(2 + rank, 2 + 2 * rank)]
        axes_w = [0, *range(2, 2 + rank)]
        y[:, g * m_g:(g + 1) * m_g] = np.moveaxis(np.tensordot(xs, ws, axes=(axes_x, axes_w)), -1, 1)
    if b is not None:
        y = y + np.asarray(b, np.float64).reshape(1, -1, *[1] * rank)
    if mutation == "wrong-values" and y.size:
        y.flat[y.size // 2] += 1e-3
    if mutation == "short-output" and y.shape[-1] > 1:
        y = y[..., :-1]
    return y


class FakeSurface(Surface):
    def draw_params(self, draw: Drawer, conv: Conv) -> dict:
        return {"padding": [draw.integer(0, dim.kd, "padding") for dim in conv.dims()],
                "output_padding": [draw.integer(0, dim.s, "output_padding") for dim in conv.dims()]}

    def semantics(self, params: dict, conv: Conv) -> Documented:
        for op, dim in zip(params["output_padding"], conv.dims()):
            if op >= dim.s:
                return Documented(refusal=Refusal(f"output_padding={op} >= stride={dim.s}", DOC))
        pairs = [(p, dim.full - 2 * p + op) for p, op, dim in zip(params["padding"], params["output_padding"],
                                                                  conv.dims())]
        if min(n for _, n in pairs) < 1:
            return Documented(refusal=Refusal(f"output length {[n for _, n in pairs]} < 1", DOC))
        return window_from_dims(pairs, "c = padding; L = F - 2 padding + output_padding", DOC)

    def run(self, x, w, b, params, conv, dtype, device):
        y = fake_conv_transpose(x, w, b, conv.stride, params["padding"], params["output_padding"], conv.dilation,
                                conv.groups, os.environ.get("FAKE_MUTATION", "none"))
        return y.astype(dtype)

    def snippet(self, params, conv, dtype, device):
        return dedent(f"""
            import os
            from tests.fake_adapter import fake_conv_transpose
            y = fake_conv_transpose(x, w, b, {conv.stride}, {params['padding']}, {params['output_padding']},
                                    {conv.dilation}, {conv.groups}, os.environ.get("FAKE_MUTATION", "none")).astype({dtype!r})
        """)


def load() -> Adapter:
    surface = FakeSurface(framework="fake", name="fake.conv_transpose", doc=DOC, groups=True, bias=True)
    return Adapter(name="fake", version="0.0-" + os.environ.get("FAKE_MUTATION", "none"),
                   devices=[Device("cpu", "cpu", "NumPy")], surfaces=[surface])
