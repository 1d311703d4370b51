"""Run the conformance plugin in a child pytest against the fake adapter (see fake_adapter.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class PluginRun:
    returncode: int
    output: str
    records: Path


def run_plugin(tmp_path: Path, *args: str, mutation: str = "none", profile: str = "ci",
               env: dict | None = None, nonfinite: bool = False, paths: tuple[str, ...] = ()) -> PluginRun:
    """The plugin on the fake adapter. The fake computes a correlation over the zero-stuffed input, so a NaN or
    Inf in its kernel spreads through the stuffed zeros (0 * Inf = NaN) exactly as TensorFlow's and XLA's do:
    the nonfinite property fails on it. Runs about other properties leave that property out (nonfinite=False);
    tests/test_nonfinite.py runs it on purpose. `paths` (relative to the repository) replaces the whole suites/
    folder with those test files."""
    records = tmp_path / "records.jsonl"
    child_env = {**os.environ, "CONFORMANCE_ADAPTERS": "fake=tests.fake_adapter", "FAKE_MUTATION": mutation,
                 "CONFORMANCE_PROFILE": profile, "PYTHONPATH": str(ROOT), **(env or {})}
    child_env.pop("CONFORMANCE_FRAMEWORKS", None)
    cmd = [sys.executable, "-m", "pytest", *([str(ROOT / p) for p in paths] or [str(ROOT / "suites")]),
           "-p", "no:cacheprovider", "-q",
           "--framework", "fake", "--records", str(records), *args,
           *([] if nonfinite else ["--ignore", str(ROOT / "suites" / "test_nonfinite.py")])]
    proc = subprocess.run(cmd, cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=600)
    return PluginRun(proc.returncode, proc.stdout + proc.stderr, records)
