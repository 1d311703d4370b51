"""The crash-isolating worker: results, exceptions, deaths by signal and timeouts come back as data, the
worker process is reused across calls and re-spawned only after a death; and a plugin run with --isolate all
turns a new abort or segfault into crash records instead of ending the session."""

from __future__ import annotations

import pytest

from conformance.harness import records as records_mod
from conformance.harness.isolate import Worker
from tests.plugin_runs import run_plugin


@pytest.fixture
def worker():
    w = Worker(timeout=20)
    yield w
    w.close()


def test_results_and_exceptions_come_back_and_one_process_serves_many_calls(worker):
    for n in range(20):
        got = worker.run(f"import numpy as np\ny = np.arange({n})\nprint('noise on stdout')")
        assert got.crash is None and list(got.y) == list(range(n))
    got = worker.run("raise ValueError('refused as documented')")
    assert (got.error_type, got.error_message, got.crash) == ("ValueError", "refused as documented", None)
    assert worker.spawned == 1


@pytest.mark.parametrize("script, crash, in_tail", [
    ("import os\nos.abort()", "killed by SIGABRT", "Fatal Python error: Aborted"),
    ("import ctypes\nctypes.string_at(0)", "killed by SIGSEGV", "Fatal Python error: Segmentation fault"),
    ("import sys\nsys.stderr.write('bye\\n')\nimport os\nos._exit(3)", "exit status 3 without a result", "bye"),
])
def test_a_death_is_a_crash_with_the_stderr_tail_and_the_next_call_respawns(worker, script, crash, in_tail):
    assert worker.run("y = 1").y == 1
    got = worker.run(script)
    assert got.crash == crash and in_tail in got.stderr_tail, got
    assert worker.run("y = 2").y == 2
    assert worker.spawned == 2


def test_a_hang_is_a_timeout_crash(worker):
    got = worker.run("import time\ntime.sleep(30)", timeout=1)
    assert got.crash == "timed out after 1 s"
    assert worker.run("y = 3").y == 3


@pytest.mark.parametrize("mutation, signal", [("abort-on-stride-3", "SIGABRT"), ("segfault-on-stride-3", "SIGSEGV")])
def test_isolate_all_records_unflagged_crashes_and_the_session_survives(tmp_path, mutation, signal):
    run = run_plugin(tmp_path, "--isolate", "all", "-k", "shapes or refusals", mutation=mutation, profile="ci")
    assert run.returncode == 1, run.output                     # a new crash is a failure, not the end of the run
    assert "2 failed" in run.output, run.output[-3000:]        # both properties ran to their verdicts
    recs = records_mod.read(run.records)
    crashes = [r for r in recs if r["kind"] == "crash"]
    assert crashes and all(f"killed by {signal}" in r["actual"]["error"] for r in crashes), crashes[:1]
    assert {r["property"] for r in crashes} == {"shapes", "refusals"}
    assert any(r["status"] == "pass" for r in recs)
    assert all(r["call_s"] is None for r in recs)            # every call ran in the worker
