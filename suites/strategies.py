"""Hypothesis strategies for canonical problems, built constructively (no filtering).

`convs(surface)` draws only what the surface can express (its ranks, groups, bias, dilation). The surface's
own parameters are drawn by the surface itself through `HypothesisDrawer`, which maps each draw onto a
Hypothesis strategy so that failing cases shrink towards small kernels, strides and sizes.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

from hypothesis import strategies as st

from conformance.core.spec import Conv
from conformance.harness.surface import Surface

MAX_CHANNELS = 6
MAX_IN_SIZE = {1: 9, 2: 6, 3: 4}   # keeps rank-3 cases cheap; sizes start at 1
KERNEL = (1, 5)
STRIDE = (1, 4)
DILATION = (1, 3)


# One strategy object per distinct argument list, built once: a strategy drawn from for the first time is validated
# and its properties computed, and Hypothesis's own cache of st.integers is a lookup per call; these draws run about
# eleven times per case. The values drawn are the same (the strategies are equal); only the building is saved.
_BOOLEANS = st.booleans()


@lru_cache(maxsize=None)
def integers(lo: int, hi: int):
    return st.integers(lo, hi)


@lru_cache(maxsize=None)
def _sampled(options: tuple):
    return st.sampled_from(options)


def sampled_from(options: Sequence[Any]):
    """st.sampled_from(options), the strategy built once per distinct tuple of hashable options."""
    options = tuple(options)
    try:
        return _sampled(options)
    except TypeError:                      # an unhashable option (a list, a dict): built each time
        return st.sampled_from(options)


class HypothesisDrawer:
    """conformance.harness.surface.Drawer backed by st.data(). `log` keeps every draw as (label, kind, spec, value), the
    case's `draws` (conformance.harness.characterize replays them to vary one parameter at a time)."""

    def __init__(self, data):
        self._data = data
        self.log: list[tuple] = []

    def integer(self, lo: int, hi: int, label: str) -> int:
        value = self._data.draw(integers(lo, hi), label=label)
        self.log.append((label, "integer", (lo, hi), value))
        return value

    def choice(self, options: Sequence[Any], label: str) -> Any:
        options = list(options)
        value = self._data.draw(sampled_from(options), label=label)
        self.log.append((label, "choice", tuple(options), value))
        return value

    def boolean(self, label: str) -> bool:
        value = self._data.draw(_BOOLEANS, label=label)
        self.log.append((label, "boolean", (), value))
        return value


def drawn_params(surface: Surface, data, conv: Conv) -> tuple[dict, tuple]:
    """The surface's parameters for `conv`, and the draws that made them."""
    drawer = HypothesisDrawer(data)
    params = surface.contract(surface.draw_params(drawer, conv))
    return params, tuple(drawer.log)


REDRAWS = 10
LOTTERY = 10_000


def lottery(data) -> float:
    """A number in [0, 1), uniform over Hypothesis's ordinary draws. Hypothesis prefers the small and boundary values
    of an integer range (0, 1, powers of two, the maximum), so the number is the complement of the low digits of a
    32-bit draw: those values all land far from 0 (a case is admitted when the number is below the rate)."""
    ticket = data.draw(integers(0, 2 ** 32 - 1), label="revisit an expected divergence")
    return 1.0 - (ticket % LOTTERY + 1) / LOTTERY


def judged(judge, props, surface: Surface, version: str, data, draw_case):
    """A case from `draw_case()` that the judge admits (conformance.harness.judge, Budget): a case an expected
    divergence covers runs when a drawn lottery number falls under the judge's revisit rate, else another case is
    drawn, up to REDRAWS times (the last one runs anyway). The lottery is part of the example's data: replays and
    shrinking make the same choice."""
    for n in range(REDRAWS):
        case = draw_case()
        if not judge.covering(props, surface, version, case):
            return case
        if judge.admit(props, surface, version, case, lottery(data), force=n == REDRAWS - 1):
            return case
    return case


@lru_cache(maxsize=None)
def _per_dim(rank: int, lo: int, hi: int):
    return st.tuples(*[integers(lo, hi)] * rank)


@lru_cache(maxsize=None)
def _dilation(rank: int):
    # half the draws undilated: several surfaces refuse dilation in some configurations (strides > 1 in Keras, the
    # CPU in TensorFlow), and the undilated cases are the ones most models use
    return st.one_of(st.just((1,) * rank), _per_dim(rank, *DILATION))


@st.composite
def _convs(draw, ranks: tuple, groups_drawn: bool, dilation_drawn: bool, bias_drawn: bool) -> Conv:
    rank = draw(sampled_from(ranks))
    groups = draw(integers(1, 3)) if groups_drawn else 1
    per_group = MAX_CHANNELS // groups
    c_in = groups * draw(integers(1, per_group))
    c_out = groups * draw(integers(1, per_group))   # C_in/groups != C_out/groups is drawn too
    return Conv(
        in_size=draw(_per_dim(rank, 1, MAX_IN_SIZE[rank])),
        kernel=draw(_per_dim(rank, *KERNEL)),
        stride=draw(_per_dim(rank, *STRIDE)),
        dilation=draw(_dilation(rank)) if dilation_drawn else (1,) * rank,
        batch=draw(integers(1, 3)),
        c_in=c_in,
        c_out=c_out,
        groups=groups,
        bias=draw(_BOOLEANS) if bias_drawn else False,
    )


_convs_of = lru_cache(maxsize=None)(_convs)


def convs(surface: Surface):
    """The canonical problems `surface` can express: its ranks, and groups, dilation and bias where it has them."""
    return _convs_of(tuple(surface.ranks), bool(surface.groups), bool(surface.dilation), bool(surface.bias))


def seeds():
    return integers(0, 2 ** 32 - 1)


def scaled(examples: int) -> int:
    """`examples` as a ci-profile count (150 per property), scaled to the loaded Hypothesis profile's max_examples:
    dev (25) draws a sixth of it, ci exactly it, nightly (2000) about thirteen times it. For the properties whose
    examples cost more than a plain call (two modes, two devices, a compiler per shape)."""
    from hypothesis import settings
    return max(1, round(examples * settings.default.max_examples / 150))


def accepted(surface: Surface, data, tries: int = 10) -> tuple[Conv, dict, tuple]:
    """(conv, params, draws) drawn as the conformance properties draw them, again (up to `tries` times) while the
    docs refuse the call: some refusals are the configuration's (Keras: strides > 1 with dilation > 1), not the
    parameters'. A call whose outcome the docs leave open (no window, no refusal) is drawn again too. After `tries`
    such draws the last one is returned."""
    for _ in range(tries):
        conv = data.draw(convs(surface), label="conv")
        params, draws = drawn_params(surface, data, conv)
        if surface.semantics(params, conv).window is not None:
            break
    return conv, params, draws


def mostly_accepted(surface: Surface, data, tries: int = 10) -> tuple[Conv, dict, tuple]:
    """`accepted` in three draws out of four, a plain draw otherwise, so that the value-oriented properties (dtypes,
    modes, devices) mostly check values, and still check that refusals agree."""
    want_accepted = data.draw(integers(0, 3), label="accepted call wanted") != 0
    return accepted(surface, data, tries if want_accepted else 1)
