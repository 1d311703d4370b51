"""Gradient properties: every surface with autodiff, its VJPs against the float64 reference and the adjoint identity.

  test_gradients   gx, gw, gb (for a Hypothesis-drawn cotangent gy) within their per-element bounds of the reference
                   VJPs (conformance.core.gradients), and <y, gy> - <b, sum gy> = <x, gx> = <w, gw> on the framework's
                   own y, gx, gw (conformance.harness.gradcheck)
  test_gradient_reproducer_replays_the_vjp   the gradient script recorded with each case re-creates the VJPs

Same surfaces, configurations and parameters as the conformance properties (suites/test_conformance.py), float32
and float64. The gradient of a call the docs refuse is not defined: the configuration and the surface's parameters
are redrawn (up to ten times) until the docs accept them, and a case still refused checks nothing. A surface
without autodiff (Surface.gradient false) skips with the reason.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.core import gradients
from conformance.core.spec import Problem
from conformance.harness.check import Case, make_inputs
from conformance.harness.gradcheck import run_gradient_case, script
from suites.strategies import accepted, judged, scaled, seeds
from suites.test_conformance import _is_final


# JAX compiles every drawn shape twice (the call and its VJP): ~1.2 s a case, 180 s for the ci profile's 150 on JAX
# alone; 40 % of the profile's examples keeps every framework under 90 s (ci: 60, nightly: 800)
@settings(max_examples=scaled(60))
@given(data=st.data())
def test_gradients(target, judge, data):
    surface, adapter, device = target
    if not surface.gradient:
        pytest.skip(f"{surface.id} has no autodiff: its call takes no cotangent (Surface.gradient is False)")
    version = adapter.version

    def draw_case() -> Case:
        conv, params, draws = accepted(surface, data)
        dtype = data.draw(st.sampled_from([d for d in ("float32", "float64") if d in surface.dtypes]), label="dtype")
        return Case(conv, params, dtype, device, data.draw(seeds(), label="seed"), draws=draws)

    def probe(case: Case):
        # a call an expected crash entry flags runs in a process of its own: a corrupted heap must not kill a later case
        isolate = judge.isolates("gradients", surface, version, case)
        return run_gradient_case(surface, case, version, isolate="fresh" if isolate and not judge.isolate_all
                                 else isolate)

    case = judged(judge, "gradients", surface, version, data, draw_case)
    outcome = probe(case)
    if outcome is None:
        return      # the docs refuse the call: no gradient to check
    judge.judge("gradients", surface, version, case, outcome, final=_is_final(), probe=probe)


@settings(max_examples=10)
@given(data=st.data())
def test_gradient_reproducer_replays_the_vjp(target, judge, data):
    """The gradient reproducer recorded with every case re-creates the same VJPs: running it gives the arrays the
    suite's own surface.vjp gave (or raises the same exception class)."""
    surface, adapter, device = target
    if not surface.gradient:
        pytest.skip(f"{surface.id} has no autodiff: its call takes no cotangent (Surface.gradient is False)")
    conv, params, _ = accepted(surface, data)
    dtype = data.draw(st.sampled_from([d for d in ("float32", "float64") if d in surface.dtypes]), label="dtype")
    case = Case(conv, params, dtype, device, data.draw(seeds(), label="seed"))
    documented = surface.semantics(case.params, conv)
    if documented.window is None or judge.isolates("gradients", surface, adapter.version, case):
        return      # nothing to differentiate, or a known process-killing call (test_gradients runs it isolated)
    if any(e.kind in ("gradient", "adjoint") for e in judge.relevant("gradients", surface, adapter.version, case)):
        return      # an entry states these VJPs wrong, read from stale or out-of-bounds memory: bits need not replay
    x, w, b = make_inputs(conv, dtype, case.seed)
    gy = gradients.cotangent(Problem(conv, documented.window, dtype), case.seed)
    namespace: dict = {}
    try:
        surface.run(x, w, b, case.params, conv, dtype, device)
        direct = surface.vjp(x, w, b, gy, case.params, conv, dtype, device)
    except Exception as exc:  # noqa: BLE001 - the script must raise the same class
        with pytest.raises(type(exc)), contextlib.redirect_stdout(io.StringIO()):
            exec(compile(script(surface, case), "<reproducer>", "exec"), namespace)  # noqa: S102 - our own script
        return
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(script(surface, case), "<reproducer>", "exec"), namespace)  # noqa: S102
    for name, want in zip(("gx", "gw", "gb"), direct):
        got = namespace[name]
        assert (got is None) == (want is None), f"{surface.id}: {name} {got} vs {want}\n{script(surface, case)}"
        if want is not None:
            assert np.array_equal(np.asarray(got), np.asarray(want), equal_nan=True), (
                f"{surface.id}: {case.describe()}\nthe reproducer's {name} differs from surface.vjp:\n"
                f"{script(surface, case)}")
