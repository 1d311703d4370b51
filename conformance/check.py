"""Run one case on one surface and classify the outcome against the documented semantics.

A case is (surface, conv, the surface's params, dtype, device, seed). Inputs come from the seed, so every
outcome can be re-created by the ten-line `reproducer`. A framework exception is an outcome, never a crash
of the suite: it is compared with the documented refusal.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
import time
import traceback
from dataclasses import dataclass

import numpy as np

from .compare import Comparison, compare
from .isolate import run_isolated
from .reproducer import reproducer
from .spec import Conv, Problem, Window
from .surface import Documented, Surface

NUMPY_DTYPES = {"float16": "float16", "float32": "float32", "float64": "float64"}


@dataclass(frozen=True)
class Case:
    conv: Conv
    params: dict
    dtype: str = "float32"
    device: str = "cpu"
    seed: int = 0
    poison: tuple = ()      # ((array name "x" | "w" | "b", flat index, value), ...) set after drawing the inputs

    def describe(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.conv} {self.dtype} | {params} | device={self.device} seed={self.seed}"


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
    np_dtype = NUMPY_DTYPES[dtype]
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


def _format_error(type_name: str, message: str) -> str:
    """'ExceptionClass: the informative line'. Drops what frameworks wrap around the message: ANSI colours,
    TensorFlow's "{{function_node ...}}" prefix, Keras's "Exception encountered when calling ..." frame."""
    text = _TF_NODE.sub("", _ANSI.sub("", message))
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    informative = [ln for ln in lines if not ln.startswith(_WRAPPER_LINES)]
    first = (informative or lines or [""])[0]
    return f"{type_name}: {first}"[:500]


def _exception_text(exc: BaseException) -> str:
    return _format_error(type(exc).__name__, str(exc))


def run_case(surface: Surface, case: Case, isolate: bool = False, on_result=None) -> Outcome:
    """Run and classify one case; `isolate` runs the call in a child process (conformance.isolate).
    `on_result(documented, y, case, x, w, b) -> Outcome` classifies a returned array (default: shape, crop and
    values against the reference); exceptions and crashes are classified here whatever it is."""
    on_result = on_result or classify_result
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
        y = np.asarray(surface.run(x, w, b, case.params, case.conv, case.dtype, case.device))
    except Exception as exc:  # noqa: BLE001 - any framework exception is an outcome to classify
        call_s = time.perf_counter() - start
        outcome = _raised(documented, _exception_text(exc),
                          "".join(traceback.format_exception_only(exc)).strip()[-800:])
    else:
        call_s = time.perf_counter() - start
        outcome = on_result(documented, y, case, x, w, b)
    return dataclasses.replace(outcome, call_s=call_s)


def _run_isolated(surface: Surface, case: Case, documented: Documented, x, w, b, on_result) -> Outcome:
    got = run_isolated(reproducer(surface, case))
    if got.crash:
        return Outcome("divergence", "crash", documented, error=got.crash,
                       detail=f"the process making the call died ({got.crash}); last lines of its stderr:\n"
                              + got.stderr_tail, observed=f"process {got.crash}")
    if got.error_type:
        text = _format_error(got.error_type, got.error_message)
        return _raised(documented, text, text)
    return on_result(documented, got.y, case, x, w, b)


def _raised(documented: Documented, error: str, full: str) -> Outcome:
    observed = "raised " + error
    if documented.refused:
        return Outcome("refused", None, documented, error=error, detail="refused, as documented",
                       observed=observed)
    return Outcome("divergence", "error-vs-result", documented, error=error,
                   detail=f"the docs accept this call ({documented.window}); the framework raised it\n" + full,
                   observed=observed)


def classify_result(documented: Documented, y, case: Case, x, w, b) -> Outcome:
    """A returned array against the documented outcome: refusal, or shape, crop and values at the window."""
    y = np.asarray(y)
    if documented.refused:
        return returned_despite_refusal(documented, y, case, x, w, b)
    comparison = compare(y, x, w, b, Problem(case.conv, documented.window, case.dtype))
    if comparison.kind == "pass":
        return Outcome("pass", None, documented, comparison, observed=comparison.describe())
    return Outcome("divergence", comparison.kind, documented, comparison, detail=comparison.describe(),
                   observed=comparison.describe())


def returned_despite_refusal(documented: Documented, y, case: Case, x, w, b) -> Outcome:
    """The docs refuse the call and it returned: an error-vs-result divergence, with where the values sit."""
    located = _locate(y, case, x, w, b)
    where = "" if located is None or located.found_crop is None else f", values at crop {located.found_crop}"
    return Outcome("divergence", "error-vs-result", documented, located,
                   detail=f"the docs refuse this call; the framework returned shape {tuple(y.shape)}{where}",
                   observed=f"returned shape {tuple(y.shape)}{where}")


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
