"""Hypothesis strategies for the self-tests: small canonical problems, any window (crops beyond both ends)."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.core.spec import Conv, Problem, Window


@st.composite
def small_convs(draw, max_size: int = 4, max_channels: int = 4) -> Conv:
    rank = draw(st.integers(1, 3))
    size = {1: max_size + 2, 2: max_size, 3: max(2, max_size - 1)}[rank]
    groups = draw(st.integers(1, 3))
    per_group = max(1, max_channels // groups)
    dims = lambda lo, hi: draw(st.tuples(*[st.integers(lo, hi)] * rank))  # noqa: E731
    return Conv(in_size=dims(1, size), kernel=dims(1, 3), stride=dims(1, 3), dilation=dims(1, 3),
                batch=draw(st.integers(1, 2)), c_in=groups * draw(st.integers(1, per_group)),
                c_out=groups * draw(st.integers(1, per_group)), groups=groups, bias=draw(st.booleans()))


@st.composite
def problems(draw, convs=small_convs()) -> Problem:
    """A conv and a window anywhere around its full result: c < 0 and c + L > F are drawn on purpose."""
    conv = draw(convs)
    crop, length = [], []
    for f in conv.full_size:
        crop.append(draw(st.integers(-3, f + 1)))
        length.append(draw(st.integers(1, f + 4)))
    return Problem(conv, Window(tuple(crop), tuple(length)), "float64")


def arrays_for(conv: Conv, seed: int):
    import numpy as np
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(conv.input_shape)
    w = rng.standard_normal(conv.kernel_shape)
    b = rng.standard_normal(conv.c_out) if conv.bias else None
    return x, w, b


class FirstDrawer:
    """A conformance.harness.surface.Drawer that takes the lowest integer and the first option of every draw, and
    `boolean` for every boolean: one deterministic call of a surface's draw_params."""

    def __init__(self, boolean: bool = False):
        self._boolean = boolean

    def integer(self, lo, hi, label):
        return lo

    def choice(self, options, label):
        return options[0]

    def boolean(self, label):
        return self._boolean
