"""Gradients of one case on one surface: the framework's VJPs against the reference, and the adjoint identity.

    run_gradient_case(surface, case, version, isolate) -> GradientOutcome, or None when the docs refuse the call

Steps, each with its own verdict:
  1. the docs refuse the call: None (the gradient of a refused call is not defined; nothing is run);
  2. the forward call (surface.run) and the gradient computation (surface.vjp, cotangent gy from the seed, see
     conformance.core.gradients.cotangent): an exception is kind "error-vs-result" (the docs accept the call); a forward
     output of another shape than the documented one is kind "shape" (the forward properties own it; the gradients
     property records it and checks nothing more);
  3. gx, gw, gb each against the float64 reference VJPs within their per-element bounds (conformance.core.gradients):
     kind "gradient", the detail naming the array, its max err/bound and where;
  4. the adjoint identity on the framework alone, no reference involved: y = A(x, w) + b is linear in x and in w,
     so <y, gy> - <b, sum gy> = <x, gx> = <w, gw> with y, gx, gw all framework-computed, compared in float64 within
     the bound of conformance.core.gradients.adjoint_bound: kind "adjoint" (when step 3 passed; otherwise it is listed
     in the detail of the "gradient" outcome).
The outcome carries its own reproducers (the gradient script, short and checked), which the judge records instead
of the forward call's.
"""

from __future__ import annotations

import atexit
import math
import os
import re
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from conformance.core import gradients
from conformance.core.bounds import SMALLEST_NORMAL, UNIT_ROUNDOFF, error_ratio
from conformance.core.compare import Comparison
from conformance.core.spec import Problem
from conformance.harness import behaviour
from conformance.harness.check import Case, Outcome, accumulation, informative_line, make_inputs, raised_behaviour
from conformance.harness.isolate import Isolated, Worker
from conformance.harness.reproducer import reproducer
from conformance.harness.surface import Documented, NoAutodiff, Surface

NAMES = ("gx", "gw", "gb")


@dataclass(frozen=True)
class GradientOutcome(Outcome):
    scripts: tuple[str, str] | None = None      # (short, checked) gradient reproducers; the judge prefers them
    ratios: dict = field(default_factory=dict)  # err/bound per check: gx, gw, gb, adjoint-x, adjoint-w


# -- the reproducer ------------------------------------------------------------------------------------------
INLINE_VJP = '''
def reference_vjp(x, w, gy, stride, dilation, groups, crop, length):
    """float64 VJPs of the transposed conv: gy embedded in the full result (window [c, c+L), zero elsewhere),
    then per tap j the positions i*s + j*d gathered: gx += G_j . w_j, gw_j += G_j . x; gb = sum of gy."""
    x, w, gy = (np.asarray(a, np.float64) for a in (x, w, gy))
    n, c_in, *i_size = x.shape
    k = w.shape[2:]
    cg, mg = c_in // groups, w.shape[1]
    full_size = [(i - 1) * s + d * (kk - 1) + 1 for i, s, d, kk in zip(i_size, stride, dilation, k)]
    G = np.zeros((n, mg * groups, *full_size))
    lo = [max(c, 0) for c in crop]
    hi = [min(c + n_, f) for c, n_, f in zip(crop, length, full_size)]
    if all(h > l_ for l_, h in zip(lo, hi)):
        G[(slice(None), slice(None), *[slice(l_, h) for l_, h in zip(lo, hi)])] = gy[
            (slice(None), slice(None), *[slice(l_ - c, h - c) for l_, h, c in zip(lo, hi, crop)])]
    gx, gw = np.zeros(x.shape), np.zeros(w.shape)
    for tap in np.ndindex(*k):
        at = tuple(slice(j * d, j * d + (i - 1) * s + 1, s) for j, d, i, s in zip(tap, dilation, i_size, stride))
        for g in range(groups):
            ci, co = slice(g * cg, (g + 1) * cg), slice(g * mg, (g + 1) * mg)
            met = G[(slice(None), co, *at)]                 # (n, mg, *i): where tap j of every input lands
            gx[:, ci] += np.einsum("nm...,cm->nc...", met, w[(ci, slice(None), *tap)])
            gw[(ci, slice(None), *tap)] += np.einsum("nmp,ncp->cm", met.reshape(n, mg, -1), x[:, ci].reshape(n, cg, -1))
    return gx, gw, gy.sum(axis=(0, *range(2, gy.ndim)))
'''.strip("\n")

# a forward output of another shape than gy's: no gradient to check (the isolated run reads this marker)
_SHAPE_MARKER = "forward shape"
# the isolated script sets this name before the VJP, so an exception's stage (forward call or gradient) is known
STAGE_NAME = "__conformance_stage__"
_PACK = ("y = np.concatenate([np.array([-1.0]) if a is None else np.concatenate([[np.ndim(a)], np.shape(a), "
         "np.ravel(a)]).astype(np.float64) for a in (y, gx, gw, gb)])  # packed for conformance.harness.gradcheck")


def script(surface: Surface, case: Case, version: str = "", check: bool = False, pack: bool = False) -> str:
    """The gradient reproducer: the forward reproducer (inputs from the seed, the call, y), then the cotangent gy
    and the framework's VJPs (gx, gw, gb). `check` appends the checks: an inline NumPy reference VJP with the
    per-element bounds, and the adjoint identity with its bound, ending in `assert ok`. `pack` (isolated runs)
    packs y, gx, gw, gb into one `y` for the worker."""
    conv = case.conv
    documented = surface.semantics(case.params, conv)
    problem = Problem(conv, documented.window, case.dtype)
    lines = [
        reproducer(surface, case, version),
        f"gy = np.random.default_rng([{case.seed}, 1]).standard_normal({problem.output_shape}).astype({case.dtype!r})"
        "  # cotangent of y",
        f"assert tuple(np.shape(y)) == gy.shape, f'{_SHAPE_MARKER} {{np.shape(y)}}, documented {{gy.shape}}'",
        *([f"{STAGE_NAME} = 'gradient'  # conformance.harness.gradcheck: an exception from here on is the gradient's"]
          if pack else []),
        surface.vjp_source(case.params, conv, case.dtype, case.device, defined=True),
        "print(*(f'{n} {None if g is None else g.shape}' for n, g in (('gx', gx), ('gw', gw), ('gb', gb))))",
    ]
    if check:
        lines += ["", "# check against an inline NumPy reference VJP, then the adjoint identity (framework only)",
                  *_check_lines(surface, case, problem)]
    if pack:
        lines.append(_PACK)
    return "\n".join(lines)


def _check_lines(surface: Surface, case: Case, problem: Problem) -> list[str]:
    conv, win, dtype = problem.conv, problem.window, problem.dtype
    x, w, b = make_inputs(conv, dtype, case.seed)
    gy = gradients.cotangent(problem, case.seed)
    geometry = (f"stride={conv.stride}, dilation={conv.dilation}, groups={conv.groups}, crop={win.crop}, "
                f"length={win.length}")
    terms = gradients.terms(problem)
    acc = accumulation(surface, case)               # the precision the docs give the sums (None: the dtype's)
    bound_x = gradients.adjoint_bound(x, w, b, gy, problem, "gx", acc)
    bound_w = gradients.adjoint_bound(x, w, b, gy, problem, "gw", acc)
    u = UNIT_ROUNDOFF[acc or dtype]
    out = 0.0 if acc in (None, dtype) else UNIT_ROUNDOFF[dtype]
    tiny = max(SMALLEST_NORMAL[dtype], SMALLEST_NORMAL[acc or dtype])
    return [
        INLINE_VJP,
        f"ref = reference_vjp(x, w, gy, {geometry})",
        f"mag = reference_vjp(abs(x), abs(w), abs(gy), {geometry})",
        f"terms = {{'gx': {terms['gx']}, 'gw': {terms['gw']}, 'gb': {terms['gb']}}}  # conformance/core/gradients.py",
        "ok = True",
        "for name, got, want, m in zip(('gx', 'gw', 'gb'), (gx, gw, gb), ref, mag):",
        "    if name == 'gb' and b is None:",
        "        continue",
        "    if got is None:",
        "        print(name, 'missing: the framework gave no gradient for it')",
        "        ok = False",
        "        continue",
        f"    bound = (2 * (terms[name] + 2) * {u!r} + {out!r}) * m + terms[name] * {tiny!r}",
        "    got = np.asarray(got, np.float64)",
        "    err = np.abs(got - want) / bound if got.shape == want.shape else np.full(1, np.inf)",
        "    print(name, 'max err/bound', err.max() if err.size else 0.0)",
        "    ok = ok and bool(np.all(err <= 1))",
        "lhs = float(np.vdot(np.asarray(y, np.float64), gy)) - (0.0 if b is None else "
        "float(np.dot(b.astype(np.float64), gy.sum(axis=(0, *range(2, gy.ndim))))))",
        "if gx is not None and gw is not None:",
        "    on_x, on_w = float(np.vdot(x.astype(np.float64), gx)), float(np.vdot(w.astype(np.float64), gw))",
        "    print('<y, gy> - <b, sum gy> =', lhs, ' <x, gx> =', on_x, ' <w, gw> =', on_w)",
        f"    ok = ok and abs(lhs - on_x) <= {bound_x!r} and abs(lhs - on_w) <= {bound_w!r}  # adjoint bounds",
        "print('as documented' if ok else 'DIVERGES')",
        "assert ok, 'gradients diverge from the reference or from the adjoint identity'",
    ]


# -- running -------------------------------------------------------------------------------------------------
def _error_text(type_name: str, message: str) -> str:
    """'ExceptionClass: the first informative line' (framework wrappers and colours dropped: check.informative_line)."""
    return f"{type_name}: {informative_line(message)}"[:500]


_worker: Worker | None = None


def _run_isolated(source: str, fresh: bool = False) -> Isolated:
    """Run a gradient script in a worker process of its own, not the shared one
    (conformance.harness.isolate.default_worker): a call that corrupts the heap without dying at once
    (tf-onednn-backprop-filter-heap-corruption) then takes down only later gradient cases, never an unrelated
    property's. `fresh`: the process is closed after this script, so a corrupted heap dies with the case that corrupted
    it (the cases an expected crash entry flags run so)."""
    global _worker
    if _worker is None:
        _worker = Worker()
        atexit.register(_worker.close)
    try:
        return _worker.run(source)
    finally:
        if fresh:
            _worker.close()


def _unpack(flat: np.ndarray):
    """y, gx, gw, gb from the isolated run's packed array (see _PACK: ndim, shape, values; -1 for None)."""
    out, pos = [], 0
    for _ in range(4):
        ndim = int(flat[pos])
        if ndim < 0:
            out.append(None)
            pos += 1
            continue
        shape = tuple(int(v) for v in flat[pos + 1:pos + 1 + ndim])
        pos += 1 + ndim
        size = math.prod(shape)
        out.append(flat[pos:pos + size].reshape(shape))
        pos += size
    return tuple(out)


def run_gradient_case(surface: Surface, case: Case, version: str = "", isolate: bool | str = False
                      ) -> GradientOutcome | None:
    """Run and classify the gradients of one case (see the module doc); None when the docs refuse the call.
    `isolate`: True runs it in the gradient worker process, "fresh" in a worker process of its own (closed after)."""
    if os.environ.get("CONFORMANCE_TRACE"):
        # flushed before the call: when a framework kills the process, this line names the case
        sys.stderr.write(f"conformance: gradients of {surface.id}: {case.describe()}\n")
        sys.stderr.flush()
    documented = surface.semantics(case.params, case.conv)
    if documented.window is None:        # refused, or left open by the docs: no documented window to differentiate
        return None
    problem = Problem(case.conv, documented.window, case.dtype)
    x, w, b = make_inputs(case.conv, case.dtype, case.seed)
    gy = gradients.cotangent(problem, case.seed)
    scripts = (script(surface, case, version), script(surface, case, version, check=True))

    def outcome(verdict, kind, **kw) -> GradientOutcome:
        return GradientOutcome(verdict, kind, documented, scripts=scripts, **kw)

    def raised(type_name: str, message: str, stage: str) -> GradientOutcome:
        error = _error_text(type_name, message)
        what = "the forward call" if stage == "forward" else "the gradient computation"
        return outcome("divergence", "error-vs-result", error=error, observed="raised " + error,
                       detail=f"the docs accept this call ({documented.window}); {what} raised\n{error}",
                       behaviour=raised_behaviour(type_name, message, stage))

    def wrong_shape(shape) -> GradientOutcome:
        text = f"forward output shape {tuple(shape)}, documented {problem.output_shape}: no gradients checked"
        comparison = Comparison("shape", documented.window, tuple(shape), float("inf"))
        return outcome("divergence", "shape", detail=text, observed=text, comparison=comparison,
                       behaviour=behaviour.from_comparison(comparison))

    call_s = None
    if isolate:
        got = _run_isolated(script(surface, case, version, pack=True), fresh=isolate == "fresh")
        if got.crash:
            return outcome("divergence", "crash", error=got.crash, observed=f"process {got.crash}",
                           detail=f"the process computing the gradients died ({got.crash}); last lines of its "
                                  f"stderr:\n{got.stderr_tail}", behaviour=behaviour.crash(got.crash, got.stderr_tail))
        if got.error_type:
            if got.error_type == "AssertionError" and got.error_message.startswith(_SHAPE_MARKER):
                shape = re.search(r"\(([^)]*)\)", got.error_message)
                dims = tuple(int(v) for v in shape.group(1).replace(",", " ").split()) if shape else ()
                return wrong_shape(dims)
            return raised(got.error_type, got.error_message, "gradient" if got.stage == "gradient" else "forward")
        y, gx, gw, gb = _unpack(np.asarray(got.y))
    else:
        try:
            y = np.asarray(surface.run(x, w, b, case.params, case.conv, case.dtype, case.device))
        except Exception as exc:  # noqa: BLE001 - any framework exception is an outcome
            return raised(type(exc).__name__, str(exc), "forward")
        if y.shape != problem.output_shape:
            return wrong_shape(y.shape)
        start = time.perf_counter()
        try:
            gx, gw, gb = surface.vjp(x, w, b, gy, case.params, case.conv, case.dtype, case.device)
        except NoAutodiff:
            raise
        except Exception as exc:  # noqa: BLE001
            return raised(type(exc).__name__, str(exc), "gradient")
        call_s = time.perf_counter() - start
    accumulate = accumulation(surface, case)
    return classify_gradients(documented, problem, x, w, b, gy, y, (gx, gw, gb), outcome, call_s, accumulate)


def _worst(actual: np.ndarray, expected: np.ndarray, bound: np.ndarray) -> str:
    """Where the largest err/bound sits, with the two values."""
    with np.errstate(invalid="ignore", over="ignore"):
        ratio = np.abs(np.asarray(actual, np.float64) - expected) / bound
    ratio = np.where(np.isnan(ratio), np.inf, ratio)
    at = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    return f"at {tuple(int(i) for i in at)}: framework {float(actual[at]):.9g}, reference {float(expected[at]):.9g}"


def classify_gradients(documented: Documented, problem: Problem, x, w, b, gy, y, got, outcome, call_s=None,
                       accumulate: str | None = None) -> GradientOutcome:
    """gx, gw, gb against the reference within their bounds, then the adjoint identity; see the module doc.
    `accumulate`: the precision the surface documents for its sums (Surface.accumulation), None for the dtype's."""
    ref = gradients.vjp(x, w, b, gy, problem)
    bound = gradients.error_bounds(x, w, b, gy, problem, accumulate)
    ratios, failures, lines = {}, [], []
    for name, actual in zip(NAMES, got):
        want, limit = getattr(ref, name), getattr(bound, name)
        if want is None:
            continue                                     # no bias: gb is not checked
        if actual is None:
            ratios[name] = math.inf
            failures.append(name)
            lines.append(f"{name}: missing (the framework returned no gradient for it)")
            continue
        actual = np.asarray(actual)
        if actual.shape != want.shape:
            ratios[name] = math.inf
            failures.append(name)
            lines.append(f"{name}: shape {actual.shape}, expected {want.shape}")
            continue
        ratios[name] = error_ratio(actual, want, limit) if actual.size else 0.0
        line = f"{name}: max err/bound {ratios[name]:.3g}"
        if ratios[name] > 1.0:
            failures.append(name)
            line += " " + _worst(actual, want, limit)
        lines.append(line)
    adjoint_failures = []
    if not any(ratios.get(n) == math.inf for n in ("gx", "gw")):
        lhs = float(np.vdot(np.asarray(y, np.float64), np.asarray(gy, np.float64))) - gradients.bias_pairing(b, gy)
        for name, primal, grad in (("adjoint-x", x, got[0]), ("adjoint-w", w, got[1])):
            rhs = float(np.vdot(np.asarray(primal, np.float64), np.asarray(grad, np.float64)))
            limit = gradients.adjoint_bound(x, w, b, gy, problem, "gx" if name == "adjoint-x" else "gw", accumulate)
            diff = abs(lhs - rhs)
            ratios[name] = diff / limit if math.isfinite(diff) else math.inf
            inner = "<x, gx>" if name == "adjoint-x" else "<w, gw>"
            lines.append(f"{name}: <y, gy> - <b, sum gy> = {lhs:.12g} vs {inner} = {rhs:.12g}, "
                         f"err/bound {ratios[name]:.3g}")
            if not ratios[name] <= 1.0:
                adjoint_failures.append(name)
    worst = max(ratios.values(), default=0.0)
    observed = "; ".join(lines)
    comparison = Comparison("pass" if not (failures or adjoint_failures) else "value", problem.window,
                            tuple(np.shape(y)), worst)
    if failures:
        head = f"{', '.join(failures)}: missing, misshapen or beyond the per-element bound of the reference VJP"
        missing = [n for n in failures if got[NAMES.index(n)] is None]
        misshapen = [n for n in failures if n not in missing and ratios[n] == math.inf
                     and np.shape(got[NAMES.index(n)]) != np.shape(getattr(ref, n))]
        wrong = [n for n in failures if n not in missing and n not in misshapen]
        observed_behaviour = behaviour.gradient(wrong, missing, misshapen, adjoint_failures,
                                                max((ratios[n] for n in wrong), default=None))
        return outcome("divergence", "gradient", comparison=comparison, ratios=ratios, observed=observed,
                       detail="\n".join([head, *lines]), call_s=call_s, behaviour=observed_behaviour)
    if adjoint_failures:
        head = ("the framework's own gradients break the adjoint identity <y, gy> - <b, sum gy> = <x, gx> = <w, gw> "
                f"({', '.join(adjoint_failures)})")
        return outcome("divergence", "adjoint", comparison=comparison, ratios=ratios, observed=observed,
                       detail="\n".join([head, *lines]), call_s=call_s,
                       behaviour=behaviour.adjoint(adjoint_failures, max(ratios[n] for n in adjoint_failures)))
    return outcome("pass", None, comparison=comparison, ratios=ratios, observed=observed, detail="\n".join(lines),
                   call_s=call_s)
