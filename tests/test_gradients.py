"""The reference VJPs (conformance.gradients) against finite differences, the adjoint identity, the gather of
conformance.reference and the reproducers' inline reference; their bounds catch deliberately wrong gradients; the
gradient check (conformance.gradcheck) classifies a NumPy fake surface's good and bad gradients."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conformance import gradcheck, gradients, reference
from conformance.bounds import error_ratio
from conformance.check import Case
from conformance.spec import Conv, Problem, Window
from conformance.surface import Documented, Refusal, Surface, window_from_dims
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
class _Fake(Surface):
    """Full window (c = 0, L = F); `mode` picks the gradients it returns: right, a wrong gx, a forward that
    disagrees with its own gradients (adjoint only), no kernel gradient, or a raising vjp."""

    mode: str = "right"

    def draw_params(self, draw, conv):
        return {}

    def semantics(self, params, conv):
        if params.get("refuse"):
            return Documented(refusal=Refusal("refused by the fake", "fake"))
        return window_from_dims([(0, f) for f in conv.full_size], "full", "fake")

    def _problem(self, conv, dtype):
        return Problem(conv, Window((0,) * conv.rank, conv.full_size), dtype)

    def run(self, x, w, b, params, conv, dtype, device):
        y = reference.conv_transpose(x, w, b, self._problem(conv, dtype))
        if self.mode == "adjoint":
            y = y * (1 + 1e-3)         # a forward 0.1 % off, gradients right: only the adjoint identity sees it
        return y.astype(dtype)

    def vjp(self, x, w, b, gy, params, conv, dtype, device):
        if self.mode == "raise":
            raise RuntimeError("backward not implemented for this configuration")
        g = gradients.vjp(x, w, b, gy, self._problem(conv, dtype))
        gx = g.gx * (1.01 if self.mode == "gx" else 1.0)
        return gx.astype(dtype), None if self.mode == "no-gw" else g.gw.astype(dtype), g.gb

    def snippet(self, params, conv, dtype, device):
        return "y = None"

    def vjp_snippet(self, params, conv, dtype, device):
        return "gx = gw = gb = None"


CONV = Conv((3, 2), (2, 2), (2, 1), (1, 1), batch=2, c_in=2, c_out=3, bias=True)


@pytest.mark.parametrize("mode, verdict, kind, names", [
    ("right", "pass", None, ""),
    ("gx", "divergence", "gradient", "gx"),
    ("no-gw", "divergence", "gradient", "gw: missing"),
    ("adjoint", "divergence", "adjoint", "adjoint-x"),
    ("raise", "divergence", "error-vs-result", "RuntimeError: backward not implemented"),
])
def test_gradcheck_classifies(mode, verdict, kind, names):
    fake = _Fake(framework="fake", name="fake.conv_transpose", doc="", bias=True, groups=True)
    fake.mode = mode
    out = gradcheck.run_gradient_case(fake, Case(CONV, {}, "float32", "cpu", 5))
    assert (out.verdict, out.kind) == (verdict, kind), out.detail
    assert names in out.detail
    assert out.scripts is not None and "reference_vjp" in out.scripts[1]


def test_gradcheck_skips_a_documented_refusal():
    fake = _Fake(framework="fake", name="fake.conv_transpose", doc="", bias=True)
    assert gradcheck.run_gradient_case(fake, Case(CONV, {"refuse": True}, "float32", "cpu", 5)) is None


def test_a_surface_without_vjp_says_so():
    class NoGrad(_Fake):
        vjp = Surface.vjp
    surface = NoGrad(framework="fake", name="nograd", doc="")
    assert not surface.has_vjp and _Fake(framework="fake", name="f", doc="").has_vjp
    with pytest.raises(NotImplementedError, match="no autodiff"):
        surface.vjp(None, None, None, None, {}, CONV, "float32", "cpu")


@settings(max_examples=60, **SETTINGS)
@given(problem=problems(), seed=st.integers(0, 2 ** 16))
def test_checked_gradient_script_passes_on_the_reference_itself(problem, seed):
    """The checked reproducer's inline check accepts exact gradients (a fake surface that is the reference)."""
    assume(min(problem.window.length) >= 1)

    class Exact(_Fake):
        def semantics(self, params, conv):
            return window_from_dims(list(zip(problem.window.crop, problem.window.length)), "drawn", "fake")

        def snippet(self, params, conv, dtype, device):
            return ("from conformance import reference\nfrom conformance.spec import Problem, Window\n"
                    f"y = reference.conv_transpose(x, w, b, Problem(CONV_, Window({problem.window.crop}, "
                    f"{problem.window.length}), {dtype!r}))")

        def vjp_snippet(self, params, conv, dtype, device):
            return ("from conformance import gradients\n"
                    f"g = gradients.vjp(x, w, b, gy, Problem(CONV_, Window({problem.window.crop}, "
                    f"{problem.window.length}), {dtype!r}))\n"
                    "gx, gw, gb = g.gx, g.gw, g.gb")

    surface = Exact(framework="fake", name="exact", doc="", bias=True, groups=True)
    case = Case(problem.conv, {}, "float64", "cpu", seed)
    source = gradcheck.script(surface, case, check=True)
    namespace = {"CONV_": problem.conv}
    exec(compile(source, "<gradient reproducer>", "exec"), namespace)  # noqa: S102 - asserts ok itself


class _Scripted(_Fake):
    """For isolated runs: the worker executes the snippets, which compute with the reference, drop gw or abort."""

    def snippet(self, params, conv, dtype, device):
        return ("from conformance import reference\nfrom conformance.spec import Conv, Problem, Window\n"
                f"conv_ = {conv!r}\n"
                f"y = reference.conv_transpose(x, w, b, Problem(conv_, Window((0,) * conv_.rank, conv_.full_size), "
                f"{dtype!r})).astype({dtype!r})")

    def vjp_snippet(self, params, conv, dtype, device):
        if self.mode == "abort":
            return "import os\nos.abort()"
        return ("from conformance import gradients\n"
                "g = gradients.vjp(x, w, b, gy, "
                f"Problem(conv_, Window((0,) * conv_.rank, conv_.full_size), {dtype!r}))\n"
                f"gx, gw, gb = g.gx, {'None' if self.mode == 'no-gw' else 'g.gw'}, g.gb")


@pytest.mark.parametrize("mode, verdict, kind, names", [
    ("right", "pass", None, "adjoint-w"),
    ("no-gw", "divergence", "gradient", "gw: missing"),
    ("abort", "divergence", "crash", "SIGABRT"),
])
def test_gradcheck_isolated_runs_the_script_in_the_worker(mode, verdict, kind, names):
    fake = _Scripted(framework="fake", name="scripted", doc="", bias=True, groups=True)
    fake.mode = mode
    out = gradcheck.run_gradient_case(fake, Case(CONV, {}, "float64", "cpu", 5), isolate=True)
    assert (out.verdict, out.kind) == (verdict, kind), out.detail
    assert names in out.detail
