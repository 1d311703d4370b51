"""Run cases in a child process, for calls that may abort, segfault or hang the process that makes them.

A `Worker` is one long-lived child Python (conformance.harness.worker) that runs the cases' reproducer scripts
(self-contained: imports, inputs from the seed, the call) one after another and saves each `y`, or reports the
exception the call raised. The parent reads that back, so an isolated case is judged exactly like an
in-process one. The framework is imported once per worker, not once per case; a worker is re-spawned only
after a death. A child that dies by a signal, exits, or runs past the timeout becomes a `crash` outcome with
the signal and the last lines of its stderr (faulthandler's traceback included), and the run goes on.

Which cases run here is data: the expected-divergence entries of kind "crash", the error-behaviour catalogue,
or every case with CONFORMANCE_ISOLATE=all.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TIMEOUT_S = 300.0
# stderr lines that say why a process died, kept even when they scrolled out of the tail: a failed C++ CHECK (absl,
# glog: "F1203 ... file.cc:586] Check failed: ..."), glibc's heap-corruption messages, a C++ terminate
KEY_LINES = re.compile(r"Check failed|\] Check|corrupted|free\(\)|double free|malloc\(\)|munmap_chunk|"
                       r"terminate called|Fatal Python error|Segmentation fault|Aborted")
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Isolated:
    y: np.ndarray | None = None
    error_type: str | None = None       # the exception class the call raised, if it raised
    error_message: str = ""
    crash: str | None = None            # "killed by SIGABRT", "timed out after 300 s", "exit status 3"
    stderr_tail: str = ""
    # the script's __conformance_stage__ when it raised (conformance.harness.gradcheck)
    stage: str | None = None


def _signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


class Worker:
    """One child process that runs scripts until it dies; `run` re-spawns it when needed."""

    def __init__(self, timeout: float = TIMEOUT_S, env: dict | None = None):
        self.timeout = timeout
        self.env = dict(env or {})      # set in the child on top of this process's environment (e.g. a framework
                                        # switch read at import, like TF_ENABLE_ONEDNN_OPTS)
        self.spawned = 0                # how many child processes this worker has started
        self._proc: subprocess.Popen | None = None
        self._stderr = None
        self._tmp = tempfile.TemporaryDirectory(prefix="conformance-worker-")
        self._calls = 0

    def _start(self) -> None:
        self._stderr = tempfile.TemporaryFile(dir=self._tmp.name)
        env = {**os.environ, **self.env,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self._proc = subprocess.Popen([sys.executable, "-u", "-m", "conformance.harness.worker"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=self._stderr, env=env, text=True)
        self.spawned += 1

    def _tail(self, since: int, lines: int = 12) -> str:
        """What the child wrote to stderr since `since`: the lines that say why a process died (a failed CHECK, glibc's
        heap messages, the fatal signal; KEY_LINES), then the last `lines` lines (faulthandler's traceback)."""
        self._stderr.seek(since)
        text = self._stderr.read().decode(errors="replace")
        self._stderr.seek(0, os.SEEK_END)
        all_lines = text.strip().splitlines()
        tail = all_lines[-lines:]
        key = [ln for ln in all_lines[:-lines] if KEY_LINES.search(ln)][:6]
        return "\n".join(key + (["..."] if key else []) + tail)

    def _reply(self, deadline: float) -> str | None:
        """The child's next line, '' at end of file (it died), None when the deadline passed."""
        with selectors.DefaultSelector() as sel:
            sel.register(self._proc.stdout, selectors.EVENT_READ)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not sel.select(remaining):
                return None
        return self._proc.stdout.readline()

    def run(self, script: str, timeout: float | None = None) -> Isolated:
        timeout = self.timeout if timeout is None else timeout
        if self._proc is None or self._proc.poll() is not None:
            self._start()
        self._calls += 1
        out = os.path.join(self._tmp.name, f"y{self._calls}.npy")
        self._stderr.seek(0, os.SEEK_END)
        since = self._stderr.tell()
        try:
            self._proc.stdin.write(json.dumps({"script": script, "out": out}) + "\n")
            self._proc.stdin.flush()
        except BrokenPipeError:
            pass                               # it died before reading: the reply below is end-of-file
        line = self._reply(time.monotonic() + timeout)
        if line is None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None
            return Isolated(crash=f"timed out after {timeout:g} s", stderr_tail=self._tail(since))
        if not line:
            code = self._proc.wait()
            self._proc = None
            crash = f"killed by {_signal_name(code)}" if code < 0 else f"exit status {code} without a result"
            return Isolated(crash=crash, stderr_tail=self._tail(since))
        reply = json.loads(line)
        if reply.get("ok"):
            y = np.load(out)
            os.unlink(out)
            return Isolated(y=y, stderr_tail=self._tail(since))
        return Isolated(error_type=reply["error_type"], error_message=reply["error_message"],
                        stderr_tail=self._tail(since), stage=reply.get("stage"))

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._proc = None


_default: Worker | None = None


def default_worker() -> Worker:
    """The process-wide worker (one per pytest process or xdist worker), closed at exit."""
    global _default
    if _default is None:
        _default = Worker()
        atexit.register(_default.close)
    return _default


def run_isolated(script: str, timeout: float | None = None) -> Isolated:
    return default_worker().run(script, timeout)


def run_fresh(script: str, timeout: float = TIMEOUT_S, data_limit: int | None = None) -> Isolated:
    """Run a self-contained script once in a new interpreter (`python -X faulthandler -c script`), as a user pasting
    a reproducer would, under the data-segment cap `data_limit` (bytes) when given: whether a death the worker saw
    happens alone, or needed what ran before it in the worker (a heap corrupted by an earlier call). What it did:
    a crash (signal, 'exit status N', or timed out), the exception of its last traceback line, or a result
    (y is None: nothing is read back)."""
    def cap():
        if data_limit:
            import resource
            resource.setrlimit(resource.RLIMIT_DATA, (data_limit, data_limit))

    with tempfile.TemporaryDirectory(prefix="conformance-fresh-") as tmp:
        try:
            done = subprocess.run([sys.executable, "-X", "faulthandler", "-c", script], cwd=tmp, timeout=timeout,
                                  capture_output=True, text=True, errors="replace", preexec_fn=cap)
        except subprocess.TimeoutExpired as exc:
            err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr or ""
            return Isolated(crash=f"timed out after {timeout:g} s", stderr_tail=_key_tail(err))
    if done.returncode < 0:
        return Isolated(crash=f"killed by {_signal_name(done.returncode)}", stderr_tail=_key_tail(done.stderr))
    if done.returncode == 0:
        return Isolated(stderr_tail=_key_tail(done.stderr))
    last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    m = re.match(r"([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)\w*): ?(.*)", last)
    if m:
        return Isolated(error_type=m.group(1).rsplit(".", 1)[-1], error_message=m.group(2),
                        stderr_tail=_key_tail(done.stderr))
    return Isolated(crash=f"exit status {done.returncode} without a result", stderr_tail=_key_tail(done.stderr))


def _key_tail(text: str, lines: int = 12) -> str:
    """Worker._tail for a whole stderr text: its KEY_LINES, then its last `lines` lines."""
    all_lines = (text or "").strip().splitlines()
    key = [ln for ln in all_lines[:-lines] if KEY_LINES.search(ln)][:6]
    return "\n".join(key + (["..."] if key else []) + all_lines[-lines:])


_env_workers: dict[tuple, Worker] = {}


def run_with_env(script: str, arrays: dict, env: dict, timeout: float | None = None):
    """Run `script` (it reads the NumPy arrays `arrays` by name and sets `y`) in a worker process started with the
    environment variables `env` (a framework switch read at import: TF_ENABLE_ONEDNN_OPTS=0), one worker per
    environment, reused; return its `y`. An exception there is raised here under its own class name, so it is
    classified like an in-process one; a death raises RuntimeError with the signal and the stderr tail."""
    key = tuple(sorted(env.items()))
    worker = _env_workers.get(key)
    if worker is None:
        worker = _env_workers[key] = Worker(env=env)
        atexit.register(worker.close)
    with tempfile.TemporaryDirectory(prefix="conformance-env-") as tmp:
        lines = ["import numpy as np"]
        for name, a in arrays.items():
            if a is None:
                lines.append(f"{name} = None")
                continue
            path = os.path.join(tmp, f"{name}.npy")
            bf16 = a.dtype.name == "bfloat16"          # np.load has no ml_dtypes: through float32, exactly
            np.save(path, np.asarray(a, np.float32) if bf16 else a)
            lines.append(f"{name} = np.load({path!r})" + (".astype(__import__('ml_dtypes').bfloat16)" if bf16 else ""))
        got = worker.run("\n".join([*lines, script]), timeout)
    if got.crash:
        raise RuntimeError(f"the process with {env} died ({got.crash}): {got.stderr_tail[-300:]}")
    if got.error_type:
        raise type(got.error_type, (Exception,), {})(got.error_message)
    return got.y
