"""Execution modes: each surface's non-eager modes (tf.function(jit_compile=True), TF with oneDNN off, jax.jit,
torch.compile, channels_last, torch with oneDNN off; Surface.modes) against the reference and against eager.

Per drawn case (the conformance properties' strategies, mostly accepted calls: suites/strategies.mostly_accepted;
float32 or float64), in mode m on the target's device:
  modes            the case in m against the reference, like test_values (records carry mode = m)
  mode-agreement   the case in m against the same case in eager: kind "mode" when verdicts, divergence kinds,
                   shapes or crops differ, or values differ by more than both bounds (conformance.harness.agreement)
  determinism      the call in m, and the eager call, made twice: kind "nondeterminism" when the two differ and the
                   framework does not document that they may (skipped for calls run in the worker process)
The root conftest.py runs this once per (surface, device, mode); a surface with only eager calls is a skip.
Modes that compile for seconds per shape (Mode.slow: torch.compile) draw few examples.
"""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conformance.harness import agreement
from conformance.harness.check import Case
from suites.strategies import judged, mostly_accepted, scaled, seeds
from suites.test_conformance import _is_final

DTYPES = ("float32", "float64")
EXAMPLES = 20          # per surface, device and mode in the ci profile (measured: docs/devices-modes.md)
SLOW_EXAMPLES = 3      # a slow mode (torch.compile: seconds per new shape on CPU)


def test_modes(target, mode, judge):
    surface = target[0]
    examples = scaled(SLOW_EXAMPLES if surface.mode(mode).slow else EXAMPLES)
    settings(max_examples=examples)(given(data=st.data())(_in_mode))(target, mode, judge)


def _in_mode(target, mode, judge, data):
    surface, adapter, device = target
    version, final = adapter.version, _is_final()

    def draw_case() -> Case:
        conv, params, draws = mostly_accepted(surface, data)
        dtype = data.draw(st.sampled_from([d for d in DTYPES if d in surface.dtypes]), label="dtype")
        assume(surface.mode_supports(mode, conv, dtype) is None)     # e.g. channels_last has no 1-D form
        return Case(conv, params, dtype, device, data.draw(seeds(), label="seed"), mode=mode, draws=draws)

    def isolated(case: Case) -> bool:
        eager_case = agreement.in_mode(case, "eager")
        return any(judge.isolates(p, surface, version, c) for p in ("modes", "mode-agreement")
                   for c in (case, eager_case))

    def probe_mode(case: Case):
        return agreement.run(surface, case, isolated(case)).outcome

    def probe_agreement(case: Case):
        if surface.mode_supports(case.mode, case.conv, case.dtype) is not None:
            return None
        isolate = isolated(case)
        return agreement.agree("mode", surface, agreement.run(surface, agreement.in_mode(case, "eager"), isolate),
                               agreement.run(surface, case, isolate))

    case = judged(judge, ("modes", "mode-agreement"), surface, version, data, draw_case)
    eager = agreement.in_mode(case, "eager")
    isolate = isolated(case)
    first = agreement.run(surface, case, isolate)
    judge.judge("modes", surface, version, case, first.outcome, final=final, probe=probe_mode)
    base = agreement.run(surface, eager, isolate)
    judge.judge("mode-agreement", surface, version, case, agreement.agree("mode", surface, base, first), final=final,
                probe=probe_agreement)
    if not isolate:       # a call that may kill the process runs once per mode
        for one in (first, base):
            again = agreement.run(surface, one.case)
            judge.judge("determinism", surface, version, one.case, agreement.determinism(surface, one, again),
                        final=final)
