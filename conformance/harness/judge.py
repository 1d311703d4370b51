"""Turn one classified outcome into a record and a verdict: pass, expected divergence, or failure.

A divergence fails the property unless an entry of the expected-divergences file covers it exactly: same surface,
same kind, predicate true AND the entry's stated behaviour is what happened (conformance.harness.behaviour). A
divergence inside an entry's predicate that behaves otherwise is new, and its failure message says which statement
it broke.

An entry is *relevant* to a case when its surface glob and predicate cover the case and its kind is one the property
asserts (PROPERTY_KINDS). Every record lists its relevant entries with what each saw: `as-stated` (diverged as the
entry says), `conforming` (the case behaved as documented), `otherwise` (diverged in another way). The summary and
`python -m conformance entries` count these per entry: an entry's precision is as-stated / covered.

Budget: a drawn case that a relevant entry covers is run at the rate `revisit_rate` (enough for every entry to be
measured each run and an XPASS to be noticed); otherwise the property draws another case (`admit`), so the examples
go to cases judged on their merits. The choice is a draw of the test's own data (suites.strategies.judged), not a
counter, so Hypothesis replays and shrinks a failing example exactly (and shrinking prefers running it).
"""

from __future__ import annotations

import re
import textwrap
import time
from collections import Counter
from dataclasses import dataclass, field

from conformance.harness import behaviour as behaviour_mod
from conformance.harness import expectations as exp
from conformance.harness import isolate
from conformance.harness.check import Case, Outcome, make_inputs, reproducer
from conformance.harness.crashkey import fresh_text
from conformance.harness.records import RecordWriter
from conformance.harness.surface import Surface

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
    # suites/test_robustness.py: a faulty call must return or raise; only a process death is a divergence
    "robustness": ("crash",),
    "gradients": ("gradient", "adjoint", "error-vs-result", "crash"),
    # suites/test_dtypes.py, test_modes.py, test_devices.py (conformance.harness.agreement): a half-precision,
    # non-eager or GPU case against the reference; the same case in two modes / on two devices against each other;
    # one call twice
    "dtypes": ("value", "shape", "crop", "error-vs-result", "crash"),
    "modes": ("value", "shape", "crop", "error-vs-result", "crash"),
    "mode-agreement": ("mode",),
    "devices": ("value", "shape", "crop", "error-vs-result", "crash"),
    "device-agreement": ("device",),
    "determinism": ("nondeterminism",),
}


ENTRY_VERDICTS = ("as-stated", "conforming", "otherwise")


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
    # the share of the drawn cases an entry covers that run (module doc, Budget); 1: every one (measuring runs)
    revisit_rate: float = 0.05
    test_id: str = ""                                  # the pytest item running now (conftest.py sets it)
    admitted: Counter = field(default_factory=Counter)   # entry id -> covered cases run
    # (surface, crash signature) already run again in a fresh process by this judge (`_reproduce`)
    reproduced: set = field(default_factory=set)
    skipped: Counter = field(default_factory=Counter)    # entry id -> covered cases drawn and not run
    characterizer: object = None                       # conformance.harness.characterize.Characterizer, when on

    def __repr__(self) -> str:   # Hypothesis prints fixtures of a failing example: keep it one line
        return f"<Judge run {self.run_id}, {len(self.expectations)} expected divergences>"

    def _repr_pretty_(self, printer, cycle) -> None:   # Hypothesis's pretty-printer would expand the dataclass
        printer.text(repr(self))

    @staticmethod
    def _namespace(prop: str, surface: Surface, version: str, case: Case, documented) -> dict:
        return exp.case_namespace(case.conv, case.params, case.dtype, case.device, surface.framework, version,
                                  documented.window, case.poison, case.mode, prop, case.seed, case.fault)

    def relevant(self, prop: str, surface: Surface, version: str, case: Case, documented=None) -> list:
        """The entries whose surface glob and predicate cover the case and whose kind `prop` asserts."""
        documented = documented or surface.semantics(case.params, case.conv)
        ns = self._namespace(prop, surface, version, case, documented)
        return [e for e in exp.matching(self.expectations, surface.id, ns) if e.kind in PROPERTY_KINDS[prop]]

    def isolates(self, prop: str, surface: Surface, version: str, case: Case) -> bool:
        """True when the case must run in the worker process: every case with --isolate all, else the cases an
        expected `crash` entry covers."""
        if self.isolate_all:
            return True
        return any(e.kind == "crash" for e in self.relevant(prop, surface, version, case))

    def covering(self, props, surface: Surface, version: str, case: Case) -> set[str]:
        """The entries relevant to the case under one of `props` (a property name or several)."""
        props = (props,) if isinstance(props, str) else tuple(props)
        return {e.id for prop in props for e in self.relevant(prop, surface, version, case)}

    def admit(self, props, surface: Surface, version: str, case: Case, lottery: float = 0.0,
              force: bool = False) -> bool:
        """Whether to run a drawn case (module doc, Budget): True when no relevant entry covers it, or when
        `lottery` (a number in [0, 1) the property drew) is below revisit_rate, or `force` (the property's last
        redraw). Counts what it admits and skips, per entry."""
        covering = self.covering(props, surface, version, case)
        if not covering:
            return True
        if force or lottery < self.revisit_rate:
            for e in covering:
                self.admitted[e] += 1
            return True
        for e in covering:
            self.skipped[e] += 1
        return False

    def judge(self, prop: str, surface: Surface, version: str, case: Case, outcome: Outcome,
              final: bool = True, intent: str | None = None, fault: dict | None = None, probe=None) -> None:
        """Record the case and raise DivergenceError for a divergence no entry states. `probe(case) -> Outcome`
        re-runs this property's check on another case: the characterization of a divergence (when on) uses it."""
        ns = self._namespace(prop, surface, version, case, outcome.documented)
        matched = [e for e in exp.matching(self.expectations, surface.id, ns) if e.kind in PROPERTY_KINDS[prop]]
        verdicts, broken = {}, []
        for e in matched:
            if outcome.verdict != "divergence":
                verdicts[e.id] = "conforming"
                continue
            holds, why = (e.states(outcome.behaviour, ns) if e.kind == outcome.kind
                          else (False, f"the entry states a {e.kind} divergence; this one is {outcome.kind}"))
            verdicts[e.id] = "as-stated" if holds else "otherwise"
            if not holds and e.kind == outcome.kind:
                broken.append((e, why))
        expected = next((e for e in matched if verdicts[e.id] == "as-stated"), None)
        asserted = outcome.kind in PROPERTY_KINDS[prop]
        status = ("pass" if outcome.verdict != "divergence"
                  else "expected" if expected else "divergence" if asserted else "other")
        characterization = None
        if self.characterizer is not None and probe is not None and outcome.verdict == "divergence" \
                and status in ("expected", "divergence") and (final or status == "expected"):
            characterization = self.characterizer.characterize(prop, surface, version, case, outcome, expected,
                                                               probe, status, intent)
        exported = (self._export(prop, surface, case) if status == "divergence" and final and outcome.kind != "crash"
                    else None)
        reproduced = self._reproduce(surface, version, case, outcome, final)
        if self.writer is not None:
            self.writer.write(self._record(prop, surface, version, case, outcome, status, expected, matched, final,
                                           intent, fault, verdicts, characterization, exported, reproduced))
        if status == "divergence":
            raise DivergenceError(failure_message(prop, surface, version, case, outcome, broken, characterization,
                                                  exported, reproduced))

    def _reproduce(self, surface: Surface, version: str, case: Case, outcome: Outcome, final: bool) -> dict | None:
        """For a crash: the case's short reproducer run once more in a fresh interpreter (isolate.run_fresh), under
        the worker's own timeout and memory cap, on the final (shrunk) replay of a failing example and on the first
        crash of each signature this judge sees (an expected crash is never shrunk). What it did, and whether it
        died with the same signature (conformance.harness.crashkey); None for anything else."""
        if outcome.kind != "crash" or not outcome.behaviour:
            return None
        key = outcome.behaviour.get("key", "")
        if not final and (surface.id, key) in self.reproduced:
            return None
        self.reproduced.add((surface.id, key))
        timeout, data_limit = getattr(outcome, "limits", None) or (isolate.TIMEOUT_S, None)
        got = isolate.run_fresh(_scripts(outcome)[0] or reproducer(surface, case, version), timeout, data_limit)
        if got.crash:
            seen = behaviour_mod.crash(got.crash, got.stderr_tail)
            return {"outcome": "crash", "signal": seen["signal"], "key": seen["key"],
                    "same_signature": seen["key"] == key, "data_limit": data_limit}
        return {"outcome": "raised" if got.error_type else "returned", "signal": None, "key": None,
                "same_signature": False, "data_limit": data_limit}

    def _export(self, prop: str, surface: Surface, case: Case) -> str | None:
        """For a failing case of a conversion surface (one with `export`, conformance.harness.surface.Converted):
        the ONNX model its call makes, written next to the records as <records>.exported/<surface>-<prop>-<seed>.onnx
        by re-running the call (the record's reproducer re-exports it the same way); its path, or None (no records,
        not a conversion surface, or the conversion failed before it had a model)."""
        if self.writer is None or not hasattr(surface, "export"):
            return None
        folder = self.writer.path.parent / f"{self.writer.path.stem}.exported"
        name = re.sub(r"[^\w.]+", "-", surface.id)
        path = folder / f"{name}-{prop}-{case.dtype}-{case.seed}.onnx"
        folder.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        x, w, b = make_inputs(case.conv, case.dtype, case.seed, case.poison)
        try:
            surface.export(x, w, b, case.params, case.conv, case.dtype, case.device, str(path))
        except Exception:  # noqa: BLE001 - the call's own failure is the divergence already judged
            pass
        return str(path) if path.exists() else None

    def _record(self, prop, surface, version, case, outcome, status, expected, matched, final, intent,
                fault, verdicts=None, characterization=None, exported=None, reproduced=None) -> dict:
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
            "err_over_bound": None if comparison is None or doc.window is None else _finite(comparison.ratio),
            "expected_divergence": expected.id if expected else None,
            "expectations_matched": [e.id for e in matched],
            "entries": verdicts or {},
            "behaviour": outcome.behaviour,
            "draws": [list(d) for d in case.draws] if case.draws else None,
            "characterization": characterization,
            "detail": outcome.detail,
            # an outcome may carry its own reproducers (conformance.harness.gradcheck: the gradient script), else the
            # call's
            "reproducer": _scripts(outcome)[1] or reproducer(surface, case, version, check=True,
                                                             documented=outcome.documented),
            "intent": intent, "fault": fault,
            "converts": surface.extra.get("converts"),
            "exported": exported,
            "reproduced": reproduced,
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


def failure_message(prop: str, surface: Surface, version: str, case: Case, outcome: Outcome,
                    broken: list | None = None, characterization: dict | None = None,
                    exported: str | None = None, reproduced: dict | None = None) -> str:
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
        f"  behaviour: {behaviour_mod.describe(outcome.behaviour)}",
        *[f"  NEW inside entry {e.id!r}: its predicate covers this case, but it {why}" for e, why in (broken or [])],
        *([f"  characterization: {characterization.get('summary', '')}"] if characterization else []),
        *([f"  exported:  {exported} (the ONNX model of the conversion; the reproducer below makes it again)"]
          if exported else []),
        *([f"  signature: {(outcome.behaviour or {}).get('key', '')}", f"  fresh:     {fresh_text(reproduced)}"]
          if outcome.kind == "crash" else []),
        "  if this is a known framework behaviour, add an entry to suites/expected_divergences.toml",
        "  reproduce:",
        textwrap.indent(_scripts(outcome)[0] or reproducer(surface, case, version, documented=doc), "    "),
    ])
