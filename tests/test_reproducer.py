"""The checked reproducer (the one every record carries) is self-contained and agrees with the suite.

Its inline reference is a second copy of the canonical model, so it is checked against the slow loop of
tests/brute.py; its verdict is checked against the suite's on the fake adapter, correct and mutated.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from hypothesis import given, settings

from conformance.core.source import source_of
from conformance.core.spec import Conv
from conformance.harness.check import Case, run_case
from conformance.harness.reproducer import INLINE_REFERENCE, reproducer
from tests.brute import conv_transpose_loops
from tests.fake_adapter import load
from tests.strategies import arrays_for, problems


def _inline_reference():
    namespace = {"np": np}
    exec(INLINE_REFERENCE, namespace)  # noqa: S102 - our own source
    return namespace["reference"]


@settings(max_examples=150, deadline=None)
@given(problem=problems(), )
def test_inline_reference_equals_the_definition(problem):
    conv, win = problem.conv, problem.window
    x, w, b = arrays_for(conv, 0)
    got = _inline_reference()(x, w, b, conv.stride, conv.dilation, conv.groups, win.crop, win.length)
    np.testing.assert_allclose(got, conv_transpose_loops(x, w, b, problem), rtol=1e-12, atol=1e-12,
                               err_msg=f"{conv} window {win}")


def _run(script: str) -> tuple[str, BaseException | None]:
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(script, "<reproducer>", "exec"), {})  # noqa: S102 - our generated script
    except BaseException as exc:  # noqa: BLE001 - the script's failure is what we inspect
        return out.getvalue(), exc
    return out.getvalue(), None


CASES = [
    Case(Conv((4, 3), (3, 2), (2, 1), (1, 2), batch=2, c_in=4, c_out=2, groups=2, bias=True),
         {"padding": [1, 0], "output_padding": [1, 0]}, "float32", "cpu", 3),
    Case(Conv((5,), (4,), (3,), (1,), c_in=2, c_out=3), {"padding": [2], "output_padding": [2]}, "float64", "cpu", 7),
]


@pytest.mark.parametrize("case", CASES, ids=["2d-groups-bias", "1d"])
def test_checked_reproducer_says_as_documented_for_a_correct_surface(case, monkeypatch):
    monkeypatch.setenv("FAKE_MUTATION", "none")
    surface = load().surfaces[0]
    assert run_case(surface, case).verdict == "pass"
    out, exc = _run(reproducer(surface, case, "0", check=True))
    assert exc is None and "as documented" in out, (out, exc)


@pytest.mark.parametrize("mutation, says", [("wrong-values", "max err/bound"), ("short-output", "shape"),
                                            ("crop-off-by-one", "max err/bound")])
def test_checked_reproducer_fails_where_the_suite_finds_a_divergence(mutation, says, monkeypatch):
    monkeypatch.setenv("FAKE_MUTATION", mutation)
    surface = load().surfaces[0]
    case = CASES[0]
    assert run_case(surface, case).verdict == "divergence"
    out, exc = _run(reproducer(surface, case, "0", check=True))
    assert isinstance(exc, AssertionError) and "DIVERGES" in out and says in out, (out, exc)


def test_checked_reproducer_of_a_swallowed_refusal_fails(monkeypatch):
    monkeypatch.setenv("FAKE_MUTATION", "swallow-refusal")
    surface = load().surfaces[0]
    case = Case(Conv((3,), (2,), (2,), (1,)), {"padding": [0], "output_padding": [2]}, "float64", "cpu", 1)
    assert surface.semantics(case.params, case.conv).refused
    out, exc = _run(reproducer(surface, case, "0", check=True))
    assert isinstance(exc, AssertionError) and "the docs refuse this call" in out, (out, exc)


def test_the_short_reproducer_is_the_inputs_and_the_surfaces_own_call():
    """The short reproducer is the inputs from the seed (a header and five lines), the surface's call function -- the
    very code the suite ran (conformance.core.source), without its docstring -- and the line that calls it."""
    surface = load().surfaces[0]
    script = reproducer(surface, CASES[0], "0")
    call = source_of(surface.call)
    assert call in script and '"""' not in script, script
    assert len(script.splitlines()) - len(call.splitlines()) <= 10 + len(surface.arguments(
        CASES[0].params, CASES[0].conv, "float64", "cpu")), script
    assert "import conformance" not in reproducer(surface, CASES[0], "0", check=True)
