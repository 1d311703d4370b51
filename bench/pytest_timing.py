"""pytest plugin used only by bench/benchmark.py: where the conformance suite's wall time goes.

Loaded with `-p pytest_timing` (bench/ on PYTHONPATH); writes one JSON file to $CONFORMANCE_BENCH_TIMING at the
end of the run. Nothing here changes what the suite checks. It records:
  - clock marks (time.time()): plugin import (pytest started), end of collection (frameworks imported, tests
    generated), first test start, last test end;
  - per test item: pytest's setup / call / teardown durations;
  - per test item, from Hypothesis's own statistics (the same numbers as --hypothesis-show-statistics): per phase,
    its duration, the number of test cases, the sum of their runtimes, draw times and garbage-collection times;
  - per test item, the summed wall time of a few steps of the conformance core, timed by wrapping them:
    make_inputs, compare (the float64 reference, the error bound, the crop search), the child processes of
    isolated cases, Judge.isolates (the expectations' predicates), Judge.judge (expectations, the record and
    its write) and each loaded surface's documented semantics. Only the outermost timed step counts. A wrapper
    is only installed where the name exists, so the plugin survives refactors of the core; a missing step reads
    as absent in the report. Each wrapper costs two perf_counter calls.
  - JAX's own compile events (jax.monitoring, where jax is imported in this process: the jax and keras-jax envs):
    how many backend compiles ran and their seconds, the seconds lowering jaxprs to MLIR, and the persistent
    compilation cache's hits. The isolated cases' child processes compile on their own and are not counted.
"""

from __future__ import annotations

import functools
import json
import os
import time

import pytest

_T_IMPORT = time.time()
_state: dict = {"marks": {"plugin_import": _T_IMPORT}, "tests": {}, "hypothesis": {}, "spans": {}, "patched": [],
               "jax": None}
# jax.monitoring event names (jax 0.4-0.10): a backend compile's duration, lowering to MLIR, a persistent-cache hit
JAX_COMPILE = "/jax/core/compile/backend_compile_duration"
JAX_LOWER = "/jax/core/compile/jaxpr_to_mlir_module_duration"
JAX_CACHE_HIT = "/jax/compilation_cache/cache_hits"


def _listen_to_jax() -> None:
    """Count JAX's compile events from here on, if jax is imported (never imports it)."""
    import sys
    monitoring = sys.modules.get("jax.monitoring")
    if monitoring is None or _state["jax"] is not None:
        return
    counts = _state["jax"] = {"compiles": 0, "compile_s": 0.0, "lower_s": 0.0, "cache_hits": 0}

    def on_duration(event, duration, **_):
        if event == JAX_COMPILE:
            counts["compiles"] += 1
            counts["compile_s"] += duration
        elif event == JAX_LOWER:
            counts["lower_s"] += duration

    def on_event(event, **_):
        if event == JAX_CACHE_HIT:
            counts["cache_hits"] += 1

    monitoring.register_event_duration_secs_listener(on_duration)
    monitoring.register_event_listener(on_event)
_current = {"nodeid": None, "depth": 0}


def _span(name: str, fn):
    """fn, timed; only the outermost timed step counts (Judge.isolates calls the documented semantics, which
    are timed on their own elsewhere), so the steps never overlap."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _current["depth"]:
            return fn(*args, **kwargs)
        _current["depth"] += 1
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _current["depth"] -= 1
            spans = _state["spans"].setdefault(_current["nodeid"] or "-", {})
            n, total = spans.get(name, (0, 0.0))
            spans[name] = (n + 1, total + time.perf_counter() - start)
    wrapper.__wrapped_by_bench__ = True
    return wrapper


def _patch(owner, attr: str, name: str) -> None:
    fn = getattr(owner, attr, None)
    if fn is None or getattr(fn, "__wrapped_by_bench__", False):
        return
    setattr(owner, attr, _span(name, fn))
    _state["patched"].append(name)


def pytest_configure(config):
    try:
        from conformance.harness import check, judge
    except ImportError:
        return
    _patch(check, "make_inputs", "make_inputs")
    _patch(check, "compare", "reference+compare")
    _patch(check, "run_isolated", "isolated child processes")
    _patch(judge.Judge, "isolates", "Judge.isolates")
    _patch(judge.Judge, "judge", "Judge.judge (expectations, record)")


def pytest_collection_finish(session):
    _state["marks"]["collection_finish"] = time.time()
    _listen_to_jax()          # the adapters are loaded by now: jax is imported where the env uses it
    # the surfaces' documented semantics: wrapped per loaded surface object (an instance attribute)
    try:
        import adapters
    except ImportError:
        return
    for adapter in list(getattr(adapters, "_loaded", {}).values()):
        for surface in getattr(adapter, "surfaces", []):
            fn = getattr(surface, "semantics", None)
            if fn is not None and not getattr(fn, "__wrapped_by_bench__", False):
                try:
                    object.__setattr__(surface, "semantics", _span("documented semantics", fn))
                except (AttributeError, TypeError):
                    return
    _state["patched"].append("documented semantics")


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_call(item):
    """Innermost wrapper (trylast): Hypothesis's own plugin has already installed its statistics collector, which
    this one chains to, so --hypothesis-show-statistics keeps working."""
    _current["nodeid"] = item.nodeid
    try:
        from hypothesis.statistics import collector
    except ImportError:
        yield
        return
    outer = collector.value

    def note(stats):
        phases = {}
        for key, d in stats.items():
            if not key.endswith("-phase") or not isinstance(d, dict):
                continue
            cases = d.get("test-cases", [])
            statuses: dict[str, int] = {}
            for c in cases:
                statuses[c["status"]] = statuses.get(c["status"], 0) + 1
            phases[key[:-len("-phase")]] = {
                "duration": d.get("duration-seconds", 0.0), "cases": len(cases),
                "runtime": sum(c.get("runtime", 0.0) for c in cases),
                "drawtime": sum(c.get("drawtime", 0.0) for c in cases),
                "gctime": sum(c.get("gctime", 0.0) for c in cases),
                "statuses": statuses}
        _state["hypothesis"][item.nodeid] = phases
        if outer is not None:
            outer(stats)

    with collector.with_value(note):
        yield
    _current["nodeid"] = None


def pytest_runtest_logreport(report):
    t = _state["tests"].setdefault(report.nodeid, {"setup": 0.0, "call": 0.0, "teardown": 0.0})
    t[report.when] = report.duration
    t["outcome_" + report.when] = report.outcome
    t["start"] = min(t.get("start", report.start), report.start)
    t["stop"] = max(t.get("stop", report.stop), report.stop)


def pytest_unconfigure(config):
    path = os.environ.get("CONFORMANCE_BENCH_TIMING")
    if not path or hasattr(config, "workerinput"):
        return
    tests = _state["tests"].values()
    if tests:
        _state["marks"]["first_test_start"] = min(t["start"] for t in tests)
        _state["marks"]["last_test_stop"] = max(t["stop"] for t in tests)
    _state["marks"]["unconfigure"] = time.time()
    with open(path, "w") as fh:
        json.dump(_state, fh)
