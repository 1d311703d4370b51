"""Turn one classified outcome into a record and a verdict: pass, expected divergence, or failure.

A divergence fails the property unless an entry of the expected-divergences file (same surface, same kind,
predicate true) covers it. Every case also notes which entries' predicates it matched, so the end-of-run
summary can tell an expected divergence that stopped happening (XPASS) from one that still happens.
"""

from __future__ import annotations

import textwrap
import time
from dataclasses import dataclass, field

from . import expectations as exp
from .check import Case, Outcome, reproducer
from .records import RecordWriter
from .surface import Surface

# which divergence kinds each property fails on. A refusal mismatch makes the shape and the values uncheckable,
# so every property fails on it; a wrong shape or crop makes the values uncheckable. What a property sees and
# does not assert (a value error seen by test_refusals) is recorded as "other" and asserted where it belongs.
PROPERTY_KINDS = {
    "shapes": ("shape", "crop", "error-vs-result", "crash"),
    "values": ("value", "shape", "crop", "error-vs-result", "crash"),
    "refusals": ("error-vs-result", "crash"),
    "portable": ("value", "shape", "crop", "error-vs-result", "crash"),
    "nonfinite": ("nonfinite", "error-vs-result", "crash"),
    "errors": ("error-vs-result", "crash", "shape", "crop", "value"),
    "gradients": ("gradient", "adjoint", "error-vs-result", "crash"),
    # suites/test_dtypes.py, test_modes.py, test_devices.py (conformance.agreement): a half-precision, non-eager or
    # GPU case against the reference; the same case in two modes / on two devices against each other; one call twice
    "dtypes": ("value", "shape", "crop", "error-vs-result", "crash"),
    "modes": ("value", "shape", "crop", "error-vs-result", "crash"),
    "mode-agreement": ("mode",),
    "devices": ("value", "shape", "crop", "error-vs-result", "crash"),
    "device-agreement": ("device",),
    "determinism": ("nondeterminism",),
}


class DivergenceError(AssertionError):
    """A divergence the expected-divergences file does not cover; the message is the full report."""


@dataclass
class Judge:
    expectations: list[exp.Expectation]
    writer: RecordWriter | None
    run_id: str
    profile: str
    isolate_all: bool = False          # run every case in the worker process (--isolate all)
    # (framework, device name) -> the device's model, for the records' device_model (the plugin fills it from the
    # adapters' discovered devices)
    device_models: dict = field(default_factory=dict)

    def __repr__(self) -> str:   # Hypothesis prints fixtures of a failing example: keep it one line
        return f"<Judge run {self.run_id}, {len(self.expectations)} expected divergences>"

    def _repr_pretty_(self, printer, cycle) -> None:   # Hypothesis's pretty-printer would expand the dataclass
        printer.text(repr(self))

    @staticmethod
    def _namespace(surface: Surface, version: str, case: Case, documented) -> dict:
        return exp.case_namespace(case.conv, case.params, case.dtype, case.device, surface.framework, version,
                                  documented.window, case.poison, case.mode)

    def isolates(self, surface: Surface, version: str, case: Case) -> bool:
        """True when the case must run in the worker process: every case with --isolate all, else the cases an
        expected `crash` entry covers."""
        if self.isolate_all:
            return True
        ns = self._namespace(surface, version, case, surface.semantics(case.params, case.conv))
        return bool(exp.matching(self.expectations, surface.id, ns, kind="crash"))

    def judge(self, prop: str, surface: Surface, version: str, case: Case, outcome: Outcome,
              final: bool = True, intent: str | None = None, fault: dict | None = None) -> None:
        ns = self._namespace(surface, version, case, outcome.documented)
        matched = exp.matching(self.expectations, surface.id, ns)
        expected = None
        if outcome.verdict == "divergence":
            expected = next((e for e in matched if e.kind == outcome.kind), None)
        asserted = outcome.kind in PROPERTY_KINDS[prop]
        status = ("pass" if outcome.verdict != "divergence"
                  else "expected" if expected else "divergence" if asserted else "other")
        if self.writer is not None:
            self.writer.write(self._record(prop, surface, version, case, outcome, status, expected, matched, final,
                                           intent, fault))
        if status == "divergence":
            raise DivergenceError(failure_message(prop, surface, version, case, outcome))

    def _record(self, prop, surface, version, case, outcome, status, expected, matched, final, intent,
                fault) -> dict:
        doc = outcome.documented
        comparison = outcome.comparison
        return {
            "run_id": self.run_id, "time": time.time(), "profile": self.profile, "property": prop,
            "framework": surface.framework, "version": version, "surface": surface.id, "device": case.device,
            "device_model": self.device_models.get((surface.framework, case.device), ""),
            "dtype": case.dtype, "mode": case.mode, "config": _conv_json(case), "params": case.params,
            "seed": case.seed, "final": final, "call_s": outcome.call_s,
            "expected": ({"refusal": doc.refusal.reason, "doc": doc.refusal.doc} if doc.refused else
                         {"either": doc.rule, "doc": doc.doc} if doc.window is None else
                         {"crop": doc.window.crop, "length": doc.window.length, "rule": doc.rule, "doc": doc.doc}),
            "actual": ({"error": outcome.error} if outcome.error else
                       {"shape": comparison.actual_shape, "found_crop": comparison.found_crop} if comparison else
                       {"shape": outcome.shape, "found_crop": None} if outcome.shape is not None else
                       {}),
            "verdict": outcome.verdict, "kind": outcome.kind, "status": status,
            "err_over_bound": None if comparison is None or doc.refused else _finite(comparison.ratio),
            "expected_divergence": expected.id if expected else None,
            "expectations_matched": [e.id for e in matched],
            "detail": outcome.detail,
            # an outcome may carry its own reproducers (conformance.gradcheck: the gradient script), else the call's
            "reproducer": _scripts(outcome)[1] or reproducer(surface, case, version, check=True,
                                                             documented=outcome.documented),
            "intent": intent, "fault": fault,
        }


def _scripts(outcome: Outcome) -> tuple[str | None, str | None]:
    """(short, checked) reproducers the outcome carries itself (gradcheck.GradientOutcome.scripts), or Nones."""
    return getattr(outcome, "scripts", None) or (None, None)


def _finite(v: float):
    return v if v == v and v not in (float("inf"), float("-inf")) else str(v)


def _conv_json(case: Case) -> dict:
    c = case.conv
    out = {"in_size": c.in_size, "kernel": c.kernel, "stride": c.stride, "dilation": c.dilation,
           "batch": c.batch, "c_in": c.c_in, "c_out": c.c_out, "groups": c.groups, "bias": c.bias}
    if case.poison:
        out["poison"] = [[name, index, str(value)] for name, index, value in case.poison]
    return out


def failure_message(prop: str, surface: Surface, version: str, case: Case, outcome: Outcome) -> str:
    doc = outcome.documented
    verdict = outcome.detail.splitlines()[0] if outcome.detail else ""
    return "\n".join([
        f"{outcome.kind} divergence on {surface.id} ({surface.framework} {version}), property '{prop}'",
        f"  config:    {case.conv} {case.dtype} on {case.device}"
        + ("" if case.mode == "eager" else f", mode {case.mode}"),
        f"  params:    {', '.join(f'{k}={v}' for k, v in case.params.items())}",
        f"  expected:  {doc}",
        f"  actual:    {outcome.observed}",
        *([f"  verdict:   {verdict}"] if verdict and verdict != outcome.observed else []),
        "  if this is a known framework behaviour, add an entry to suites/expected_divergences.toml",
        "  reproduce:",
        textwrap.indent(_scripts(outcome)[0] or reproducer(surface, case, version, documented=doc), "    "),
    ])
