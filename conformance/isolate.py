"""Run one case in a child process, for calls known to abort or hang the process that makes them.

The child runs the case's reproducer script (self-contained: imports, inputs from the seed, the call) and saves
`y` with np.save, or the exception it raised. The parent reads that back, so an isolated case is judged exactly
like an in-process one, and a child that dies by a signal or runs past the timeout becomes a `crash` outcome
with the signal and the last lines of stderr. Which cases run here is data: the expected-divergence entries of
kind "crash" (a framework abort that would otherwise end the whole run).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TIMEOUT_S = 300.0

_WRAPPER = '''
import json, sys, traceback
_out = sys.argv[1]
try:
{body}
    import numpy as np
    np.save(_out + ".npy", np.asarray(y))
except Exception as _exc:
    with open(_out + ".error.json", "w") as _fh:
        json.dump({{"type": type(_exc).__name__, "message": str(_exc)}}, _fh)
'''


@dataclass(frozen=True)
class Isolated:
    y: np.ndarray | None = None
    error_type: str | None = None       # the exception class the call raised, if it raised
    error_message: str = ""
    crash: str | None = None            # "killed by SIGABRT", "timed out after 300 s", "exit status 3"
    stderr_tail: str = ""


def run_isolated(script: str, timeout: float = TIMEOUT_S) -> Isolated:
    with tempfile.TemporaryDirectory(prefix="conformance-isolated-") as tmp:
        out = str(Path(tmp) / "result")
        program = _WRAPPER.format(body=textwrap.indent(script, "    "))
        try:
            proc = subprocess.run([sys.executable, "-c", program, out], capture_output=True, text=True,
                                  timeout=timeout, env={**os.environ, "PYTHONFAULTHANDLER": "1"})
        except subprocess.TimeoutExpired as exc:
            tail = (exc.stderr or b"")[-2000:]
            return Isolated(crash=f"timed out after {timeout:g} s",
                            stderr_tail=tail.decode(errors="replace") if isinstance(tail, bytes) else tail)
        tail = "\n".join(proc.stderr.strip().splitlines()[-12:])
        if proc.returncode < 0:
            try:
                name = signal.Signals(-proc.returncode).name
            except ValueError:
                name = f"signal {-proc.returncode}"
            return Isolated(crash=f"killed by {name}", stderr_tail=tail)
        if os.path.exists(out + ".error.json"):
            import json
            with open(out + ".error.json") as fh:
                err = json.load(fh)
            return Isolated(error_type=err["type"], error_message=err["message"], stderr_tail=tail)
        if proc.returncode != 0 or not os.path.exists(out + ".npy"):
            return Isolated(crash=f"exit status {proc.returncode} without a result", stderr_tail=tail)
        return Isolated(y=np.load(out + ".npy"), stderr_tail=tail)
