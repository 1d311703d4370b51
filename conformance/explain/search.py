"""Searching a surface's parameters for a window: what solve and translate share.

The searched parameters are those a spelling marks `search` and the user did not give. A parameter's values are
shared by every dimension (a padding mode, None, True/False) or per dimension (ints, pairs, from its `search`
candidates, which depend on the dimension and the wanted length). For each assignment of the shared values, every
dimension is tried on its own through the surface's documented semantics on the "diagonal" problem (all
dimensions equal to that one, so rank-specific rules still apply); the survivors are combined across dimensions
and each combination is checked once more on the real problem (rules that couple dimensions).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from conformance.core.spec import Conv, Window
from conformance.explain.spelling import Param, Spelling

MAX_COMBINATIONS = 20000


@dataclass(frozen=True)
class Option:
    """One dimension's candidate: the per-dimension values (by key), and the window it gives there."""

    values: tuple[tuple[str, Any], ...]
    c: int
    L: int

    def complexity(self) -> int:
        total = 0
        for _, v in self.values:
            total += abs(v[0]) + abs(v[1]) if isinstance(v, (list, tuple)) else abs(int(v))
        return total


@dataclass(frozen=True)
class Found:
    params: dict
    window: Window
    score: tuple


def diagonal(conv: Conv, axis: int) -> Conv:
    dim = conv.dims()[axis]
    r = conv.rank
    return Conv(in_size=(dim.i,) * r, kernel=(dim.k,) * r, stride=(dim.s,) * r, dilation=(dim.d,) * r,
                batch=conv.batch, c_in=conv.c_in, c_out=conv.c_out, groups=conv.groups, bias=conv.bias)


def _assignments(free: list[Param]) -> Iterator[dict[str, Any]]:
    """Shared values per free parameter; the marker PER means "per dimension, searched"."""
    choices = []
    for p in free:
        opts = list(p.shared_values())
        if p.per_dim and p.kind != "choice":
            opts.append(PER)
        choices.append([(p.key, v) for v in opts] or [(p.key, PER)])
    for combo in itertools.product(*choices):
        yield dict(combo)


class _Per:
    def __repr__(self) -> str:
        return "PER"


PER = _Per()


def options(spelling: Spelling, conv: Conv, base: dict, free: list[Param], wanted: list[int]
            ) -> Iterator[tuple[dict, list[list[Option]]]]:
    """Per shared assignment: the accepted options of every dimension."""
    surface = spelling.surface
    rank = conv.rank
    for shared in _assignments(free):
        per_keys = [k for k, v in shared.items() if v is PER]
        fixed = {k: v for k, v in shared.items() if v is not PER}
        per_axis: list[list[Option]] = []
        for axis, dim in enumerate(conv.dims()):
            diag = diagonal(conv, axis)
            lists = [[(key, v) for v in spelling.param(key).search(dim, wanted[axis])] for key in per_keys]
            found = []
            seen = set()
            for combo in itertools.product(*lists):
                values = tuple((k, list(v) if isinstance(v, tuple) else v) for k, v in combo)
                marker = repr(values)
                if marker in seen:
                    continue
                seen.add(marker)
                params = {**base, **fixed, **{k: [v] * rank for k, v in values}}
                doc = surface.semantics(spelling.passed(params), diag)
                if doc.window is None:          # refused, or left open by the docs: no window to offer
                    continue
                found.append(Option(values, doc.window.crop[0], doc.window.length[0]))
            per_axis.append(found)
        yield {**base, **fixed}, per_axis


def combine(spelling: Spelling, conv: Conv, params: dict, per_axis: list[list[Option]],
            score: Callable[[int, Option], tuple], limit: int) -> Iterator[Found]:
    """Combinations of per-dimension options (best first by summed score), accepted on the real problem."""
    if any(not opts for opts in per_axis):
        return
    cap = max(1, int(MAX_COMBINATIONS ** (1 / len(per_axis))))
    ranked = [sorted(opts, key=lambda o, a=a: score(a, o))[:cap] for a, opts in enumerate(per_axis)]
    combos = sorted(itertools.product(*ranked),
                    key=lambda combo: tuple(sum(x) for x in zip(*(score(a, o) for a, o in enumerate(combo)))))
    shown = 0
    seen = set()
    for combo in combos:
        full = dict(params)
        for key in {k for o in combo for k, _ in o.values}:
            full[key] = [dict(o.values)[key] for o in combo]
        doc = spelling.surface.semantics(spelling.passed(full), conv)
        if doc.window is None:
            continue
        marker = repr(sorted(spelling.passed(full).items()))
        if marker in seen:
            continue
        seen.add(marker)
        total = tuple(sum(x) for x in zip(*(score(a, o) for a, o in enumerate(combo))))
        yield Found(full, doc.window, total)
        shown += 1
        if shown >= limit:
            return


def shared_complexity(spelling: Spelling, params: dict, free: list[Param]) -> int:
    """How many searched parameters hold a shared value other than their default (a mode change costs 1)."""
    n = 0
    for p in free:
        v = params.get(p.key)
        if callable(p.default):
            continue
        if (isinstance(v, list) and not isinstance(p.default, list)) or (not isinstance(v, list) and v != p.default):
            n += 1
    return n


def searched_ranges(spelling: Spelling, conv: Conv, free: list[Param], wanted: list[int]) -> dict[str, str]:
    """What was tried, per searched parameter, for the report."""
    out = {}
    for p in free:
        parts = [repr(v) for v in p.shared_values()]
        if p.per_dim and p.kind != "choice":
            per = []
            for dim, n in zip(conv.dims(), wanted):
                values = list(p.search(dim, n))
                if not values:
                    continue
                if isinstance(values[0], (list, tuple)):
                    los = [v[0] for v in values]
                    his = [v[1] for v in values]
                    per.append(f"lo {min(los)}..{max(los)}, hi {min(his)}..{max(his)}")
                else:
                    per.append(f"{min(values)}..{max(values)}")
            if per:
                parts.append(per[0] if len(set(per)) == 1 else " / ".join(per))
        out[p.key] = ", ".join(parts)
    return out
