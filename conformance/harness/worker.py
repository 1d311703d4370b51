"""The child side of conformance.harness.isolate.Worker: run reproducer scripts one at a time, for as long as asked.

Protocol (one JSON object per line): the parent writes {"script": source, "out": path}; the worker runs the
script in a fresh namespace, saves its `y` to `path` with numpy.save, and answers {"ok": true}, or
{"error_type": ..., "error_message": ..., "stage": ...} for an exception the script raised (stage: the script's
`__conformance_stage__` at that moment, if it set one). What the scripts print goes to
stderr, so the protocol channel (the original stdout) carries nothing else. A script that kills the process
(abort, segfault) simply ends the conversation: the parent sees end-of-file and the exit signal.
"""

from __future__ import annotations

import json
import os
import sys


def _limit_memory() -> None:
    """CONFORMANCE_WORKER_DATA_LIMIT=bytes: cap this process's data segment (RLIMIT_DATA, which counts private
    writable mappings on Linux >= 4.7), so that a call asking for an enormous output fails to allocate (an exception)
    instead of filling the machine (conformance.harness.robustness draws 2**31-long sizes)."""
    limit = os.environ.get("CONFORMANCE_WORKER_DATA_LIMIT")
    if limit:
        import resource
        resource.setrlimit(resource.RLIMIT_DATA, (int(limit), int(limit)))


def main() -> None:
    _limit_memory()
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)                      # prints of the scripts (and of frameworks' C++ code) go to stderr
    sys.stdout = sys.stderr
    import faulthandler
    faulthandler.enable()              # a fatal signal leaves a Python traceback in the stderr tail
    import numpy as np
    for line in sys.stdin:
        request = json.loads(line)
        namespace: dict = {"__name__": "__reproducer__"}
        try:
            exec(compile(request["script"], "<reproducer>", "exec"), namespace)  # noqa: S102 - our own scripts
            y = np.asarray(namespace["y"])
            if y.dtype.name == "bfloat16":    # ml_dtypes' bfloat16 does not survive np.save/np.load: float32 is exact
                y = y.astype(np.float32)
            np.save(request["out"], y)
            reply = {"ok": True}
        except Exception as exc:  # noqa: BLE001 - every exception is the call's outcome
            reply = {"error_type": type(exc).__name__, "error_message": str(exc),
                     "stage": namespace.get("__conformance_stage__")}
        channel.write(json.dumps(reply) + "\n")
        channel.flush()


if __name__ == "__main__":
    main()
