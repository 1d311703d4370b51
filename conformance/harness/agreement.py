"""One case two ways: in two execution modes, on two devices, or called twice; each run is also judged against the
reference on its own (conformance.harness.check), and this module compares the two runs with each other.

  agree(...)        the same case in eager and in another mode (kind "mode"), or on the CPU and on a GPU (kind
                    "device"): they disagree when their verdicts, divergence kinds, shapes or found crops differ, or
                    when their values differ by more than both their error bounds together (each run's bound is its
                    own: the precision its surface documents for that mode and device, Surface.accumulation).
  determinism(...)  the same call twice on the same device: equal element by element (bitwise_equal), else kind
                    "nondeterminism" with the largest difference seen -- unless the framework documents that the
                    call may differ (Surface.nondeterminism), which the record then quotes, as documented.

Every run goes through conformance.harness.check.run_case, so isolation (the worker process for calls that may crash)
and the classification against the documentation are the same as in the conformance properties.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from conformance.core import bounds
from conformance.core.compare import Comparison
from conformance.core.spec import Problem
from conformance.harness import behaviour
from conformance.harness.check import Case, Outcome, accumulation, classify_result, make_inputs, run_case
from conformance.harness.surface import Surface


@dataclass(frozen=True)
class Run:
    """One run of a case: its outcome against the reference, and the array it returned (None if it raised)."""

    case: Case
    outcome: Outcome
    y: np.ndarray | None = None

    @property
    def label(self) -> str:
        return f"{self.case.mode} on {self.case.device}"


def run(surface: Surface, case: Case, isolate: bool = False) -> Run:
    """run_case, keeping the returned array (bounded in the precision the surface documents for the case)."""
    kept: dict = {}
    acc = accumulation(surface, case)

    def on_result(documented, y, case_, x, w, b):
        kept["y"] = np.asarray(y)
        return classify_result(documented, y, case_, x, w, b, accumulate=acc)

    outcome = run_case(surface, case, isolate=isolate, on_result=on_result)
    return Run(case, outcome, kept.get("y"))


def _signature(r: Run) -> tuple:
    """What two runs must share: verdict, kind, the shape and where the values sit."""
    o = r.outcome
    crop = o.comparison.found_crop if o.comparison is not None else None
    return (o.verdict, o.kind, None if r.y is None else tuple(r.y.shape), crop)


def _bound(surface: Surface, r: Run, x, w, b) -> np.ndarray | None:
    window = r.outcome.documented.window
    if window is None or r.y is None or tuple(r.y.shape[2:]) != tuple(window.length):
        return None
    problem = Problem(r.case.conv, window, r.case.dtype)
    return bounds.error_bound(x, w, b, problem, accumulate=accumulation(surface, r.case))


def agree(kind: str, surface: Surface, a: Run, b: Run) -> Outcome:
    """Run `b` (another mode, or a GPU) against run `a` (eager, or the CPU): kind "mode" or "device" when they
    disagree (module doc). The outcome's documented window is the case's; `comparison.ratio` is the largest
    |y_a - y_b| / (bound_a + bound_b) where both returned the documented shape."""
    documented = b.outcome.documented
    sa, sb = _signature(a), _signature(b)
    said = f"{a.label}: {a.outcome.observed or a.outcome.verdict}; {b.label}: {b.outcome.observed or b.outcome.verdict}"
    if sa != sb:
        what = ("verdict" if sa[0] != sb[0] else "divergence kind" if sa[1] != sb[1] else
                "shape" if sa[2] != sb[2] else "crop")
        detail = (f"the {kind}s disagree in {what}: {a.label} -> {a.outcome.verdict}"
                  f"{f' ({a.outcome.kind})' if a.outcome.kind else ''}, {b.label} -> {b.outcome.verdict}"
                  f"{f' ({b.outcome.kind})' if b.outcome.kind else ''}\n{said}")
        return Outcome("divergence", kind, documented, detail=detail, observed=said,
                       shape=None if b.y is None else tuple(b.y.shape),
                       behaviour=behaviour.disagree(what, _one_line(a), _one_line(b)))
    comparison = None
    if a.y is not None and b.y is not None and a.y.size:
        x, w, bias = make_inputs(b.case.conv, b.case.dtype, b.case.seed, b.case.poison)
        bound_a, bound_b = _bound(surface, a, x, w, bias), _bound(surface, b, x, w, bias)
        if bound_a is not None and bound_b is not None:
            ratio = float(np.max(_difference(a.y, b.y) / (bound_a + bound_b)))
            comparison = Comparison("pass" if ratio <= 1.0 else "value", documented.window, tuple(b.y.shape), ratio)
            if ratio > 1.0:
                detail = (f"the {kind}s' values differ by {ratio:.3g} times both error bounds together "
                          f"(max |difference| {_max_difference(a.y, b.y):.3g})\n{said}")
                return Outcome("divergence", kind, documented, comparison, detail=detail,
                               observed=f"values differ by {ratio:.3g} x (bound_a + bound_b)",
                               behaviour=behaviour.disagree("values", _one_line(a), _one_line(b)))
    return Outcome("pass", None, documented, comparison,
                   detail=f"{a.label} and {b.label} agree", observed=said,
                   shape=None if b.y is None or comparison is not None else tuple(b.y.shape))


def _one_line(r: Run) -> str:
    """What one run did, in the words a mode or device statement matches: 'pass: ...', 'refused: raised ...',
    'divergence error-vs-result: raised ...'."""
    o = r.outcome
    head = o.verdict if o.kind is None else f"{o.verdict} {o.kind}"
    return f"{head}: {o.observed or (o.error or '')}"[:400]


def _difference(ya, yb) -> np.ndarray:
    """|ya - yb| per element: 0 where equal (the same infinity, or NaN in both), inf where only one is NaN."""
    ya, yb = np.asarray(ya, np.float64), np.asarray(yb, np.float64)
    with np.errstate(invalid="ignore"):
        d = np.abs(ya - yb)
    d = np.where((ya == yb) | (np.isnan(ya) & np.isnan(yb)), 0.0, d)
    return np.where(np.isnan(d), np.inf, d)


def _max_difference(ya, yb) -> float:
    d = _difference(ya, yb)
    return float(np.max(d)) if d.size else 0.0


def bitwise_equal(ya, yb) -> bool:
    """Same shape, dtype and values, element by element (NaN where NaN; the signs of zeros and NaN payloads, which
    no property here looks at, aside)."""
    ya, yb = np.asarray(ya), np.asarray(yb)
    if ya.shape != yb.shape or ya.dtype != yb.dtype:
        return False
    return bool(np.array_equal(ya, yb, equal_nan=True))


def determinism(surface: Surface, first: Run, second: Run) -> Outcome:
    """The same call twice (module doc): kind "nondeterminism" with the largest difference, unless documented."""
    documented = first.outcome.documented
    case = first.case
    if first.y is None and second.y is None:
        same = first.outcome.error == second.outcome.error
        seen = "both calls raised" + ("" if same else f" differently: {first.outcome.error} | {second.outcome.error}")
        if same:
            return Outcome("refused" if documented.refused else "pass", None, documented, detail=seen, observed=seen)
        difference = seen
    elif first.y is None or second.y is None:
        difference = (f"one call raised ({first.outcome.error or second.outcome.error}), the other returned shape "
                      f"{(first.y if first.y is not None else second.y).shape}")
    elif bitwise_equal(first.y, second.y):
        return Outcome("pass", None, documented, detail="two calls, bitwise equal",
                       observed=f"bitwise equal, shape {tuple(first.y.shape)}", shape=tuple(first.y.shape))
    elif first.y.shape != second.y.shape:
        difference = f"two calls returned shapes {first.y.shape} and {second.y.shape}"
    else:
        d = _difference(first.y, second.y)
        n = int(np.count_nonzero(d))
        difference = f"two calls differ: max |difference| {float(np.max(d)):.3g} in {n} of {first.y.size} elements"
    shape = None if second.y is None else tuple(second.y.shape)
    documented_nd = surface.nondeterminism(case.device, case.mode)
    if documented_nd:
        return Outcome("pass", None, documented, detail=f"{difference}; documented: {documented_nd}",
                       observed=difference, shape=shape)
    return Outcome("divergence", "nondeterminism", documented,
                   detail=f"{difference}; the same call on the same device must give the same bits unless the "
                          "framework documents otherwise, and it does not", observed=difference, shape=shape,
                   behaviour=behaviour.nondeterministic(difference))


def twice(surface: Surface, case: Case, isolate: bool = False) -> tuple[Run, Run]:
    """Two runs of the same case (the determinism check's pair)."""
    return run(surface, case, isolate), run(surface, case, isolate)


def in_mode(case: Case, mode: str) -> Case:
    return dataclasses.replace(case, mode=mode)


def on_device(case: Case, device: str) -> Case:
    return dataclasses.replace(case, device=device)
