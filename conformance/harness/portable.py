"""Portable configurations: the intents users port between frameworks, and what each intends.

An *intent* is what a model builder means ("upsample x s with 'same'", "the full result", "this exact output
size") independent of any framework. Each adapter spells every intent the way a user of that API writes it
(`Surface.spell`), the suites run the spelling on a grid of (k, s, d, i), and the records carry the actual window
(c, L) or the refusal. The alignment matrix (conformance.views.matrix) then compares, per grid point, each surface's
actual window with the intent's intended one, from records only, so frameworks never share a process.

`intended(dim)` is the window the intent names, per dimension, in the canonical model (crop c into the full
scatter result of length F = (i-1)s + k', then L outputs). Where the intent is a framework's idiom, the intended
window is that framework's documented one (named in `source`); 'same' means what the word means where it comes
from: the forward convolution's SAME (TensorFlow/Keras), L = i*s with the forward conv's left pad as crop.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable

from conformance.core.spec import Conv, Dim


@dataclass(frozen=True)
class Intent:
    id: str
    title: str                                   # one line, as a user would say it
    source: str                                  # where the intended window comes from
    intended: Callable[[Dim], tuple[int, int]]   # (c, L) per dimension

    def window(self, conv: Conv) -> tuple[tuple[int, ...], tuple[int, ...]]:
        pairs = [self.intended(dim) for dim in conv.dims()]
        return tuple(c for c, _ in pairs), tuple(n for _, n in pairs)


def _same(dim: Dim) -> tuple[int, int]:
    return max(dim.kd - dim.s, 0) // 2, dim.i * dim.s


def _exact_size(dim: Dim) -> tuple[int, int]:
    wanted = exact_size_target(dim)
    return max((dim.i - 1) * dim.s + dim.kd - wanted, 0) // 2, wanted


def exact_size_target(dim: Dim) -> int:
    """The output size the 'exact-size' intent asks for: i*s - 1 when s > 1 (undoing a stride-s 'same' conv whose
    input was odd, e.g. 7 -> 13 for s = 2), else i."""
    return dim.i * dim.s - 1 if dim.s > 1 else dim.i


def _keras_same_output_padding(dim: Dim) -> tuple[int, int]:
    length = (dim.i - 1) * dim.s + dim.kd - 2 * (dim.kd // 2) + (dim.s - 1)
    return max((dim.i - 1) * dim.s + dim.kd - length, 0) // 2, length


def _torch_half_pad_output_padding(dim: Dim) -> tuple[int, int]:
    p = (dim.kd - 1) // 2
    return p, dim.full - 2 * p + dim.s - 1


def _torch_half_pad(dim: Dim) -> tuple[int, int]:
    p = dim.kd // 2
    return p, dim.full - 2 * p


def asymmetric_crop(dim: Dim) -> tuple[int, int]:
    """The crop (lo, hi) the 'explicit-asymmetric' intent takes off the full result's two ends: a forward conv's
    'same' pads for an even kernel are uneven; this asks for the larger one first: lo = k'//2, hi = (k'-1)//2."""
    return dim.kd // 2, (dim.kd - 1) // 2


def _explicit_asymmetric(dim: Dim) -> tuple[int, int]:
    lo, hi = asymmetric_crop(dim)
    return lo, dim.full - lo - hi


INTENTS: dict[str, Intent] = {i.id: i for i in [
    Intent("same", "upsample by s with 'same' padding (output i*s)",
           "the forward conv's SAME: L = i*s, c = its left pad max(k'-s,0)//2 (tf.nn.conv2d_transpose, Keras)", _same),
    Intent("valid", "'valid': the full result, nothing cropped",
           "c = 0, L = F = (i-1)s + k' (the transpose of a conv with no padding)", lambda d: (0, d.full)),
    Intent("exact-size", "an exact output size O = i*s - 1 (undo a stride-s 'same' conv of an odd input)",
           "L = O, c = the left pad of the forward 'same' conv from O to i (TensorFlow output_shape)", _exact_size),
    Intent("same-output-padding", "Keras 'same' with output_padding = s - 1",
           "Keras Conv2DTranspose: L = (i-1)s + k' - 2(k'//2) + op, c = max((i-1)s + k' - L, 0)//2",
           _keras_same_output_padding),
    Intent("torch-half-pad-output-padding", "PyTorch idiom padding = (k'-1)//2, output_padding = s - 1",
           "torch.nn.ConvTranspose2d: c = padding, L = F - 2 padding + output_padding",
           _torch_half_pad_output_padding),
    Intent("torch-half-pad", "PyTorch idiom padding = k'//2 (no output_padding)",
           "torch.nn.ConvTranspose2d: c = padding, L = F - 2 padding", _torch_half_pad),
    Intent("explicit-asymmetric", "explicit asymmetric crop: k'//2 off the start, (k'-1)//2 off the end",
           "c = lo, L = F - lo - hi (the forward conv's explicit pads (lo, hi))", _explicit_asymmetric),
]}


@dataclass(frozen=True)
class GridPoint:
    k: int
    s: int
    d: int
    i: int

    def conv(self, rank: int = 2) -> Conv:
        """The square rank-2 problem of this point. One channel in and out: the intents are about the window, and
        with one channel every kernel layout convention is the same array (layouts are the main properties' job)."""
        return Conv(in_size=(self.i,) * rank, kernel=(self.k,) * rank, stride=(self.s,) * rank,
                    dilation=(self.d,) * rank, batch=1, c_in=1, c_out=1)


# Every (k, s, d, i) the portable property runs: kernels 1..5 (odd and even), strides 1..3 (k < s, = s, > s),
# dilation 1 and 2, an even and an odd input.
GRID: tuple[GridPoint, ...] = tuple(GridPoint(k, s, d, i) for k, s, d, i in
                                    itertools.product((1, 2, 3, 4, 5), (1, 2, 3), (1, 2), (4, 5)))


def point_of(config: dict) -> GridPoint:
    """The grid point of a record's canonical config (square: the first dimension's values)."""
    return GridPoint(config["kernel"][0], config["stride"][0], config["dilation"][0], config["in_size"][0])
