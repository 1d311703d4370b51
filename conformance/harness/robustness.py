"""Robustness: a valid call with one fault drawn from a per-argument fault space, run in the worker.

A fault is expressed in the surface's own terms: one keyword argument of its shipped call that is an API parameter
(`Surface.api_arguments`: stride, padding, output_shape, data_format, ...) replaced by a value of another kind or
out of range, or the call's input arrays changed (dtype, rank, channels, empty or non-contiguous views). The fault
space is derived from each argument's valid value (`argument_faults`): numbers become zero, negative, 2**31 and
beyond, non-integers, bools, None and strings; sequences gain or lose an entry (the rank in both directions), are
emptied or nested, get one entry faulted; strings become other strings, None or numbers; None becomes a value.

The oracle (issue: robustness): the call returns a result or raises a Python exception; it never kills its process
or hangs. Where the docs are silent, raising cleanly passes and a returned result is recorded (the errors view
shows who accepts what another refuses); a process death is a `crash` divergence, keyed by its signal and its
stderr's key line (conformance.harness.check.crashed).
"""

from __future__ import annotations

import atexit
import dataclasses
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from conformance.core import source
from conformance.harness.check import Case, Outcome, _format_error, crashed
from conformance.harness.isolate import Worker
from conformance.harness.surface import Documented, Surface

HUGE = 2 ** 31

# input faults: the line that changes the canonical arrays x (N, C_in, *i), w (C_in, C_out/groups, *k) and b before
# the call (the call's own layout conversion then hands the framework the faulty array)
INPUT_FAULTS = {
    "x-int32": "x = (x * 4).astype(np.int32)",
    "x-complex64": "x = x.astype(np.complex64)",
    "x-float16-w-float32": "x = x.astype(np.float16)",
    "w-float64-x-float32": "w = w.astype(np.float64)",
    "x-extra-leading-dim": "x = x[None]",
    "x-no-batch-dim": "x = x[0]",
    "x-one-more-channel": "x = np.concatenate([x, x[:, :1]], axis=1)",
    "w-one-more-in-channel": "w = np.concatenate([w, w[:1]], axis=0)",
    "x-empty-batch": "x = x[:0]",
    "x-empty-spatial": "x = x[..., :0]",
    "w-empty-kernel": "w = w[..., :0]",
    "x-reversed-view": "x = x[..., ::-1]",
    "x-strided-view": "x = np.repeat(x, 2, axis=-1)[..., ::2]",
    "x-as-nested-list": "x = x.tolist()",
    "w-extra-spatial-dim": "w = w[..., None]",
    "w-missing-spatial-dim": "w = w[..., 0]",
}


class Spelled:
    """A faulty value made by code in the reproducer (an array where a list of numbers goes): its repr is that code,
    so the call line (conformance.core.source.call_line spells values by repr) builds it in the script."""

    def __init__(self, code: str):
        self.code = code

    def __repr__(self) -> str:
        return self.code

    def __eq__(self, other) -> bool:
        return isinstance(other, Spelled) and other.code == self.code

    def __hash__(self) -> int:
        return hash(self.code)


def _int_faults(value: int) -> list[tuple[str, Any]]:
    # plus-one: one past a limit where the value sits at it (groups that no longer divide the channels, an
    # output_padding equal to the stride), a legal change elsewhere
    return [("zero", 0), ("negative", -1), ("min-int32", -HUGE), ("huge", HUGE), ("huge-int64", 2 ** 63),
            ("plus-one", value + 1), ("non-integer", value + 0.5), ("bool", True), ("none", None),
            ("string", str(value)), ("as-array", Spelled(f"np.asarray({value!r})"))]


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def argument_faults(value: Any) -> list[tuple[str, Any]]:
    """(fault kind, faulty value) for one argument's valid `value`, by the value's kind."""
    if isinstance(value, bool):
        return [("none", None), ("int", 2), ("string", "yes")]
    if _is_int(value):
        return _int_faults(value)
    if isinstance(value, str):
        other = value.lower() if value != value.lower() else value.upper()
        out = [("empty-string", ""), ("unknown-string", "NOT_A_MODE"), ("none", None), ("int", 1)]
        return out + ([("other-case", other)] if other != value else [])
    if value is None:
        return [("zero", 0), ("negative", -1), ("empty-list", []), ("string", "x")]
    if isinstance(value, (list, tuple)):
        seq = list(value)
        out: list[tuple[str, Any]] = [("none", None), ("string", "1"), ("empty", type(value)()),
                                      ("nested", type(value)([value]))]
        if seq:
            out += [("one-more-entry", type(value)(seq + seq[-1:])), ("one-fewer-entry", type(value)(seq[:-1]))]
            if len(seq) > 1:            # e.g. an output_shape without its batch entry
                out += [("without-first-entry", type(value)(seq[1:]))]
            first = seq[0]
            if all(_is_int(v) for v in seq):      # a tensor where the docs ask for a list of numbers
                out += [("as-array", Spelled(f"np.asarray({seq!r})"))]
            if _is_int(first):
                out += [(f"first-entry-{kind}", type(value)([bad, *seq[1:]])) for kind, bad in _int_faults(first)
                        if kind in ("zero", "negative", "huge", "non-integer")]
            elif isinstance(first, (list, tuple)) and first and _is_int(first[0]):
                out += [("first-pair-three-entries", type(value)([[*first, first[-1]], *seq[1:]])),
                        ("first-pair-huge", type(value)([[HUGE, HUGE], *seq[1:]])),
                        ("first-pair-negative", type(value)([[-HUGE, -1], *seq[1:]]))]
        return out
    return [("none", None), ("string", "1")]


@dataclass(frozen=True)
class Fault:
    """One fault: an argument replaced (`argument` is its key) or the inputs changed (`argument` None)."""

    kind: str
    argument: str | None = None
    value: Any = None

    @property
    def where(self) -> str:
        return self.argument or "input"

    @property
    def label(self) -> str:
        return f"{self.where}:{self.kind}"

    def json(self) -> dict:
        return {"case": self.label, "fault": self.where, "value": _jsonable(self.value),
                "expect": "any"}


def faults(surface, arguments: dict) -> list[Fault]:
    """Every fault of the space for this call: each API argument's faults, then the input faults."""
    out = [Fault(kind, key, bad) for key in surface.api_arguments if key in arguments
           for kind, bad in argument_faults(arguments[key])]
    return out + [Fault(kind) for kind in INPUT_FAULTS]


def apply(fault: Fault, arguments: dict) -> dict:
    return {**arguments, fault.argument: fault.value} if fault.argument else dict(arguments)


def input_line(fault: Fault) -> str:
    return INPUT_FAULTS[fault.kind] if fault.argument is None else ""


def _jsonable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) or value is None or isinstance(value, (bool, int, str)):
        return value
    return repr(value)


# -- one case, in the worker ---------------------------------------------------------------------------------------
DOC = "never a process death: a result or a Python exception (the frameworks' own error model; issue robustness)"
# a hang: a normal call here takes well under a second; a fresh worker imports in seconds
TIMEOUT_S = float(os.environ.get("CONFORMANCE_ROBUSTNESS_TIMEOUT", "30"))
# the worker's data-segment cap: a fault asking for a 2**31-long dimension is a legal request for some frameworks
# (JAX returned a 16 GiB array after 33 s here without it; with it, RESOURCE_EXHAUSTED: Out of memory)
DATA_LIMIT = int(os.environ.get("CONFORMANCE_ROBUSTNESS_DATA_LIMIT", str(6 * 2 ** 30)))
_worker: Worker | None = None


def worker() -> Worker:
    """The robustness cases' own worker process (reused; its data segment capped at DATA_LIMIT bytes)."""
    global _worker
    if _worker is None:
        _worker = Worker(TIMEOUT_S, env={"CONFORMANCE_WORKER_DATA_LIMIT": str(DATA_LIMIT)})
        atexit.register(_worker.close)
    return _worker


@dataclass(frozen=True)
class RobustnessOutcome(Outcome):
    scripts: tuple[str, str] | None = None      # (short, checked) reproducers: the faulty call; the judge prints it
    limits: tuple[float, int] | None = None     # (timeout, data-segment cap) the call ran under: a fresh process
                                                # re-running a crash (Judge._reproduce) gets the same


def checked_script(text: str) -> str:
    """The record's reproducer of a faulty call: `text` run in a child interpreter, so that running it reports a
    death instead of suffering it; it fails (AssertionError) when the call kills the process or hangs, and prints
    what the call did otherwise."""
    return "\n".join([
        "# checks the robustness oracle: the faulty call below must return or raise a Python exception in a fresh",
        "# process, never kill it (signal) or hang",
        "import resource, signal, subprocess, sys",
        f"CALL = {text!r}",
        f"CAP = {DATA_LIMIT}  # the child's data segment (bytes): a 2**31-long output fails to allocate",
        "try:",
        f"    done = subprocess.run([sys.executable, '-X', 'faulthandler', '-c', CALL], timeout={TIMEOUT_S:g},",
        "                          capture_output=True, text=True,",
        "                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_DATA, (CAP, CAP)))",
        "except subprocess.TimeoutExpired:",
        f"    raise AssertionError('DIVERGES: the call hung (no return within {TIMEOUT_S:g} s)')",
        "tail = (done.stderr.strip().splitlines() or [''])[-1]",
        "if done.returncode < 0:",
        "    print(done.stderr[-2000:], file=sys.stderr)",
        "    name = signal.Signals(-done.returncode).name",
        "    raise AssertionError(f'DIVERGES: the call killed its process with {name}')",
        "did = 'returned shape ' + done.stdout.strip() if done.returncode == 0 else 'raised ' + tail",
        "print('as documented: ' + did)",
    ])


def script(surface: Surface, case: Case, fault: Fault, version: str = "") -> str:
    """A self-contained script making the faulty call: the case's arrays, the input fault, the call's source."""
    conv = case.conv
    args = apply(fault, surface.arguments(case.params, conv, case.dtype, case.device))
    dtype = repr(case.dtype)
    lines = [f"# {surface.id} {version} on {case.device}, {case.dtype}; fault {fault.label}: the call must return "
             "or raise a Python exception, never kill the process",
             "import numpy as np",
             f"rng = np.random.default_rng({case.seed})",
             f"x = rng.standard_normal({conv.input_shape}).astype({dtype})  # (N, C_in, *spatial)",
             f"w = rng.standard_normal({conv.kernel_shape}).astype({dtype})  # (C_in, C_out/groups, *k), no flip",
             f"b = rng.standard_normal({conv.c_out}).astype({dtype})" if conv.bias else "b = None",
             *([input_line(fault)] if input_line(fault) else []),
             source.script(surface.call, "y", "x, w, b", args),
             "print(y.shape)",
             "y = np.array(np.shape(y))  # the property reads only the shape: no giant result crosses to the parent"]
    return "\n".join(lines)


def run(surface: Surface, case: Case, fault: Fault, version: str = "") -> RobustnessOutcome:
    text = script(surface, case, fault, version)
    documented = Documented(rule=DOC, doc=surface.doc)
    got = worker().run(text)
    if got.crash:
        out = crashed(documented, got)
    elif got.error_type:
        error = _format_error(got.error_type, got.error_message)
        out = Outcome("refused", None, documented, error=error, detail="raised a Python exception (clean)",
                      observed="raised " + error)
    else:
        shape = tuple(int(n) for n in np.asarray(got.y).tolist())
        out = Outcome("pass", None, documented, detail=f"returned shape {shape} (recorded for the errors view)",
                      observed=f"returned shape {shape}", shape=shape)
    return RobustnessOutcome(**{f.name: getattr(out, f.name) for f in dataclasses.fields(Outcome)},
                             scripts=(text, checked_script(text)), limits=(TIMEOUT_S, DATA_LIMIT))
