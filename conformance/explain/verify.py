"""`--verify`: run calls on the installed frameworks, in child processes, and set what they did beside the
documented prediction.

Each job is a script that, given canonical NumPy inputs x, w, b (from a seed, as in conformance.harness.check), sets `y`
(canonical layout). The jobs of one framework run in one child process (one import per framework); frameworks
never share a process, and every result is compared with the float64 reference (the star: ../shared/DESIGN.md).
A child that dies (an XLA abort) costs only its case: the jobs it had not reached run again in a fresh child.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from conformance.core.compare import compare
from conformance.core.spec import Conv, Problem, Window
from conformance.explain.common import EXPECTATIONS
from conformance.harness import expectations as exp
from conformance.harness import registry
from conformance.harness.check import make_inputs
from conformance.harness.surface import Documented, Surface

TIMEOUT_S = 300.0
VERSION_MODULES = registry.load().version_modules

_PROGRAM = '''
import json, sys
_out, _todo = sys.argv[1], [int(a) for a in sys.argv[2].split(",")]
{functions}
for _i in _todo:
    open(f"{{_out}}.{{_i}}.start", "w").close()
    try:
        _y = globals()[f"_case_{{_i}}"]()
        import numpy as _np
        _np.save(f"{{_out}}.{{_i}}.npy", _np.asarray(_y))
    except Exception as _exc:
        with open(f"{{_out}}.{{_i}}.error.json", "w") as _fh:
            json.dump({{"type": type(_exc).__name__, "message": str(_exc)}}, _fh)
_versions = {{m: getattr(sys.modules[m], "__version__", "?") for m in {modules!r} if m in sys.modules}}
with open(_out + ".versions.json", "w") as _fh:
    json.dump(_versions, _fh)
'''


@dataclass
class Job:
    surface: Surface
    conv: Conv
    params: dict                        # what the documented prediction is computed from
    script: str                         # sets y (canonical) from canonical x, w, b
    window: Documented                  # the prediction the result is judged against
    dtype: str = "float32"
    device: str = "cpu"
    seed: int = 0
    own: Documented | None = None       # the call's own documented window, when it differs from `window`
                                        # (a translation's target before its explicit crop): what entries match


@dataclass
class Result:
    y: np.ndarray | None = None
    error: str | None = None            # "ExceptionClass: message"
    crash: str | None = None
    stderr: str = ""
    versions: dict = field(default_factory=dict)


def inputs_lines(conv: Conv, dtype: str, seed: int) -> list[str]:
    """Canonical x, w, b as conformance.harness.check.make_inputs draws them."""
    return [
        "import numpy as np",
        f"rng = np.random.default_rng({seed})",
        f"x = rng.standard_normal({conv.input_shape}).astype({dtype!r})  # (N, C_in, *spatial)",
        f"w = rng.standard_normal({conv.kernel_shape}).astype({dtype!r})  # (C_in, C_out/groups, *k), no flip",
        f"b = rng.standard_normal({conv.c_out}).astype({dtype!r})" if conv.bias else "b = None",
    ]


def call_script(surface: Surface, conv: Conv, params: dict, dtype: str, device: str, seed: int) -> str:
    """The adapter's own call (its snippet) on inputs from the seed."""
    return "\n".join([*inputs_lines(conv, dtype, seed), surface.source(params, conv, dtype, device)])


def _child_env() -> dict:
    env = {**os.environ, "PYTHONFAULTHANDLER": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("KERAS_BACKEND", None)      # Keras snippets pick their backend (setdefault): the parent's must not win
    return env


def _run_child(scripts: dict[int, str], timeout: float) -> tuple[dict[int, Result], set[int]]:
    """Run the scripts in one child: results of the jobs it finished, and the ids it never started."""
    functions = "\n".join(f"def _case_{i}():\n{textwrap.indent(body, '    ')}\n    return y"
                          for i, body in scripts.items())
    program = _PROGRAM.format(functions=functions, modules=VERSION_MODULES)
    with tempfile.TemporaryDirectory(prefix="conformance-verify-") as tmp:
        out = str(Path(tmp) / "r")
        crash = None
        try:
            proc = subprocess.run([sys.executable, "-c", program, out, ",".join(map(str, scripts))],
                                  capture_output=True, text=True, timeout=timeout, env=_child_env())
            stderr = "\n".join(proc.stderr.strip().splitlines()[-12:])
            if proc.returncode < 0:
                try:
                    crash = f"killed by {signal.Signals(-proc.returncode).name}"
                except ValueError:
                    crash = f"killed by signal {-proc.returncode}"
            elif proc.returncode != 0:
                crash = f"exit status {proc.returncode}"
        except subprocess.TimeoutExpired:
            crash, stderr = f"timed out after {timeout:g} s", ""
        versions = {}
        if os.path.exists(out + ".versions.json"):
            versions = json.loads(Path(out + ".versions.json").read_text())
        results, unstarted = {}, set()
        for i in scripts:
            base = f"{out}.{i}"
            if os.path.exists(base + ".npy"):
                results[i] = Result(y=np.load(base + ".npy"), versions=versions)
            elif os.path.exists(base + ".error.json"):
                err = json.loads(Path(base + ".error.json").read_text())
                results[i] = Result(error=_error_line(err["type"], str(err["message"])), versions=versions)
            elif os.path.exists(base + ".start"):
                results[i] = Result(crash=crash or "the child stopped without a result", stderr=stderr)
            else:
                unstarted.add(i)
        return results, unstarted


def _error_line(type_name: str, message: str) -> str:
    """'ExceptionClass: the informative line' (the suite's own formatting: no TF node prefix, no Keras frame)."""
    try:
        from conformance.harness.check import _format_error
        return _format_error(type_name, message)[:400]
    except ImportError:
        first = next((ln.strip() for ln in message.splitlines() if ln.strip()), "")
        return f"{type_name}: {first}"[:400]


def run_group(scripts: dict[int, str], timeout: float = TIMEOUT_S) -> dict[int, Result]:
    """All scripts of one framework, in as few child processes as crashes allow."""
    results: dict[int, Result] = {}
    todo = dict(scripts)
    while todo:
        got, unstarted = _run_child(todo, timeout)
        results.update(got)
        if len(unstarted) == len(todo):     # the child died before its first job: nothing will change
            results.update({i: Result(crash="the child process failed before running any job") for i in todo})
            break
        todo = {i: todo[i] for i in unstarted}
    return results


def run_jobs(jobs: list[Job], workers: int = 2) -> list[Result]:
    """Every job, one child process per framework, `workers` frameworks at a time."""
    groups: dict[str, dict[int, str]] = {}
    for n, job in enumerate(jobs):
        groups.setdefault(job.surface.framework, {})[n] = job.script
    out: dict[int, Result] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for got in pool.map(run_group, groups.values()):
            out.update(got)
    return [out[n] for n in range(len(jobs))]


# -- judging ------------------------------------------------------------------------------------------------
@dataclass
class Verdict:
    agrees: bool
    kind: str | None                      # the divergence kind when not
    summary: str                          # one line
    measured_shape: tuple | None = None   # canonical (N, C, *spatial)
    measured_crop: tuple | None = None
    ratio: float | None = None            # err/bound at the predicted window
    error: str | None = None
    crash: str | None = None
    version: str = ""
    expected: list = field(default_factory=list)   # matching expected-divergence entries

    def to_json(self) -> dict:
        return {"agrees": self.agrees, "kind": self.kind, "summary": self.summary,
                "measured_shape": None if self.measured_shape is None else list(self.measured_shape),
                "measured_crop": None if self.measured_crop is None else list(self.measured_crop),
                "err_over_bound": None if self.ratio is None or not np.isfinite(self.ratio) else self.ratio,
                "error": self.error, "crash": self.crash, "version": self.version,
                "expected_divergences": [{"id": e.id, "kind": e.kind, "reason": " ".join(e.reason.split()),
                                          "link": e.link, "reported": e.reported} for e in self.expected]}


def locate(y: np.ndarray, x, w, b, conv: Conv, dtype: str, center) -> tuple | None:
    """The crop at which y's values sit in the full result (searched near `center`), None if none matches."""
    if y.ndim != conv.rank + 2 or y.shape[:2] != (conv.batch, conv.c_out) or not y.size:
        return None
    comparison = compare(y, x, w, b, Problem(conv, Window(tuple(center), tuple(y.shape[2:])), dtype))
    if comparison.kind == "pass":
        return tuple(center)
    return comparison.found_crop


def _installed_version(name: str) -> str:
    """The distribution's version from its metadata (no import), when the child died before reporting it."""
    from importlib import metadata
    for dist in (name, f"{name}-cpu"):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "?"


def _version(surface: Surface, versions: dict) -> str:
    name = surface.framework.split("-")[0]
    text = f"{name} {versions.get(name) or _installed_version(name)}"
    if name == "keras" and "-" in surface.framework:
        backend = surface.framework.split("-", 1)[1]
        text += f" (backend {backend} {versions.get(backend) or _installed_version(backend)})"
    return text


def judge(job: Job, result: Result) -> Verdict:
    conv, documented = job.conv, job.window
    x, w, b = make_inputs(conv, job.dtype, job.seed)
    version = _version(job.surface, result.versions)
    if result.crash:
        verdict = Verdict(False, "crash", f"the process died ({result.crash})", crash=result.crash, version=version)
    elif result.error:
        if documented.refused:
            verdict = Verdict(True, None, f"refused, as documented: {result.error}", error=result.error,
                              version=version)
        else:
            verdict = Verdict(False, "error-vs-result", f"raised {result.error}; the docs accept this call",
                              error=result.error, version=version)
    else:
        y = np.asarray(result.y)
        shape = tuple(y.shape)
        center = documented.window.crop if documented.window else (0,) * conv.rank
        crop = locate(y, x, w, b, conv, job.dtype, center)
        where = ("values found at crop " + "x".join(map(str, crop)) if crop
                 else "values match no crop near the prediction")
        if documented.refused:
            verdict = Verdict(False, "error-vs-result", f"returned shape {shape} ({where}); the docs refuse this call",
                              shape, crop, version=version)
        else:
            comparison = compare(y, x, w, b, Problem(conv, documented.window, job.dtype))
            if comparison.kind == "pass":
                verdict = Verdict(True, None, f"shape {shape}, crop {'x'.join(map(str, center))}, values within the "
                                  f"bound (err/bound {comparison.ratio:.2g})", shape, tuple(center),
                                  comparison.ratio, version=version)
            else:
                verdict = Verdict(False, comparison.kind, f"{comparison.kind} divergence: shape {shape}, {where}",
                                  shape, crop, comparison.ratio, version=version)
    if not verdict.agrees:
        verdict.expected = expected_entries(job, verdict)
    return verdict


def expected_entries(job: Job, verdict: Verdict) -> list:
    """The entries of suites/expected_divergences.toml that cover this divergence (same surface, kind, predicate)."""
    try:
        entries = exp.load(EXPECTATIONS)
    except exp.ExpectationsError:
        return []
    window = (job.own or job.window).window
    ns = exp.case_namespace(job.conv, job.params, job.dtype, job.device, job.surface.framework, verdict.version,
                            window)
    return exp.matching(entries, job.surface.id, ns, kind=verdict.kind, lenient=True)


def describe(verdict: Verdict, predicted: str) -> list[str]:
    """Text lines: the measurement beside the prediction; a mismatch loudly, with its expected-divergence entry."""
    head = f"verify ({verdict.version or 'framework'} on cpu, child process): "
    if verdict.agrees:
        return [head + "AGREES - " + verdict.summary]
    lines = ["!" * 78, head + "MISMATCH - " + verdict.summary, f"  predicted: {predicted}"]
    if verdict.error:
        lines.append(f"  raised:    {verdict.error}")
    if verdict.expected:
        for entry in verdict.expected:
            lines.append(f"  known: suites/expected_divergences.toml entry {entry.id!r}: "
                         f"{' '.join(entry.reason.split())[:300]}")
    else:
        lines.append("  not an expected divergence: nothing in suites/expected_divergences.toml covers it")
    lines.append("!" * 78)
    return lines
