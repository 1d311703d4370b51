"""Run one case on one surface and classify the outcome against the documented semantics.

A case is (surface, conv, the surface's params, dtype, device, seed, execution mode). Inputs come from the seed
(rounded to the dtype; bfloat16 through ml_dtypes), so every outcome can be re-created by the ten-line
`reproducer`. A framework exception is an outcome, never a crash of the suite: it is compared with the documented
refusal.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import sys
import time
import traceback
from dataclasses import dataclass

import numpy as np

from conformance.core import models
from conformance.core.compare import Comparison, compare
from conformance.core.spec import Conv, Problem, Window
from conformance.harness import behaviour
from conformance.harness.isolate import run_isolated
from conformance.harness.reproducer import reproducer
from conformance.harness.surface import Documented, Surface

NUMPY_DTYPES = {"float16": "float16", "float32": "float32", "float64": "float64"}


def numpy_dtype(dtype: str):
    """The NumPy dtype of `dtype`. NumPy has no bfloat16: it is ml_dtypes.bfloat16 (the small NumPy extension that
    JAX and TensorFlow ship), imported here, lazily, so the core stays framework-free; DtypeUnavailable without it."""
    if dtype in NUMPY_DTYPES:
        return np.dtype(NUMPY_DTYPES[dtype])
    if dtype == "bfloat16":
        try:
            import ml_dtypes
        except ImportError:
            raise DtypeUnavailable("bfloat16 needs ml_dtypes (pip install ml-dtypes; it comes with jax and "
                                   "tensorflow)") from None
        return np.dtype(ml_dtypes.bfloat16)
    raise DtypeUnavailable(f"no NumPy dtype for {dtype!r}")


def dtype_unavailable(dtype: str) -> str | None:
    """None if inputs of `dtype` can be made here, else the one-line reason (a skip, not a failure)."""
    try:
        numpy_dtype(dtype)
    except DtypeUnavailable as exc:
        return str(exc)
    return None


class DtypeUnavailable(Exception):
    """The dtype has no NumPy representation in this environment; the message is the skip reason."""


@dataclass(frozen=True)
class Case:
    conv: Conv
    params: dict
    dtype: str = "float32"
    device: str = "cpu"
    seed: int = 0
    poison: tuple = ()      # ((array name "x" | "w" | "b", flat index, value), ...) set after drawing the inputs
    mode: str = "eager"     # execution mode (Surface.modes): eager, or the surface's jit/compiled/... forms
    # the draws that made `params` ((label, kind, spec, value), ...; suites.strategies.HypothesisDrawer): replayed by
    # conformance.harness.characterize to vary one parameter while keeping the others' meaning
    draws: tuple = ()
    fault: str | None = None  # the robustness property's fault ("dilations:first-entry-huge"), a predicate name

    def describe(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in self.params.items())
        mode = "" if self.mode == "eager" else f" mode={self.mode}"
        fault = "" if self.fault is None else f" fault={self.fault}"
        return f"{self.conv} {self.dtype} | {params} | device={self.device}{mode} seed={self.seed}{fault}"


@dataclass(frozen=True)
class Outcome:
    verdict: str                       # "pass", "refused" (as documented) or "divergence"
    kind: str | None                   # divergence kind, None when not a divergence
    documented: Documented
    comparison: Comparison | None = None
    error: str | None = None           # "ExceptionClass: first line of message"
    detail: str = ""                   # why this verdict
    observed: str = ""                 # what came out, in one line
    call_s: float | None = None        # wall seconds inside the bare framework call (surface.run), when run here
    shape: tuple | None = None         # the output shape, where no comparison holds it (a result nothing predicts)
    # what the divergence did, as data (conformance.harness.behaviour); None otherwise
    behaviour: dict | None = None

    @property
    def ok(self) -> bool:
        return self.verdict != "divergence"

    @property
    def ratio(self) -> float | None:
        return None if self.comparison is None else self.comparison.ratio


def make_inputs(conv: Conv, dtype: str, seed: int, poison: tuple = ()):
    """x, w, b in canonical layout, standard normal from `seed`, rounded to `dtype`, then the `poison` values
    (NaN, +-Inf) set at their flat indices (the reproducer does the same)."""
    rng = np.random.default_rng(seed)
    np_dtype = numpy_dtype(dtype)
    x = rng.standard_normal(conv.input_shape).astype(np_dtype)
    w = rng.standard_normal(conv.kernel_shape).astype(np_dtype)
    b = rng.standard_normal(conv.c_out).astype(np_dtype) if conv.bias else None
    arrays = {"x": x, "w": w, "b": b}
    for name, index, value in poison:
        arrays[name].flat[index] = value
    return x, w, b


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_TF_NODE = re.compile(r"\{\{function_node [^}]*\}\}\s*")
_WRAPPER_LINES = ("Exception encountered when calling", "Arguments received by", "•")


_INNER_ERROR = re.compile(r"^\s*[A-Za-z_][\w.]*(?:Error|Exception): (.+)$", re.M)


def informative_line(message: str) -> str:
    """The first informative line of a framework's exception message. Drops what frameworks wrap around it: ANSI
    colours, TensorFlow's "{{function_node ...}}" prefix, Keras's "Exception encountered when calling ..." frame, and
    tf.function's "in user code: File ..." traceback (the inner exception's own line is the message)."""
    text = _TF_NODE.sub("", _ANSI.sub("", message))
    if text.lstrip().startswith("in user code:"):
        inner = _INNER_ERROR.findall(text)
        if inner:
            return inner[-1].strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    informative = [ln for ln in lines if not ln.startswith(_WRAPPER_LINES)]
    return (informative or lines or [""])[0]


def _format_error(type_name: str, message: str) -> str:
    """'ExceptionClass: the informative line' (informative_line)."""
    return f"{type_name}: {informative_line(message)}"[:500]


def _exception_text(exc: BaseException) -> str:
    return _format_error(type(exc).__name__, str(exc))


def raised_behaviour(type_name: str, message: str, stage: str = "call") -> dict:
    """The observed behaviour of an exception: its class and its informative line (plus what follows it, so a
    statement may name the rest of a multi-line message)."""
    text = _TF_NODE.sub("", _ANSI.sub("", message))
    first = informative_line(message)
    rest = text[text.find(first) + len(first):] if first and first in text else ""
    return behaviour.raised(type_name, (first + ("\n" + rest.strip() if rest.strip() else ""))[:800], stage)


def run_case(surface: Surface, case: Case, isolate: bool = False, on_result=None) -> Outcome:
    """Run and classify one case; `isolate` runs the call in a child process (conformance.harness.isolate).
    `on_result(documented, y, case, x, w, b) -> Outcome` classifies a returned array (default: shape, crop and
    values against the reference, bounded in the precision the surface documents for the case: accumulation);
    exceptions and crashes are classified here whatever it is."""
    on_result = on_result or functools.partial(classify_result, accumulate=accumulation(surface, case))
    if os.environ.get("CONFORMANCE_TRACE"):
        # the case about to run, flushed first: when a framework aborts the process, this line names the culprit
        sys.stderr.write(f"conformance: running {surface.id}: {case.describe()}\n")
        sys.stderr.flush()
    documented = surface.semantics(case.params, case.conv)
    x, w, b = make_inputs(case.conv, case.dtype, case.seed, case.poison)
    if isolate:
        return _run_isolated(surface, case, documented, x, w, b, on_result)
    start = time.perf_counter()
    try:
        y = np.asarray(call(surface, x, w, b, case))
    except Exception as exc:  # noqa: BLE001 - any framework exception is an outcome to classify
        call_s = time.perf_counter() - start
        outcome = _raised(documented, _exception_text(exc),
                          "".join(traceback.format_exception_only(exc)).strip()[-800:],
                          raised_behaviour(type(exc).__name__, str(exc)))
    else:
        call_s = time.perf_counter() - start
        outcome = on_result(documented, y, case, x, w, b)
    return dataclasses.replace(outcome, call_s=call_s)


def call(surface: Surface, x, w, b, case: Case):
    """surface.run for the case, in its mode."""
    return surface.run(x, w, b, case.params, case.conv, case.dtype, case.device, case.mode)


def accumulation(surface: Surface, case: Case) -> str | None:
    """The precision the surface documents for the case's sums (Surface.accumulation), None for its dtype."""
    return surface.accumulation(case.dtype, case.device, case.mode, case.params)


def _run_isolated(surface: Surface, case: Case, documented: Documented, x, w, b, on_result) -> Outcome:
    got = run_isolated(reproducer(surface, case))
    if got.crash:
        return crashed(documented, got)
    if got.error_type:
        text = _format_error(got.error_type, got.error_message)
        return _raised(documented, text, text, raised_behaviour(got.error_type, got.error_message))
    return on_result(documented, got.y, case, x, w, b)


def crashed(documented: Documented, got) -> Outcome:
    """The outcome of a call whose worker process died (conformance.harness.isolate.Isolated with `crash` set)."""
    return Outcome("divergence", "crash", documented, error=got.crash,
                   detail=f"the process making the call died ({got.crash}); last lines of its stderr:\n"
                          + got.stderr_tail, observed=f"process {got.crash}",
                   behaviour=behaviour.crash(got.crash, got.stderr_tail))


def _raised(documented: Documented, error: str, full: str, observed_behaviour: dict | None = None) -> Outcome:
    observed = "raised " + error
    if documented.refused:
        return Outcome("refused", None, documented, error=error, detail="refused, as documented",
                       observed=observed)
    if documented.window is None:          # an edge the docs leave open (conformance.core.rules: `open` checks)
        return Outcome("refused", None, documented, error=error, detail="refused (the docs leave it open)",
                       observed=observed)
    return Outcome("divergence", "error-vs-result", documented, error=error,
                   detail=f"the docs accept this call ({documented.window}); the framework raised it\n" + full,
                   observed=observed, behaviour=observed_behaviour)


def classify_result(documented: Documented, y, case: Case, x, w, b, accumulate: str | None = None) -> Outcome:
    """A returned array against the documented outcome: refusal, or shape, crop and values at the window
    (`accumulate`: the precision the framework documents for the sums, conformance.core.bounds)."""
    y = np.asarray(y)
    if documented.refused:
        return returned_despite_refusal(documented, y, case, x, w, b)
    if documented.window is None:          # an edge the docs leave open: any result passes; its shape and where
        located = _locate(y, case, x, w, b)   # its values sit are recorded (the alignment matrix reads them)
        where = "" if located is None or located.found_crop is None else f", values at crop {located.found_crop}"
        return Outcome("pass", None, documented, located, detail="returned (the docs leave it open)",
                       observed=f"returned shape {tuple(y.shape)}{where}", shape=tuple(y.shape))
    problem = Problem(case.conv, documented.window, case.dtype)
    comparison = compare(y, x, w, b, problem, accumulate=accumulate)
    if comparison.kind == "pass":
        return Outcome("pass", None, documented, comparison, observed=comparison.describe())
    observed = (value_behaviour(y, x, w, b, problem, comparison, accumulate) if comparison.kind == "value"
                else behaviour.from_comparison(comparison))
    return Outcome("divergence", comparison.kind, documented, comparison, detail=comparison.describe(),
                   observed=comparison.describe(), behaviour=observed)


def value_behaviour(y, x, w, b, problem: Problem, comparison: Comparison, accumulate: str | None = None) -> dict:
    """A value divergence as data: err/bound, the share of elements beyond the bound, the models it matches."""
    from conformance.core import bounds, reference
    y = np.asarray(y)
    ref = reference.conv_transpose(x, w, b, problem)
    bound = bounds.error_bound(x, w, b, problem, accumulate=accumulate)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(y.astype(np.float64) - ref)
    same = (np.isnan(y) & np.isnan(ref)) | (y.astype(np.float64) == ref)
    beyond = ~same & ~(err <= bound)
    fraction = float(beyond.mean()) if y.size else 0.0
    return behaviour.from_comparison(comparison, fraction, models.matching_values(y, x, w, b, problem, accumulate),
                                     int(beyond.sum()))


def returned_despite_refusal(documented: Documented, y, case: Case, x, w, b) -> Outcome:
    """The docs refuse the call and it returned: an error-vs-result divergence, with where the values sit."""
    located = _locate(y, case, x, w, b)
    where = "" if located is None or located.found_crop is None else f", values at crop {located.found_crop}"
    return Outcome("divergence", "error-vs-result", documented, located,
                   detail=f"the docs refuse this call; the framework returned shape {tuple(y.shape)}{where}",
                   observed=f"returned shape {tuple(y.shape)}{where}",
                   behaviour=behaviour.returned(y.shape, None if located is None else located.found_crop))


def _locate(y, case: Case, x, w, b) -> Comparison | None:
    """Where the values of a result the docs did not predict sit in the full result: the crop near 0 (the
    start of the full result) where they match the reference, as `found_crop`; None if y is not (N, C_out, ...)."""
    conv = case.conv
    if y.ndim != conv.rank + 2 or y.shape[:2] != (conv.batch, conv.c_out):
        return None
    start = Window((0,) * conv.rank, tuple(y.shape[2:]))
    comparison = compare(y, x, w, b, Problem(conv, start, case.dtype))
    if comparison.kind == "pass":
        return dataclasses.replace(comparison, found_crop=start.crop, found_ratio=comparison.ratio)
    return comparison
