"""The reference VJPs (conformance.core.gradients) against finite differences, the adjoint identity, the gather of
conformance.core.reference and the reproducers' inline reference; their bounds catch deliberately wrong gradients; the
gradient check (conformance.harness.gradcheck) classifies a NumPy fake surface's good and bad gradients."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conformance.core import gradients, reference
from conformance.core.bounds import error_ratio
from conformance.core.source import free_globals, shipped
from conformance.core.spec import Conv, Problem, Window
from conformance.harness import gradcheck
from conformance.harness.check import Case
from conformance.harness.surface import Documented, NoAutodiff, Refusal, Surface, window_from_dims
from tests.strategies import arrays_for, problems

SETTINGS = dict(deadline=None, derandomize=True, database=None)


def _loss(x, w, b, gy, problem):
    """<conv_transpose(x, w, b), gy>, whose gradients are the VJPs for the cotangent gy."""
    return float(np.vdot(reference.conv_transpose(x, w, b, problem), gy))


def _unit(shape, index):
    e = np.zeros(int(np.prod(shape)))
    e[index] = 1.0
    return e.reshape(shape)


def _cotangent(problem, seed):
    return np.random.default_rng(seed + 7).standard_normal(problem.output_shape)


@settings(max_examples=150, **SETTINGS)
@given(problem=problems(), seed=st.integers(0, 2 ** 16), data=st.data())
def test_vjp_matches_central_finite_differences(problem, seed, data):
    """The loss is linear in x, in w and in b, so a central difference with step h is exact up to float64
    rounding: every checked element of gx, gw, gb must agree to ~1e-12 relative to the terms' magnitude."""
    x, w, b = arrays_for(problem.conv, seed)
    gy = _cotangent(problem, seed)
    got = gradients.vjp(x, w, b, gy, problem)
    scale = gradients.vjp(np.abs(x), np.abs(w), None if b is None else np.abs(b), np.abs(gy), problem)
    h = 0.5
    for slot, (name, grad) in enumerate(got.items()):     # gx, gw (and gb): the slots of (x, w, b)
        base = (x, w, b)[slot]
        # every element of small arrays, a drawn sample of large ones
        indices = (range(base.size) if base.size <= 24 else
                   data.draw(st.lists(st.integers(0, base.size - 1), min_size=12, max_size=12, unique=True),
                             label=f"{name} indices"))
        for k in indices:
            plus, minus = [x, w, b], [x, w, b]
            plus[slot], minus[slot] = base + h * _unit(base.shape, k), base - h * _unit(base.shape, k)
            fd = (_loss(*plus, gy, problem) - _loss(*minus, gy, problem)) / (2 * h)
            tol = 1e-12 * (1.0 + float(getattr(scale, name).flat[k]) + float(np.abs(gy).sum()))
            assert abs(fd - grad.flat[k]) <= tol, f"{problem}: {name}[{k}] = {grad.flat[k]}, finite difference {fd}"


@settings(max_examples=300, **SETTINGS)
@given(problem=problems(), seed=st.integers(0, 2 ** 16))
def test_adjoint_identity(problem, seed):
    """y is linear in x and in w: <y - b, gy> = <x, gx> = <w, gw>, and <b, gb> = <b, sum gy>."""
    x, w, b = arrays_for(problem.conv, seed)
    gy = _cotangent(problem, seed)
    g = gradients.vjp(x, w, b, gy, problem)
    lhs = _loss(x, w, b, gy, problem) - gradients.bias_pairing(b, gy)
    scale = float(np.abs(x).sum() * np.abs(w).sum() * np.abs(gy).max()) + 1.0
    assert abs(lhs - float(np.vdot(x, g.gx))) <= 1e-12 * scale, problem
    assert abs(lhs - float(np.vdot(w, g.gw))) <= 1e-12 * scale, problem
    if b is not None:
        assert np.allclose(g.gb, gy.sum(axis=(0, *range(2, gy.ndim))), rtol=1e-12, atol=1e-12)


@settings(max_examples=200, **SETTINGS)
@given(problem=problems(), seed=st.integers(0, 2 ** 16))
def test_input_gradient_agrees_with_the_reference_gather_and_the_inline_reference(problem, seed):
    """Three implementations: gradients.vjp (one fancy-index gather), reference.conv_forward (the forward
    reference's adjoint) and the reproducers' inline per-tap loop (gradcheck.INLINE_VJP)."""
    x, w, b = arrays_for(problem.conv, seed)
    gy = _cotangent(problem, seed)
    g = gradients.vjp(x, w, b, gy, problem)
    np.testing.assert_allclose(g.gx, reference.conv_forward(gy, w, problem.conv, problem.window),
                               rtol=1e-12, atol=1e-12)
    namespace = {"np": np}
    exec(gradcheck.INLINE_VJP, namespace)  # noqa: S102 - the reproducers' own source
    conv, win = problem.conv, problem.window
    gx, gw, gb = namespace["reference_vjp"](x, w, gy, conv.stride, conv.dilation, conv.groups, win.crop, win.length)
    np.testing.assert_allclose(gx, g.gx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw, g.gw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gb, gradients.bias_grad(gy), rtol=1e-12, atol=1e-12)


def test_hand_computed_gradients():
    """x = [1, 2], w = [1, 10], s = 2, window = full [0, 4): y = [1, 10, 2, 20]; gy = [1, 2, 3, 4] ->
    gx[i] = sum_j gy[2i + j] w[j] = [1 + 20, 3 + 40]; gw[j] = sum_i gy[2i + j] x[i] = [1 + 6, 2 + 8];
    a window [-1, 5) puts gy[0] and gy[5] outside F: they reach only gb."""
    p = Problem(Conv((2,), (2,), (2,), (1,), bias=True), Window((0,), (4,)), "float64")
    g = gradients.vjp(np.array([[[1.0, 2.0]]]), np.array([[[1.0, 10.0]]]), np.zeros(1), np.array([[[1.0, 2, 3, 4]]]), p)
    np.testing.assert_array_equal(g.gx, [[[21.0, 43.0]]])
    np.testing.assert_array_equal(g.gw, [[[7.0, 10.0]]])
    np.testing.assert_array_equal(g.gb, [10.0])
    p = Problem(Conv((2,), (2,), (2,), (1,), bias=True), Window((-1,), (6,)), "float64")
    g = gradients.vjp(np.array([[[1.0, 2.0]]]), np.array([[[1.0, 10.0]]]), np.zeros(1),
                      np.array([[[100.0, 1, 2, 3, 4, 100]]]), p)
    np.testing.assert_array_equal(g.gx, [[[21.0, 43.0]]])
    np.testing.assert_array_equal(g.gb, [210.0])


def test_gradients_reject_a_cotangent_of_the_wrong_shape():
    p = Problem(Conv((2,), (2,), (1,), (1,)), Window((0,), (3,)), "float64")
    with pytest.raises(ValueError, match="gy has shape"):
        gradients.vjp(np.zeros((1, 1, 2)), np.zeros((1, 1, 2)), None, np.zeros((1, 1, 2)), p)


# -- the bounds: float32 rounding passes, deliberately wrong gradients fail -----------------------------------
def _as32(problem: Problem) -> Problem:
    return Problem(problem.conv, problem.window, "float32")


def _mutants(x, w, b, gy, problem):
    """Plausible wrong gradients: the flipped kernel, the window off by one, gb over [0, F) only, channels of
    a group swapped, the kernel gradient of the transposed (C_out, C_in) layout."""
    conv, win = problem.conv, problem.window
    flipped = np.flip(w, tuple(range(2, conv.rank + 2))).copy()
    shifted = Problem(conv, Window(tuple(c + 1 for c in win.crop), win.length), problem.dtype)
    inside = gradients.embed(gy, conv, win)
    yield "gx with the kernel flipped", "gx", gradients.vjp(x, flipped, b, gy, problem).gx
    yield "gx one position off", "gx", gradients.vjp(x, w, b, gy, shifted).gx
    yield "gw one position off", "gw", gradients.vjp(x, w, b, gy, shifted).gw
    if conv.bias:
        yield "gb of the full result only", "gb", inside.sum(axis=(0, *range(2, inside.ndim)))
    if conv.c_in > 1:
        yield "gx with input channels rolled", "gx", np.roll(gradients.vjp(x, w, b, gy, problem).gx, 1, axis=1)


@settings(max_examples=300, **SETTINGS)
@given(problem=problems(), seed=st.integers(0, 2 ** 16))
def test_bound_passes_float32_rounding_and_catches_wrong_gradients(problem, seed):
    p32 = _as32(problem)
    x, w, b = (None if a is None else a.astype(np.float32) for a in arrays_for(problem.conv, seed))
    gy = _cotangent(problem, seed).astype(np.float32)
    truth = gradients.vjp(x, w, b, gy, p32)
    bound = gradients.error_bounds(x, w, b, gy, p32)
    for name, exact in truth.items():
        # the exact gradient rounded to float32 is within the float32 bound
        assert error_ratio(exact.astype(np.float32), exact, getattr(bound, name)) <= 1.0, (problem, name)
    for label, name, wrong in _mutants(x, w, b, gy, p32):
        exact = getattr(truth, name)
        limit = getattr(bound, name)
        if np.all(np.abs(wrong - exact) <= 16 * limit):
            continue           # this mutant is (nearly) the truth for this problem: nothing to catch
        assert error_ratio(wrong, exact, limit) > 1.0, f"{problem}: {label} passed the bound"


def test_some_mutant_differs_often():
    """Guard against a vacuous bound test: on a fixed ordinary problem every mutant is caught."""
    problem = Problem(Conv((3, 4), (2, 3), (2, 1), (1, 2), batch=2, c_in=4, c_out=6, groups=2, bias=True),
                      Window((1, 0), (6, 8)), "float32")
    x, w, b = (a.astype(np.float32) for a in arrays_for(problem.conv, 3))
    gy = _cotangent(problem, 3).astype(np.float32)
    truth, bound = gradients.vjp(x, w, b, gy, problem), gradients.error_bounds(x, w, b, gy, problem)
    caught = [label for label, name, wrong in _mutants(x, w, b, gy, problem)
              if error_ratio(wrong, getattr(truth, name), getattr(bound, name)) > 1.0]
    assert len(caught) == 5, caught


@settings(max_examples=200, **SETTINGS)
@given(problem=problems(), seed=st.integers(0, 2 ** 16))
def test_adjoint_bound_holds_for_float32_results(problem, seed):
    """y, gx, gw each computed in float32 arithmetic (NumPy, from the float32 inputs) meet the adjoint bound."""
    p32 = _as32(problem)
    x, w, b = (None if a is None else a.astype(np.float32) for a in arrays_for(problem.conv, seed))
    gy = _cotangent(problem, seed).astype(np.float32)
    y = reference.conv_transpose(x, w, b, p32).astype(np.float32)
    g = gradients.vjp(x, w, b, gy, p32)
    lhs = float(np.vdot(y.astype(np.float64), gy)) - gradients.bias_pairing(b, gy)
    for name, primal, grad in (("gx", x, g.gx), ("gw", w, g.gw)):
        rhs = float(np.vdot(primal.astype(np.float64), grad.astype(np.float32)))
        assert abs(lhs - rhs) <= gradients.adjoint_bound(x, w, b, gy, p32, name), (problem, name)


# -- gradcheck on a NumPy fake surface ---------------------------------------------------------------------
@shipped
def reference_call(x, w, b, gy=None, *, stride, dilation, groups, crop, length, flavour):
    """The fake framework: the reference itself (conformance.core.reference, .gradients) in the window (crop, length);
    `flavour` picks the gradients it returns: right, a wrong gx, a forward that disagrees with its own gradients
    (adjoint only), no kernel gradient, a raising vjp, or a vjp that aborts the process."""
    import os

    from conformance.core import gradients, reference
    from conformance.core.spec import Conv, Problem, Window
    conv = Conv(x.shape[2:], w.shape[2:], stride, dilation, batch=x.shape[0], c_in=x.shape[1],
                c_out=w.shape[1] * groups, groups=groups, bias=b is not None)
    problem = Problem(conv, Window(crop, length), str(x.dtype))
    if gy is None:
        y = reference.conv_transpose(x, w, b, problem)
        return (y * (1 + 1e-3) if flavour == "adjoint" else y).astype(x.dtype)
    if flavour == "raise":
        raise RuntimeError("backward not implemented for this configuration")
    if flavour == "abort":
        os.abort()
    g = gradients.vjp(x, w, b, gy, problem)
    gx = g.gx * (1.01 if flavour == "gx" else 1.0)
    return gx.astype(x.dtype), None if flavour == "no-gw" else g.gw.astype(x.dtype), g.gb


class _Fake(Surface):
    """Full window (c = 0, L = F) unless `window` says otherwise; `flavour` picks what reference_call gets wrong."""

    flavour: str = "right"
    window: tuple | None = None

    def draw_params(self, draw, conv):
        return {}

    def semantics(self, params, conv):
        if params.get("refuse"):
            return Documented(refusal=Refusal("refused by the fake", "fake"))
        return window_from_dims(list(zip(*self._window(conv))), "full", "fake")

    def _window(self, conv):
        return self.window or ((0,) * conv.rank, conv.full_size)

    def arguments(self, params, conv, dtype, device, mode="eager"):
        crop, length = self._window(conv)
        return {"stride": conv.stride, "dilation": conv.dilation, "groups": conv.groups, "crop": tuple(crop),
                "length": tuple(length), "flavour": self.flavour}


def fake(flavour="right", window=None) -> _Fake:
    surface = _Fake(framework="fake", name="fake.conv_transpose", doc="", bias=True, groups=True,
                    call=reference_call, gradient=True)
    surface.flavour, surface.window = flavour, window
    return surface


CONV = Conv((3, 2), (2, 2), (2, 1), (1, 1), batch=2, c_in=2, c_out=3, bias=True)


@pytest.mark.parametrize("flavour, verdict, kind, names", [
    ("right", "pass", None, ""),
    ("gx", "divergence", "gradient", "gx"),
    ("no-gw", "divergence", "gradient", "gw: missing"),
    ("adjoint", "divergence", "adjoint", "adjoint-x"),
    ("raise", "divergence", "error-vs-result", "RuntimeError: backward not implemented"),
])
def test_gradcheck_classifies(flavour, verdict, kind, names):
    out = gradcheck.run_gradient_case(fake(flavour), Case(CONV, {}, "float32", "cpu", 5))
    assert (out.verdict, out.kind) == (verdict, kind), out.detail
    assert names in out.detail
    assert out.scripts is not None and "reference_vjp" in out.scripts[1]


def test_a_gradient_script_defines_the_call_once_and_calls_it_twice():
    short, checked = gradcheck.run_gradient_case(fake(), Case(CONV, {}, "float32", "cpu", 5)).scripts
    for script in (short, checked):
        assert script.count("def reference_call(") == 1, script
        assert "y = reference_call(" in script and "gx, gw, gb = reference_call(" in script, script


def test_gradcheck_skips_a_documented_refusal():
    assert gradcheck.run_gradient_case(fake(), Case(CONV, {"refuse": True}, "float32", "cpu", 5)) is None


def test_a_surface_without_vjp_says_so():
    surface = _Fake(framework="fake", name="nograd", doc="", call=reference_call)
    assert not surface.gradient and fake().gradient
    with pytest.raises(NoAutodiff, match="no autodiff"):
        surface.vjp(None, None, None, None, {}, CONV, "float32", "cpu")
    with pytest.raises(NoAutodiff, match="no autodiff"):
        surface.vjp_source({}, CONV, "float32", "cpu")


def test_the_shipped_fake_reads_no_module_global():
    assert free_globals(reference_call) == set()


@settings(max_examples=60, **SETTINGS)
@given(problem=problems(), seed=st.integers(0, 2 ** 16))
def test_checked_gradient_script_passes_on_the_reference_itself(problem, seed):
    """The checked reproducer's inline check accepts exact gradients (a fake surface that is the reference)."""
    assume(min(problem.window.length) >= 1)
    surface = fake(window=(problem.window.crop, problem.window.length))
    case = Case(problem.conv, {}, "float64", "cpu", seed)
    source = gradcheck.script(surface, case, check=True)
    exec(compile(source, "<gradient reproducer>", "exec"), {})  # noqa: S102 - asserts ok itself


@pytest.mark.parametrize("flavour, verdict, kind, names", [
    ("right", "pass", None, "adjoint-w"),
    ("no-gw", "divergence", "gradient", "gw: missing"),
    ("abort", "divergence", "crash", "SIGABRT"),
])
def test_gradcheck_isolated_runs_the_script_in_the_worker(flavour, verdict, kind, names):
    out = gradcheck.run_gradient_case(fake(flavour), Case(CONV, {}, "float64", "cpu", 5), isolate=True)
    assert (out.verdict, out.kind) == (verdict, kind), out.detail
    assert names in out.detail
