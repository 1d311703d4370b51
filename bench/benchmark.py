"""Benchmark of the conformance suite (not a test): where its time goes, and the reference against onnx.reference.

    python bench/benchmark.py [--frameworks torch,jax,...] [--profile ci] [--out reports/benchmark.txt]
                              [--no-onnx] [--onnx-only] [--keep DIR]

Part 1, per framework (tensorflow, torch, jax, keras-tensorflow, keras-torch, keras-jax; "keras" = all three):
runs the conformance suite in a child process, exactly as the tox env does, plus a timing plugin
(bench/pytest_timing.py):

    CONFORMANCE_PROFILE=ci python -m pytest suites --framework X --records R -p no:cacheprovider -q -p pytest_timing

and prints, from that plugin (pytest's own per-test durations, Hypothesis's own statistics) and the records:
  process        wall of the child process, from spawn to exit (the benchmark's clock)
    startup      spawn to end of collection: interpreter, pytest, the framework's import, test generation
    tests        first test start to last test end (pytest's report.start/stop)
    end          last test end to exit: the end-of-run conformance summary, interpreter shutdown
  property tests the summed pytest durations (setup + call + teardown) of the tests that write records
                 (test_shapes, test_values, test_refusals); the other tests (the reproducer replay, which
                 writes no record) are listed separately. The records' own `time` fields give the span from the
                 first record to the last, printed as a cross-check.
  examples       records written, one per judged case (= Hypothesis examples of the property tests, shrink
                 steps included); examples/s = examples / property-test wall
  Σ call_s       the records' call_s summed: wall seconds inside the bare framework call (surface.run). Cases
                 that run in a child process (expected crashes) have no call_s; their count and the child
                 processes' wall are printed apart.
  ratio          property-test wall / Σ call_s. Target <= 1.25. Also printed without the isolated cases'
                 child processes, whose bare call cannot be timed apart from the child's interpreter start.
  breakdown      the property-test wall split into: framework calls (Σ call_s); steps of the core timed by the
                 plugin's wrappers (make_inputs; compare = the float64 reference, the error bound and the crop
                 search; isolated child processes; Judge.isolates; Judge.judge = expectations + record); Hypothesis
                 data generation (Σ draw time, which includes the strategies and each surface's draw_params);
                 Hypothesis engine (phase durations minus the test cases' runtimes); pytest around Hypothesis
                 (test durations minus phase durations); and "rest inside test cases" (runtime not covered above:
                 documented semantics, array conversions outside surface.run, Case building).
  per surface    records, property-test wall, Σ call_s and ratio per API surface.

JAX: the jax env runs twice with CONFORMANCE_JAX_CACHE_DIR set to one fresh, empty folder (adapters/jax.py turns
on JAX's persistent compilation cache there, for every compile): "cold" fills the cache, "warm" reads it. The ci
profile is derandomized, so the warm run draws the same shapes. keras-jax gets the same cache through JAX's own
JAX_COMPILATION_CACHE_DIR variables (the keras adapter does not configure JAX), also cold then warm.
Each JAX run also prints JAX's own compile events in the test process (bench/pytest_timing.py, jax.monitoring):
backend compiles, their seconds, lowering seconds, persistent-cache hits. The jax env then runs a third time, cold,
with JAX_DISABLE_MOST_OPTIMIZATIONS=1: what XLA's optimizations cost in compile time, and whether any verdict
changes (a measurement only; the suite checks the default compiler configuration, the one users run).

Part 2, the reference against onnx.reference (needs `onnx`): the same transposed convolution, float64, through
conformance.core.reference.conv_transpose and through onnx.reference.ReferenceEvaluator on a one-node ConvTranspose
model. The canonical window (crop c, length L per dimension; F = (i-1)s + d(k-1) + 1) maps to ONNX as
pads_begin = c, and F - c - L as pads_end when >= 0, else as output_padding = c + L - F with pads_end = 0
(ONNX: out = s(i-1) + output_padding + d(k-1) + 1 - pads_begin - pads_end, the output_padding at the end). ONNX
pads are >= 0, so the problems use c >= 0. The ONNX kernel layout (C_in, C_out/group, *k) is the canonical one.
Prints the max |ours - onnx| (target <= 1e-12), the best-of-n time per call of each, and onnx / ours (target
>= 100). Evaluator construction is outside the timing; both get the same float64 arrays.

Part 3, with --tox or --tox-only: the README's main command, `python -m tox p -p 3` (every framework env three at a
time on two cores, longest first, then the summary; --parallel N for another count), run three times in this
checkout: once with --notest (env creation; cached by tox until pyproject.toml changes, so usually seconds), then
twice with XDG_CACHE_HOME on one fresh, empty folder, which
moves only JAX's compilation cache (tox.ini [jax_cache]; the envs exist, so pip does not run): "cold" compiles every
JAX shape, "warm" finds them. Prints each run's wall, tox's own per-env run time (`cmd`, from its final report), the
sum of those and warm / cold. The runs write the records and the report where the main job writes them
(reports/records/tox, reports/); a failing env is printed whole and the part reports the failure.

Timings come from whatever machine runs this; on a shared machine they move with its load.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
ALL = ("tensorflow", "torch", "jax", "keras-tensorflow", "keras-torch", "keras-jax")
ALIASES = {"tf": ["tensorflow"], "keras": ["keras-tensorflow", "keras-torch", "keras-jax"]}
RATIO_TARGET = 1.25
ONNX_SPEEDUP_TARGET = 100.0
ONNX_TOL = 1e-12
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
JAX_CACHE_ENV = {"JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0", "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "-1"}


class Out:
    """print() to stdout and, when asked, to a file."""

    def __init__(self, path: str | None):
        self.fh = None
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.fh = open(path, "w")  # noqa: SIM115 - open for the whole run, closed at exit

    def __call__(self, text: str = "") -> None:
        print(text, flush=True)
        if self.fh:
            self.fh.write(text + "\n")
            self.fh.flush()


# -- part 1: the suite ---------------------------------------------------------------------------------------
@dataclass
class SuiteRun:
    env_name: str
    label: str
    rc: int
    process_s: float
    marks: dict
    timing: dict
    records: list[dict]
    last_line: str
    log: Path
    extra: dict = field(default_factory=dict)


def _env_for(env_name: str, profile: str, timing_path: Path, cache_dir: str | None) -> dict:
    env = {**os.environ, "CONFORMANCE_PROFILE": profile, "PYTHONHASHSEED": "0", "TF_CPP_MIN_LOG_LEVEL": "2",
           "CONFORMANCE_BENCH_TIMING": str(timing_path),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH), os.environ.get("PYTHONPATH")]))}
    for name in ("CONFORMANCE_JAX_CACHE_DIR", "JAX_COMPILATION_CACHE_DIR", *JAX_CACHE_ENV):
        env.pop(name, None)
    if env_name.startswith("keras-"):
        env["KERAS_BACKEND"] = env_name.split("-", 1)[1]
    if env_name == "keras-jax":
        env["JAX_ENABLE_X64"] = "1"          # as tox.ini: without it Keras computes float64 layers in float32
        if cache_dir:
            env.update(JAX_COMPILATION_CACHE_DIR=cache_dir, **JAX_CACHE_ENV)
    elif env_name == "jax" and cache_dir:
        env["CONFORMANCE_JAX_CACHE_DIR"] = cache_dir
    return env


def _read_records(path: Path) -> list[dict]:
    out = []
    if not path.exists():
        return out
    with path.open() as fh:
        for line in fh:
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                break
    return out


def run_suite(env_name: str, label: str, profile: str, work: Path, cache_dir: str | None = None,
              extra_env: dict | None = None) -> SuiteRun:
    tag = label.replace(" ", "-")
    records, timing, log = work / f"{tag}.jsonl", work / f"{tag}.timing.json", work / f"{tag}.log"
    framework = "keras" if env_name.startswith("keras-") else env_name
    cmd = [sys.executable, "-m", "pytest", "suites", "--framework", framework, "--records", str(records),
           "-p", "no:cacheprovider", "-q", "-p", "pytest_timing"]
    env = {**_env_for(env_name, profile, timing, cache_dir), **(extra_env or {})}
    start = time.time()
    with log.open("w") as fh:
        rc = subprocess.run(cmd, check=False, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT).returncode
    process_s = time.time() - start
    data = json.loads(timing.read_text()) if timing.exists() else {"marks": {}, "tests": {}}
    marks = {k: v - start for k, v in data.get("marks", {}).items()}
    lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    last = next((ln.strip("= ") for ln in reversed(lines) if " in " in ln and ("passed" in ln or "failed" in ln)),
                lines[-1] if lines else "")
    return SuiteRun(env_name, label, rc, process_s, marks, data, _read_records(records), last, log)


def _is_property_test(nodeid: str, props: set[str]) -> bool:
    return any(f"::test_{p}[" in nodeid for p in props)


def _surface_of(nodeid: str) -> str:
    return nodeid.split("[", 1)[1].rsplit("@", 1)[0] if "[" in nodeid else nodeid


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:5.1f}%" if whole > 0 else "    -"


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("inf")


def analyse(run: SuiteRun) -> dict:
    recs = run.records
    props = {r.get("property") for r in recs} or {"shapes", "values", "refusals"}
    tests = run.timing.get("tests", {})

    def wall(t):
        return t.get("setup", 0.0) + t.get("call", 0.0) + t.get("teardown", 0.0)

    prop_ids = [n for n in tests if _is_property_test(n, props)]
    other_ids = [n for n in tests if n not in prop_ids]
    w_prop = sum(wall(tests[n]) for n in prop_ids)
    calls = [r["call_s"] for r in recs if r.get("call_s") is not None]
    sigma_call = sum(calls)
    hyp = run.timing.get("hypothesis", {})
    spans = run.timing.get("spans", {})

    def hsum(ids, key):
        """Hypothesis statistics summed over tests; a test without them (a plain parametrized test) counts its
        call phase as one phase and one test case's runtime."""
        total = 0.0
        for n in ids:
            if hyp.get(n):
                total += sum(ph[key] for ph in hyp[n].values())
            elif key in ("duration", "runtime"):
                total += tests[n].get("call", 0.0)
        return total

    def span(ids, name):
        return sum(spans.get(n, {}).get(name, (0, 0.0))[1] for n in ids)

    span_names = sorted({k for n in prop_ids for k in spans.get(n, {})})
    isolated_s = span(prop_ids, "isolated child processes")
    times = [r["time"] for r in recs if "time" in r]
    per_surface = {}
    for n in prop_ids:
        s = per_surface.setdefault(_surface_of(n), {"wall": 0.0, "records": 0, "call": 0.0, "isolated": 0,
                                                    "isolated_s": 0.0})
        s["wall"] += wall(tests[n])
        s["isolated_s"] += spans.get(n, {}).get("isolated child processes", (0, 0.0))[1]
    for r in recs:
        s = per_surface.setdefault(r.get("surface", "?"), {"wall": 0.0, "records": 0, "call": 0.0, "isolated": 0,
                                                           "isolated_s": 0.0})
        s["records"] += 1
        if r.get("call_s") is None:
            s["isolated"] += 1
        else:
            s["call"] += r["call_s"]
    per_property = {}
    for n in prop_ids:
        prop = next(p for p in props if f"::test_{p}[" in n)
        s = per_property.setdefault(prop, {"wall": 0.0, "records": 0, "call": 0.0, "hypothesis": bool(hyp.get(n))})
        s["wall"] += wall(tests[n])
    for r in recs:
        s = per_property.setdefault(r.get("property"), {"wall": 0.0, "records": 0, "call": 0.0, "hypothesis": False})
        s["records"] += 1
        s["call"] += r.get("call_s") or 0.0
    return {
        "per_property": per_property,
        "other_names": sorted({n.split("::")[-1].split("[")[0] for n in other_ids}),
        "props": sorted(props), "prop_ids": prop_ids, "other_ids": other_ids, "w_prop": w_prop,
        "w_other": sum(wall(tests[n]) for n in other_ids), "n": len(recs), "n_calls": len(calls),
        "sigma_call": sigma_call, "isolated_n": len(recs) - len(calls), "isolated_s": isolated_s,
        "phases": hsum(prop_ids, "duration"), "runtime": hsum(prop_ids, "runtime"),
        "drawtime": hsum(prop_ids, "drawtime"), "gctime": hsum(prop_ids, "gctime"),
        "hyp_cases_all": sum(ph["cases"] for h in hyp.values() for ph in h.values()),
        "spans": {k: span(prop_ids, k) for k in span_names},
        "record_span": (max(times) - min(times)) if times else 0.0,
        "statuses": _count(r.get("status") for r in recs), "per_surface": per_surface,
    }


def _count(items) -> dict:
    out: dict = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return out


def report_suite(run: SuiteRun, a: dict, out: Out) -> None:
    m = run.marks
    version = run.records[0].get("version", "?") if run.records else "?"
    startup, first, last = m.get("collection_finish"), m.get("first_test_start"), m.get("last_test_stop")
    out(f"== {run.label}  ({version})   pytest: {run.last_line}   exit {run.rc}")
    if startup is None or first is None or last is None:
        out(f"   no timing from the plugin; see {run.log}")
        return
    out(f"   process {run.process_s:7.1f} s = startup {startup:.1f} s (interpreter, pytest, framework import, "
        f"collection) + tests {last - first:.1f} s + end {run.process_s - last:.1f} s (summary, exit)")
    out(f"   property tests ({', '.join('test_' + p for p in a['props'])}): {a['w_prop']:.1f} s over "
        f"{len(a['prop_ids'])} tests; other tests: {a['w_other']:.1f} s ({len(a['other_ids'])}: "
        f"{', '.join(a['other_names']) or '-'}; no records); records' time span {a['record_span']:.1f} s")
    eps = _ratio(a["n"], a["w_prop"])
    out(f"   examples (cases judged = records) {a['n']}, statuses {a['statuses']} -> {eps:.0f} examples/s of "
        f"property-test wall; Hypothesis test cases of all tests: {a['hyp_cases_all']:.0f}")
    ratio = _ratio(a["w_prop"], a["sigma_call"])
    verdict = "met" if ratio <= RATIO_TARGET else "MISSED"
    out(f"   Σ call_s {a['sigma_call']:.2f} s over {a['n_calls']} in-process cases; ratio wall/Σcall_s = {ratio:.2f} "
        f"(target <= {RATIO_TARGET}: {verdict})")
    if a["isolated_n"]:
        out(f"   isolated cases: {a['isolated_n']} in child processes, {a['isolated_s']:.1f} s of wall; ratio "
            f"without them = {_ratio(a['w_prop'] - a['isolated_s'], a['sigma_call']):.2f}")
    w = a["w_prop"]
    rows = [("framework calls (Σ call_s)", a["sigma_call"])]
    rows += [(k, v) for k, v in a["spans"].items()]
    rows += [("Hypothesis data generation (draw time)", a["drawtime"]),
             ("Hypothesis engine (phases - test-case runtime)", a["phases"] - a["runtime"]),
             ("pytest (setup, teardown, around the test function)", w - a["phases"]),
             (f"rest inside test cases (of which GC {a['gctime']:.2f} s)",
              a["runtime"] - a["drawtime"] - a["sigma_call"] - sum(a["spans"].values()))]
    out("   where the property-test wall goes:")
    for name, v in rows:
        out(f"     {name:<48} {v:8.2f} s {_pct(v, w)}")
    out("   per property:                                  records  wall s  Σcall_s  ratio")
    for prop, s in sorted(a["per_property"].items(), key=lambda kv: str(kv[0])):
        kind = "Hypothesis" if s["hypothesis"] else "grid"
        out(f"     test_{prop} ({kind}){'':<{max(0, 34 - len(str(prop)) - len(kind))}} {s['records']:5d} "
            f"{s['wall']:7.1f} {s['call']:8.2f} {_ratio(s['wall'], s['call']):6.1f}")
    out("   per surface:                                    records  wall s  Σcall_s  ratio  isolated (n, s)")
    for sid, s in sorted(a["per_surface"].items()):
        iso = f"{s['isolated']}, {s['isolated_s']:.1f}" if s["isolated"] else ""
        out(f"     {sid:<46} {s['records']:5d} {s['wall']:7.1f} {s['call']:8.2f} "
            f"{_ratio(s['wall'], s['call']):6.1f}  {iso}")
    jax = run.timing.get("jax")
    if jax:
        out(f"   JAX in this process: {jax['compiles']} backend compiles, {jax['compile_s']:.1f} s "
            f"({_pct(jax['compile_s'], run.process_s)} of the process), lowering {jax['lower_s']:.1f} s, "
            f"persistent-cache hits {jax['cache_hits']}")
    if run.rc not in (0, 1):
        out(f"   pytest exit status {run.rc}: see {run.log}")


def unoptimized(cold: SuiteRun, cold_a: dict, profile: str, work: Path, out: Out) -> None:
    """What jax_disable_most_optimizations would save: the jax env once more, cold (a fresh cache), with XLA's
    optimizations mostly off. A measurement only: the suite checks the compiler configuration users run (the
    default), and a run without optimizations is a different program (other fusions, other accumulation orders), so
    its verdicts are compared here, not adopted."""
    cache = tempfile.mkdtemp(prefix="jax-cache-unoptimized-", dir=work)
    run = run_suite("jax", "jax cold, most optimizations off", profile, work, cache,
                    {"JAX_DISABLE_MOST_OPTIMIZATIONS": "1"})
    a = analyse(run)
    report_suite(run, a, out)
    before, after = cold.timing.get("jax") or {}, run.timing.get("jax") or {}

    def verdicts(r):
        return {(x.get("surface"), x.get("property"), x.get("seed"), json.dumps(x.get("config"), sort_keys=True)):
                (x.get("verdict"), x.get("status")) for x in r.records}
    v0, v1 = verdicts(cold), verdicts(run)
    common = set(v0) & set(v1)
    changed = sum(1 for k in common if v0[k] != v1[k])
    out(f"== jax cold, default vs most optimizations off: process {cold.process_s:.1f} s -> {run.process_s:.1f} s; "
        f"backend compile {before.get('compile_s', 0):.1f} s -> {after.get('compile_s', 0):.1f} s over "
        f"{before.get('compiles', 0)} -> {after.get('compiles', 0)} compiles; Σ call_s {cold_a['sigma_call']:.2f} s "
        f"-> {a['sigma_call']:.2f} s; {changed} of {len(common)} common cases changed verdict or status")
    out()


def _dir_size(path: str) -> tuple[int, int]:
    files = [p for p in Path(path).rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def part_suites(envs: list[str], profile: str, work: Path, out: Out) -> list[tuple[SuiteRun, dict]]:
    done = []
    out(f"# Part 1: the conformance suite, profile {profile!r}, one child process per framework env")
    threads = ", ".join(f"{n}={os.environ[n]}" for n in THREAD_ENV if n in os.environ) or "thread pools uncapped"
    out(f"# python {sys.version.split()[0]}, {os.cpu_count()} CPUs reported, {threads}; "
        f"{time.strftime('%Y-%m-%d %H:%M:%S')}; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for env_name in envs:
        if env_name in ("jax", "keras-jax"):
            cache = tempfile.mkdtemp(prefix=f"jax-cache-{env_name}-", dir=work)
            pair = []
            for phase in ("cold", "warm"):
                run = run_suite(env_name, f"{env_name} {phase}", profile, work, cache)
                files, size = _dir_size(cache)
                run.extra["cache"] = f"{files} files, {size / 1e6:.1f} MB after the run"
                a = analyse(run)
                report_suite(run, a, out)
                out(f"   JAX persistent compilation cache {cache}: {run.extra['cache']}")
                out()
                pair.append((run, a))
                done.append((run, a))
            (c, ca), (wr, wa) = pair
            out(f"== {env_name} cold vs warm: process {c.process_s:.1f} s -> {wr.process_s:.1f} s; property tests "
                f"{ca['w_prop']:.1f} s -> {wa['w_prop']:.1f} s; Σ call_s {ca['sigma_call']:.2f} s -> "
                f"{wa['sigma_call']:.2f} s; isolated children {ca['isolated_s']:.1f} s -> {wa['isolated_s']:.1f} s")
            out()
            if env_name == "jax":
                unoptimized(c, ca, profile, work, out)
        else:
            run = run_suite(env_name, env_name, profile, work)
            a = analyse(run)
            report_suite(run, a, out)
            out()
            done.append((run, a))
    out("== summary (property tests; 'startup' = interpreter + imports + collection)")
    out(f"   {'env':<18} {'process s':>9} {'startup s':>9} {'tests s':>8} {'examples':>8} {'ex/s':>6} "
        f"{'Σcall_s':>8} {'ratio':>6} {'ratio w/o isolated':>18}")
    for run, a in done:
        m = run.marks
        tests_s = m.get("last_test_stop", 0) - m.get("first_test_start", 0)
        out(f"   {run.label:<18} {run.process_s:9.1f} {m.get('collection_finish', float('nan')):9.1f} "
            f"{tests_s:8.1f} {a['n']:8d} {_ratio(a['n'], a['w_prop']):6.0f} {a['sigma_call']:8.2f} "
            f"{_ratio(a['w_prop'], a['sigma_call']):6.2f} "
            f"{_ratio(a['w_prop'] - a['isolated_s'], a['sigma_call']):18.2f}")
    out(f"   target: ratio <= {RATIO_TARGET}")
    return done


# -- part 2: the reference against onnx.reference -------------------------------------------------------------
def onnx_pads(conv, window) -> tuple[list[int], list[int], list[int]]:
    """The canonical window (crop c, length L) as ONNX ConvTranspose pads_begin, pads_end and output_padding."""
    begin, end, out_pad = [], [], []
    for f, c, n in zip(conv.full_size, window.crop, window.length):
        if c < 0:
            raise ValueError("ONNX pads are >= 0: a negative crop has no ConvTranspose spelling")
        extra = f - c - n
        begin.append(c)
        end.append(max(extra, 0))
        out_pad.append(max(-extra, 0))
    return begin, end, out_pad


def onnx_model(conv, window):
    from onnx import TensorProto, helper
    begin, end, out_pad = onnx_pads(conv, window)
    names = ["X", "W"] + (["B"] if conv.bias else [])
    shapes = [list(conv.input_shape), list(conv.kernel_shape)] + ([[conv.c_out]] if conv.bias else [])
    inputs = [helper.make_tensor_value_info(n, TensorProto.DOUBLE, s) for n, s in zip(names, shapes)]
    node = helper.make_node("ConvTranspose", names, ["Y"], kernel_shape=list(conv.kernel), strides=list(conv.stride),
                            dilations=list(conv.dilation), pads=begin + end, output_padding=out_pad,
                            group=conv.groups)
    y = helper.make_tensor_value_info("Y", TensorProto.DOUBLE, [conv.batch, conv.c_out, *window.length])
    model = helper.make_model(helper.make_graph([node], "conv_transpose", inputs, [y]),
                              opset_imports=[helper.make_opsetid("", 22)])
    return model


def _best_of(fn, budget_s: float, max_n: int = 200) -> tuple[float, int]:
    """Best wall time of one call over up to max_n calls within about budget_s (at least 1)."""
    best, n, spent = float("inf"), 0, 0.0
    while n < max_n and (n == 0 or spent < budget_s):
        t = time.perf_counter()
        fn()
        dt = time.perf_counter() - t
        best, n, spent = min(best, dt), n + 1, spent + dt
    return best, n


def onnx_problems():
    from conformance.core.spec import Conv, Window

    def conv(i, k, s, d, n, cin, cout, g=1, bias=True):
        return Conv(i, k, s, d, batch=n, c_in=cin, c_out=cout, groups=g, bias=bias)

    def torch_like(c, pad, out_pad):   # torch padding p, output_padding op: crop p, L = F - 2p + op
        return Window(tuple(pad), tuple(f - 2 * p + o for f, p, o in zip(c.full_size, pad, out_pad)))

    rows = []
    c = conv((16,), (3,), (2,), (1,), 1, 4, 4)
    rows.append(("1-D small", c, torch_like(c, (1,), (1,))))
    c = conv((128,), (5,), (2,), (2,), 4, 16, 16)
    rows.append(("1-D medium", c, torch_like(c, (2,), (0,))))
    c = conv((8, 8), (3, 3), (2, 2), (1, 1), 1, 3, 4)
    rows.append(("2-D small", c, torch_like(c, (1, 1), (1, 1))))
    c = conv((32, 32), (3, 3), (2, 2), (1, 1), 2, 16, 16)
    rows.append(("2-D medium", c, torch_like(c, (1, 1), (1, 1))))
    c = conv((16, 16), (4, 3), (2, 3), (1, 2), 2, 8, 8, g=8, bias=False)
    rows.append(("2-D depthwise g=8", c, Window((1, 2), (30, 48))))
    c = conv((4, 4, 4), (3, 3, 3), (2, 2, 2), (1, 1, 1), 1, 2, 3)
    rows.append(("3-D small", c, Window((0, 1, 2), (9, 8, 8))))
    c = conv((8, 8, 8), (3, 3, 3), (2, 2, 2), (1, 1, 1), 1, 8, 8)
    rows.append(("3-D medium", c, torch_like(c, (1, 1, 1), (1, 1, 1))))
    return rows


def onnx_limits():
    """Problems onnx.reference 1.23.2 does not compute as its operator doc says; run (not timed) and reported."""
    from conformance.core.spec import Conv, Window
    grouped = Conv((8, 8), (3, 3), (2, 2), (1, 1), batch=1, c_in=4, c_out=6, groups=2)
    depthwise = Conv((16, 16), (4, 3), (2, 3), (1, 2), batch=2, c_in=8, c_out=8, groups=8, bias=True)
    wide = Conv((4,), (3,), (2,), (1,), batch=1, c_in=2, c_out=3, bias=True)
    return [("groups=2, C 4->6", grouped, Window((1, 1), (15, 15))),
            ("depthwise g=8, bias", depthwise, Window((1, 2), (30, 48))),
            ("output_padding 3 > s=2", wide, Window((2,), (10,)))]


def _describe(conv, window) -> str:
    def x(t):
        return "x".join(map(str, t))

    return (f"N={conv.batch} C={conv.c_in}->{conv.c_out} g={conv.groups} i={x(conv.in_size)} k={x(conv.kernel)} "
            f"s={x(conv.stride)} d={x(conv.dilation)} c={x(window.crop)} L={x(window.length)}"
            f"{' +b' if conv.bias else ''}")


def _onnx_case(conv, window):
    """(ours, evaluate-with-onnx, feeds) for one problem on standard-normal float64 arrays."""
    import numpy as np
    from onnx.reference import ReferenceEvaluator

    from conformance.core import reference
    from conformance.core.spec import Problem
    rng = np.random.default_rng(0)
    x = rng.standard_normal(conv.input_shape)
    w = rng.standard_normal(conv.kernel_shape)
    b = rng.standard_normal(conv.c_out) if conv.bias else None
    problem = Problem(conv, window, "float64")
    evaluator = ReferenceEvaluator(onnx_model(conv, window))
    feeds = {"X": x, "W": w, **({"B": b} if conv.bias else {})}
    return (lambda: reference.conv_transpose(x, w, b, problem)), (lambda: evaluator.run(None, feeds)[0])


def _max_diff(a, b) -> float:
    import numpy as np
    return float(np.max(np.abs(a - b))) if a.shape == b.shape else float("inf")


def part_onnx(out: Out, budget_s: float = 1.0) -> None:
    out("# Part 2: conformance.core.reference.conv_transpose vs onnx.reference ConvTranspose, float64, same arrays")
    try:
        import numpy as np
        import onnx
    except ImportError as exc:
        out(f"   skipped: {exc} (install the 'bench' dependency group)")
        return
    out(f"   onnx {onnx.__version__}, numpy {np.__version__}; time per call = best of n calls (~{budget_s:g} s of "
        f"calls per side)")
    out(f"   {'problem':<18} {'config':<60} {'max|diff|':>9} {'ours ms':>8} {'onnx ms':>9} {'onnx/ours':>9}  n")
    speedups = []
    for label, conv, window in onnx_problems():
        onnx.checker.check_model(onnx_model(conv, window))
        ours_fn, onnx_fn = _onnx_case(conv, window)
        diff = _max_diff(onnx_fn(), ours_fn())
        t_ours, n_ours = _best_of(ours_fn, budget_s)
        t_onnx, n_onnx = _best_of(onnx_fn, budget_s)
        speed = t_onnx / t_ours
        speedups.append(speed)
        flags = ("" if diff <= ONNX_TOL else "  DIFFERS") + ("" if speed >= ONNX_SPEEDUP_TARGET else "  < 100x")
        out(f"   {label:<18} {_describe(conv, window):<60} {diff:9.1e} {t_ours * 1e3:8.3f} {t_onnx * 1e3:9.2f} "
            f"{speed:8.1f}x  {n_ours}/{n_onnx}{flags}")
    out(f"   targets: max|diff| <= {ONNX_TOL:g} (float64); onnx/ours >= {ONNX_SPEEDUP_TARGET:g}. Met on "
        f"{sum(s >= ONNX_SPEEDUP_TARGET for s in speedups)} of {len(speedups)} problems; the small ones are "
        f"dominated by fixed per-call costs on both sides")
    out(f"   onnx.reference {onnx.__version__} departs from the ConvTranspose operator doc here (not timed):")
    for label, conv, window in onnx_limits():
        ours_fn, onnx_fn = _onnx_case(conv, window)
        try:
            got = f"max|diff| {_max_diff(onnx_fn(), ours_fn()):.3g}"
        except Exception as exc:  # noqa: BLE001 - reported, not hidden
            got = f"raised {type(exc).__name__}: {' '.join(str(exc).split())[:90]}"
        out(f"     {label:<24} {_describe(conv, window):<52} {got}")


# -- main ---------------------------------------------------------------------------------------------------------
def _envs(spec: str) -> list[str]:
    out: list[str] = []
    for name in filter(None, (s.strip() for s in spec.split(","))):
        for env in ALIASES.get(name, [name]):
            if env not in ALL:
                raise SystemExit(f"unknown framework env {env!r}; known: {', '.join(ALL)}, tf, keras")
            if env not in out:
                out.append(env)
    return out


# -- part 3: the main job under tox ------------------------------------------------------------------------------
TOX_REPORT = re.compile(r"^  (?P<env>[\w.-]+): (?P<status>OK|FAIL[^(]*|SKIP[^(]*) ?\("
                        r"(?P<total>[\d.]+)=setup\[(?P<setup>[\d.]+)\](?:\+cmd\[(?P<cmd>[\d.,]+)\])? seconds\)")


def tox_report(text: str) -> dict[str, dict]:
    """tox's final report, per env: status, total, setup and run (the sum of its `cmd` entries) seconds."""
    envs = {}
    for line in text.splitlines():
        m = TOX_REPORT.match(line)
        if m:
            cmd = sum(float(v) for v in (m["cmd"] or "0").split(","))
            envs[m["env"]] = {"status": m["status"].strip(), "total": float(m["total"]), "setup": float(m["setup"]),
                              "run": cmd}
    return envs


def run_tox(args: list[str], env: dict, log: Path) -> tuple[int, float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tox", *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.perf_counter() - started
    log.write_text(done.stdout)
    return done.returncode, wall, done.stdout


# the README's main command (tox's run-parallel with three envs at once on the 2-core machine: README, "The two
# commands"); `--parallel N` times another count
MAIN_JOB = ["p", "-p", "3"]


def part_tox(work: Path, out: Out, parallel: str | None = None) -> None:
    main_job = MAIN_JOB if parallel is None else ["p", "-p", parallel]
    out(f"## the main job under tox (`python -m tox {' '.join(main_job)}`), JAX compilation cache cold then warm")
    base = {k: v for k, v in os.environ.items() if k not in ("JAX_COMPILATION_CACHE_DIR",)}
    rc, wall, text = run_tox([*main_job, "--notest"], base, work / "tox-notest.log")
    out(f"  env creation (tox {' '.join(main_job)} --notest): {wall:.0f} s, rc {rc}")
    if rc != 0:
        out(text[-4000:])
        return
    cache = work / "xdg-cache"
    cache.mkdir(parents=True, exist_ok=True)
    runs = {}
    for label in ("cold", "warm"):
        rc, wall, text = run_tox(main_job, {**base, "XDG_CACHE_HOME": str(cache)}, work / f"tox-{label}.log")
        envs = tox_report(text)
        runs[label] = (rc, wall, envs)
        run_sum = sum(e["run"] for e in envs.values())
        out(f"  {label}: wall {wall:.0f} s, rc {rc}; Σ run (tox's cmd) {run_sum:.0f} s over {len(envs)} envs")
        for name, e in envs.items():
            out(f"    {name:18s} {e['status']:4s} run {e['run']:6.1f} s  setup {e['setup']:5.1f} s")
        if rc != 0:
            out(text[-4000:])
    if all(r[0] == 0 for r in runs.values()):
        out(f"  warm / cold wall: {_ratio(runs['warm'][1], runs['cold'][1]):.2f} "
            f"({runs['warm'][1]:.0f} s / {runs['cold'][1]:.0f} s)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--frameworks", default=",".join(ALL),
                   help=f"comma list of {', '.join(ALL)} (tf, keras = all three backends); default all")
    p.add_argument("--profile", default="ci", choices=("dev", "ci", "nightly"))
    p.add_argument("--out", help="also write the report to this file")
    p.add_argument("--no-onnx", action="store_true", help="skip the onnx.reference comparison")
    p.add_argument("--onnx-only", action="store_true", help="only the onnx.reference comparison")
    p.add_argument("--onnx-budget", type=float, default=1.0, help="seconds of timing per problem and side")
    p.add_argument("--threads", type=int,
                   help="cap the frameworks' CPU thread pools (OMP_NUM_THREADS, MKL_NUM_THREADS, "
                        "TF_NUM_INTRAOP_THREADS, TF_NUM_INTEROP_THREADS); default: as tox runs, uncapped")
    p.add_argument("--keep", help="keep the records, timing files, pytest logs and JAX caches in this folder")
    p.add_argument("--tox", action="store_true",
                   help="also time the main job, `tox p`, with JAX's cache cold, then warm")
    p.add_argument("--tox-only", action="store_true", help="only the `tox p` timing (part 3)")
    p.add_argument("--parallel", help="part 3 with `tox p -p N` instead of the README's `-p 3`")
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.threads:
        for name in THREAD_ENV:
            os.environ[name] = str(args.threads)
    out = Out(args.out)
    started = time.time()
    if args.tox_only:
        args.onnx_only, args.no_onnx, args.tox = True, True, True
    if not args.onnx_only:
        envs = _envs(args.frameworks)
        if args.keep:
            work = Path(args.keep)
            work.mkdir(parents=True, exist_ok=True)
        else:
            work = Path(tempfile.mkdtemp(prefix="conformance-bench-"))
        try:
            part_suites(envs, args.profile, work, out)
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
        out()
    if not args.no_onnx:
        part_onnx(out, args.onnx_budget)
    if args.tox:
        work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="conformance-bench-tox-"))
        work.mkdir(parents=True, exist_ok=True)
        try:
            part_tox(work, out, args.parallel)
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
    out(f"# benchmark wall {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
