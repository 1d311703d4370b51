"""Conformance properties: every surface against the NumPy reference at its documented window.

  test_shapes    the output length is the documented L, and the values sit at the documented crop c
  test_values    the values at the documented window are within the per-element error bound
  test_refusals  a configuration the docs refuse raises; one they allow does not
  test_reproducer_replays_the_call   the reproducer in every failure message re-creates the call exactly

The surface and device parameters come from the root conftest.py (one test per surface and device).
Each property asserts its own divergence kinds; every case is recorded whatever its outcome.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.harness.check import Case, make_inputs, reproducer, run_case
from suites.strategies import convs, drawn_params, judged, mostly_accepted, seeds

SHAPE_DTYPE = "float32"


def _check(prop, target, judge, data, dtypes, mostly_accepted_calls=False):
    """One drawn case of `prop`. `mostly_accepted_calls` (shapes, values): three draws in four are redrawn until the
    docs accept the call (suites.strategies.mostly_accepted), so the window and the values are checked on most cases
    (a plain draw of torch's ConvTranspose(output_size=) is a documented refusal 9 times in 10 at rank 3: the values
    property then compared 10 of its 150 cases); refusals keeps the plain draws."""
    surface, adapter, device = target
    version = adapter.version

    def draw_case() -> Case:
        if mostly_accepted_calls:
            conv, params, draws = mostly_accepted(surface, data)
        else:
            conv = data.draw(convs(surface), label="conv")
            params, draws = drawn_params(surface, data, conv)
        dtype = data.draw(st.sampled_from([d for d in dtypes if d in surface.dtypes]), label="dtype")
        return Case(conv, params, dtype, device, data.draw(seeds(), label="seed"), draws=draws)

    def probe(case: Case):
        return run_case(surface, case, isolate=judge.isolates(prop, surface, version, case))

    case = judged(judge, prop, surface, version, data, draw_case)
    judge.judge(prop, surface, version, case, probe(case), final=_is_final(), probe=probe)


def _is_final() -> bool:
    """True on Hypothesis's last replay of a (shrunk) failing example; records of shrink steps say False."""
    try:
        from hypothesis.control import current_build_context
        return bool(current_build_context().is_final)
    except Exception:  # noqa: BLE001 - an internal API; without it every record counts as final
        return True


@given(data=st.data())
def test_shapes(target, judge, data):
    _check("shapes", target, judge, data, [SHAPE_DTYPE], mostly_accepted_calls=True)


@given(data=st.data())
def test_values(target, judge, data):
    _check("values", target, judge, data, ["float32", "float64"], mostly_accepted_calls=True)


@given(data=st.data())
def test_refusals(target, judge, data):
    _check("refusals", target, judge, data, [SHAPE_DTYPE])


@settings(max_examples=20)
@given(data=st.data())
def test_reproducer_replays_the_call(target, judge, data):
    """The reproducer printed with every failure re-creates the same inputs and call: running it gives the same
    array as the suite's own call (or raises the same exception class)."""
    surface, adapter, device = target
    conv = data.draw(convs(surface), label="conv")
    params, _ = drawn_params(surface, data, conv)
    dtype = data.draw(st.sampled_from(surface.dtypes), label="dtype")
    case = Case(conv, params, dtype, device, data.draw(seeds(), label="seed"))
    if judge.isolates("values", surface, adapter.version, case):
        return   # a known process-killing call: the properties above run its reproducer in a child process
    x, w, b = make_inputs(conv, case.dtype, case.seed)
    script = reproducer(surface, case, adapter.version)
    namespace: dict = {}
    try:
        direct = surface.run(x, w, b, params, conv, case.dtype, device)
    except Exception as exc:  # noqa: BLE001 - the reproducer must raise the same class
        with pytest.raises(type(exc)), contextlib.redirect_stdout(io.StringIO()):
            exec(compile(script, "<reproducer>", "exec"), namespace)  # noqa: S102 - our generated script
        return
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(script, "<reproducer>", "exec"), namespace)  # noqa: S102
    replay = np.asarray(namespace["y"])
    assert replay.shape == direct.shape and np.array_equal(replay, direct, equal_nan=True), (
        f"{surface.id}: {case.describe()}\nthe reproducer's y differs from the suite's call:\n{script}")
