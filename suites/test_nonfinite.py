"""NaN/Inf propagation: with NaN or +-Inf placed in the input, kernel or bias, every output element must be
finite, NaN, +Inf or -Inf exactly where the IEEE 754 scatter puts them (conformance.harness.nonfinite).

Same surfaces, configurations and parameters as the conformance properties; the poison values are part of
the case, so records and reproducers carry them.
"""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from conformance.harness.check import Case, run_case
from conformance.harness.nonfinite import classify_nonfinite
from suites.strategies import convs, drawn_params, judged, seeds

POISONS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


@st.composite
def poison(draw, conv) -> tuple:
    sizes = {"x": math.prod(conv.input_shape), "w": math.prod(conv.kernel_shape)}
    if conv.bias:
        sizes["b"] = conv.c_out
    entries = []
    for n in range(draw(st.integers(1, 2), label="poisoned elements")):
        name = draw(st.sampled_from(sorted(sizes)), label=f"poisoned array {n}")
        index = draw(st.integers(0, sizes[name] - 1), label=f"poisoned index {n}")
        entries.append((name, index, POISONS[draw(st.sampled_from(sorted(POISONS)), label=f"poison {n}")]))
    return tuple(entries)


@given(data=st.data())
def test_nonfinite(target, judge, data):
    surface, adapter, device = target
    version = adapter.version

    def draw_case() -> Case:
        conv = data.draw(convs(surface), label="conv")
        dtype = data.draw(st.sampled_from([d for d in ("float32", "float64") if d in surface.dtypes]), label="dtype")
        params, draws = drawn_params(surface, data, conv)
        return Case(conv, params, dtype, device, data.draw(seeds(), label="seed"),
                    data.draw(poison(conv), label="poison"), draws=draws)

    def probe(case: Case):
        return run_case(surface, case, isolate=judge.isolates("nonfinite", surface, version, case),
                        on_result=classify_nonfinite)

    case = judged(judge, "nonfinite", surface, version, data, draw_case)
    judge.judge("nonfinite", surface, version, case, probe(case), probe=probe)
