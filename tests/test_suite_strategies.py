"""suites/strategies.py builds each strategy once (issue 16: the draws run about eleven times per case): the cached
strategies must draw exactly what freshly built ones draw from the same choices, or the derandomized ci profile would
check other cases than the records and the README's table say."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suites import strategies
from tests.cli_helpers import spellings


def _surfaces():
    return [s.surface for s in spellings()]


def test_each_strategy_is_built_once_per_distinct_arguments():
    assert strategies.integers(1, 4) is strategies.integers(1, 4)
    assert strategies.integers(1, 4) is not strategies.integers(1, 5)
    assert strategies.sampled_from(["a", "b"]) is strategies.sampled_from(("a", "b"))
    surface = _surfaces()[0]
    assert strategies.convs(surface) is strategies.convs(surface)


def test_unhashable_options_are_sampled_all_the_same():
    options = [[1, 2], {"padding": "same"}]
    drawn = set()

    @settings(max_examples=30, database=None)
    @given(st.data())
    def draw(data):
        drawn.add(repr(data.draw(strategies.sampled_from(options))))

    draw()
    assert drawn == {repr(o) for o in options}


@st.composite
def _convs_built_each_time(draw, surface):
    """convs(surface) as it was written before the cache (every strategy constructed at each draw)."""
    from conformance.core.spec import Conv
    from suites.strategies import DILATION, KERNEL, MAX_CHANNELS, MAX_IN_SIZE, STRIDE

    def per_dim(rank, lo, hi):
        return st.tuples(*[st.integers(lo, hi)] * rank)

    rank = draw(st.sampled_from(surface.ranks))
    groups = draw(st.integers(1, 3)) if surface.groups else 1
    per_group = MAX_CHANNELS // groups
    c_in = groups * draw(st.integers(1, per_group))
    c_out = groups * draw(st.integers(1, per_group))
    return Conv(in_size=draw(per_dim(rank, 1, MAX_IN_SIZE[rank])), kernel=draw(per_dim(rank, *KERNEL)),
                stride=draw(per_dim(rank, *STRIDE)),
                dilation=(draw(st.one_of(st.just((1,) * rank), per_dim(rank, *DILATION))) if surface.dilation
                          else (1,) * rank),
                batch=draw(st.integers(1, 3)), c_in=c_in, c_out=c_out, groups=groups,
                bias=draw(st.booleans()) if surface.bias else False)


@settings(max_examples=100, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2 ** 32 - 1), pick=st.integers(0, 10 ** 6))
def test_cached_strategies_draw_what_strategies_built_each_time_draw(seed, pick):
    import random

    from hypothesis.internal.conjecture.data import ConjectureData

    surfaces = _surfaces()
    surface = surfaces[pick % len(surfaces)]
    # the same random source for both: the same choices, whichever strategy objects make the draws
    cached = ConjectureData(random=random.Random(seed))
    fresh = ConjectureData(random=random.Random(seed))
    got = [cached.draw(strategies.convs(surface)) for _ in range(3)]
    want = [fresh.draw(_convs_built_each_time(surface)) for _ in range(3)]
    assert got == want, surface.id
