"""The benchmark's reading of tox's final report (bench/benchmark.py, part 3): each env's status, setup and run
seconds, the run being the sum of its `cmd` entries. Lines as tox 4 prints them (a clean-clone run's report)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "benchmark.py"


@pytest.fixture(scope="module")
def benchmark():
    spec = importlib.util.spec_from_file_location("conformance_benchmark", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


REPORT = """\
=========== 58 passed, 10 skipped in 31.24s ===========
  tf: OK (59.43=setup[23.82]+cmd[35.61] seconds)
  keras-tensorflow: FAIL code 1 (182.30=setup[26.06]+cmd[156.25] seconds)
  onnx2tf: OK (86.03=setup[23.10]+cmd[1.34,62.15] seconds)
  bench: SKIP (0.01=setup[0.01] seconds)
  congratulations :) (690.81 seconds)
"""


def test_each_env_line_gives_status_setup_and_the_sum_of_its_commands(benchmark):
    envs = benchmark.tox_report(REPORT)
    assert set(envs) == {"tf", "keras-tensorflow", "onnx2tf", "bench"}
    assert envs["tf"] == {"status": "OK", "total": 59.43, "setup": 23.82, "run": 35.61}
    assert envs["keras-tensorflow"]["status"] == "FAIL code 1" and envs["keras-tensorflow"]["run"] == 156.25
    assert envs["onnx2tf"]["run"] == pytest.approx(1.34 + 62.15)
    assert envs["bench"] == {"status": "SKIP", "total": 0.01, "setup": 0.01, "run": 0.0}


def test_lines_that_are_not_an_env_report_are_ignored(benchmark):
    assert benchmark.tox_report("  congratulations :) (690.81 seconds)\nOK (1=setup[1] seconds)\n") == {}
