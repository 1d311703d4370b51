"""Hypothesis strategies for canonical problems, built constructively (no filtering).

`convs(surface)` draws only what the surface can express (its ranks, groups, bias, dilation). The surface's
own parameters are drawn by the surface itself through `HypothesisDrawer`, which maps each draw onto a
Hypothesis strategy so that failing cases shrink towards small kernels, strides and sizes.
"""

from __future__ import annotations

from typing import Any, Sequence

from hypothesis import strategies as st

from conformance.spec import Conv
from conformance.surface import Surface

MAX_CHANNELS = 6
MAX_IN_SIZE = {1: 9, 2: 6, 3: 4}   # keeps rank-3 cases cheap; sizes start at 1
KERNEL = (1, 5)
STRIDE = (1, 4)
DILATION = (1, 3)


class HypothesisDrawer:
    """conformance.surface.Drawer backed by st.data()."""

    def __init__(self, data):
        self._data = data

    def integer(self, lo: int, hi: int, label: str) -> int:
        return self._data.draw(st.integers(lo, hi), label=label)

    def choice(self, options: Sequence[Any], label: str) -> Any:
        return self._data.draw(st.sampled_from(list(options)), label=label)

    def boolean(self, label: str) -> bool:
        return self._data.draw(st.booleans(), label=label)


def _per_dim(rank: int, lo: int, hi: int):
    return st.tuples(*[st.integers(lo, hi)] * rank)


@st.composite
def convs(draw, surface: Surface) -> Conv:
    rank = draw(st.sampled_from(surface.ranks))
    groups = draw(st.integers(1, 3)) if surface.groups else 1
    per_group = MAX_CHANNELS // groups
    c_in = groups * draw(st.integers(1, per_group))
    c_out = groups * draw(st.integers(1, per_group))   # C_in/groups != C_out/groups is drawn too
    return Conv(
        in_size=draw(_per_dim(rank, 1, MAX_IN_SIZE[rank])),
        kernel=draw(_per_dim(rank, *KERNEL)),
        stride=draw(_per_dim(rank, *STRIDE)),
        # half the draws undilated: several surfaces refuse dilation in some configurations (strides > 1 in
        # Keras, the CPU in TensorFlow), and the undilated cases are the ones most models use
        dilation=(draw(st.one_of(st.just((1,) * rank), _per_dim(rank, *DILATION))) if surface.dilation
                  else (1,) * rank),
        batch=draw(st.integers(1, 3)),
        c_in=c_in,
        c_out=c_out,
        groups=groups,
        bias=draw(st.booleans()) if surface.bias else False,
    )


def seeds():
    return st.integers(0, 2 ** 32 - 1)
