"""Portable configurations: every intent users port between frameworks (conformance.harness.portable.INTENTS), spelled
the way each surface's users write it (Surface.spell), run on the whole (k, s, d, i) grid.

Each grid point is judged like any case (documented window or refusal, values against the reference; the
expected-divergences file applies) and recorded with its intent. The cross-framework alignment matrix is
computed from these records afterwards (`python -m conformance matrix`), never by running two frameworks in
one process. One test per (surface, intent); it fails listing the grid points that diverged from the docs.
"""

from __future__ import annotations

import pytest

from conformance.harness.check import Case, run_case
from conformance.harness.judge import DivergenceError
from conformance.harness.portable import GRID, INTENTS
from conformance.harness.surface import Unexpressible

DTYPE = "float32"
SHOWN = 3   # divergence reports printed in full; the rest are counted (all are in the records)


def _lottery(n: int) -> float:
    """A fixed number in [0, 1) per grid point (Knuth's multiplicative hash): which covered points are revisited."""
    return (n * 2654435761 % 2 ** 32) / 2 ** 32


@pytest.mark.parametrize("intent", list(INTENTS), ids=list(INTENTS))
def test_portable(target, judge, intent):
    surface, adapter, device = target
    failures: list[str] = []
    ran = 0

    def probe(case: Case):
        return run_case(surface, case, isolate=judge.isolates("portable", surface, adapter.version, case))

    for n, point in enumerate(GRID):
        conv = point.conv()
        if surface.supports(conv, DTYPE) is not None:   # e.g. no dilation parameter
            continue
        try:
            params = surface.contract(surface.spell(intent, conv), f"spell({intent!r})")
        except Unexpressible as exc:
            pytest.skip(f"{surface.id} cannot express '{intent}': {exc}")
        case = Case(conv, params, DTYPE, device, seed=n)
        if not judge.admit("portable", surface, adapter.version, case, lottery=_lottery(n)):
            continue    # an expected divergence covers this grid point: a fixed share of them runs
        outcome = probe(case)
        ran += 1
        try:
            judge.judge("portable", surface, adapter.version, case, outcome, intent=intent, probe=probe)
        except DivergenceError as exc:
            failures.append(str(exc))
    if not ran:
        pytest.skip(f"{surface.id} supports none of the grid's configurations")
    assert not failures, (
        f"intent '{intent}' ({INTENTS[intent].title}): {len(failures)} of {ran} grid points diverge from "
        f"{surface.id}'s documentation\n\n" + "\n\n".join(failures[:SHOWN])
        + (f"\n\n... and {len(failures) - SHOWN} more (see the records)" if len(failures) > SHOWN else ""))
