"""Half precision: float16 and bfloat16 cases against the reference, on every surface that takes them.

Configurations and parameters as the conformance properties draw them, three in four redrawn until the docs accept
the call (suites/strategies.mostly_accepted; refusals stay in: a half-precision kernel a framework lacks shows as
error-vs-result). Inputs are drawn in float64 and rounded to the dtype (bfloat16 through
ml_dtypes), the reference is float64 on the rounded inputs, and the per-element bound uses the dtype's unit
roundoff -- or the precision the framework documents for the sums (Surface.accumulation: e.g. TF32 for float32 on
NVIDIA GPUs), plus one rounding to the dtype (conformance/core/bounds.py). float32 and float64 are test_values' dtypes.

A dtype a surface does not take, or bfloat16 without ml_dtypes, is a skip with the reason.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.harness.check import Case, dtype_unavailable, run_case
from suites.strategies import judged, mostly_accepted, scaled, seeds
from suites.test_conformance import _is_final

HALF = ("float16", "bfloat16")
EXAMPLES = 30        # per surface, device and dtype in the ci profile (measured: docs/devices-modes.md)


def dtype_skip_reason(surface, dtype: str) -> str | None:
    if dtype not in surface.dtypes:
        return f"{surface.id} does not take {dtype} (its dtypes: {', '.join(surface.dtypes)})"
    return dtype_unavailable(dtype)


@pytest.mark.parametrize("dtype", HALF)
def test_dtypes(target, dtype, judge):
    reason = dtype_skip_reason(target[0], dtype)
    if reason:
        pytest.skip(reason)
    _half_precision(target, dtype, judge)


@settings(max_examples=scaled(EXAMPLES))
@given(data=st.data())
def _half_precision(target, dtype, judge, data):
    surface, adapter, device = target
    version = adapter.version

    def draw_case() -> Case:
        conv, params, draws = mostly_accepted(surface, data)
        return Case(conv, params, dtype, device, data.draw(seeds(), label="seed"), draws=draws)

    def probe(case: Case):
        return run_case(surface, case, isolate=judge.isolates("dtypes", surface, version, case))

    case = judged(judge, "dtypes", surface, version, data, draw_case)
    judge.judge("dtypes", surface, version, case, probe(case), final=_is_final(), probe=probe)
