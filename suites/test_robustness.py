"""Robustness: a call the docs accept, then one fault drawn from the surface's per-argument fault space
(conformance.harness.robustness: each API argument of its call replaced by zero, negative, huge, non-integer, bool,
None, string values, sequences with an entry more or fewer, emptied or nested; or the input arrays changed: integer,
complex and mismatched dtypes, an extra or missing batch dimension, channels that do not match, empty dimensions,
negatively strided and strided views). Always in the worker.

The oracle: a result or a Python exception, never a process death or a hang past the worker's timeout. Raising
cleanly passes, a result is recorded (`python -m conformance errors` shows who accepts what another refuses), a
death is a `crash` divergence (signal and stderr key line: its signature). The named, documented refusals stay in
the error catalogue (test_errors.py); this property explores around them.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.harness import robustness
from conformance.harness.check import Case
from suites.strategies import accepted, judged, scaled, seeds
from suites.test_conformance import _is_final

EXAMPLES = 60


@settings(max_examples=scaled(EXAMPLES))
@given(data=st.data())
def test_robustness(target, judge, data):
    surface, adapter, device = target
    drawn: dict[str, robustness.Fault] = {}

    def draw_case() -> Case:
        conv, params, draws = accepted(surface, data)
        dtype = "float32" if "float32" in surface.dtypes else surface.dtypes[0]
        space = robustness.faults(surface, surface.arguments(params, conv, dtype, device))
        # what to fault first (an argument, or the inputs), then how: each argument is as likely as any other
        # whatever the size of its fault space
        where = data.draw(st.sampled_from(list(dict.fromkeys(f.where for f in space))), label="faulted argument")
        fault = data.draw(st.sampled_from([f for f in space if f.where == where]), label="fault")
        drawn[fault.label] = fault
        return Case(conv, params, dtype, device, data.draw(seeds(), label="seed"), draws=draws, fault=fault.label)

    # a fault an expected `crash` entry covers (a known abort or hang) is re-run at the judge's revisit rate only
    case = judged(judge, "robustness", surface, adapter.version, data, draw_case)
    fault = drawn[case.fault]
    outcome = robustness.run(surface, case, fault, adapter.version)
    judge.judge("robustness", surface, adapter.version, case, outcome, final=_is_final(), intent=fault.label,
                fault=fault.json())
