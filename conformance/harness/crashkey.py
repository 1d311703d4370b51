"""The signature of a process death: its signal and the stderr line that says why, with the numbers taken out.

One bug hit with different shapes or arguments prints different numbers ("Dimension -2147483648 must be >= 0",
"Invalid index from the dimension: 3, 0, C", a glog timestamp and thread id, a source line that moves between
releases) but the same words, so a crash is keyed by `signature(signal, stderr)` = "SIGABRT: <key line>" with every
number, address and glog prefix normalized (issue robustness: crash signatures and dedup). The key line, in order of
preference:

1. a failed C++ CHECK or another fatal glog/absl line ("F1203 12:00:00.1 123 file.cc:586] Check failed: ..."),
   kept as "file.cc] Check failed: ...";
2. a C++ terminate ("terminate called after throwing an instance of 'X'" and its "what():" line);
3. glibc's heap messages ("free(): invalid pointer", "double free or corruption", "corrupted size vs. prev_size");
4. Python's fatal error with the innermost frame faulthandler printed outside the script itself
   ("Fatal Python error: Segmentation fault in convolution (torch/nn/functional.py)");
5. the last non-empty line.
"""

from __future__ import annotations

import re

GLOG = re.compile(r"^[FEW]\d{4} [\d:.]+\s+\d+\s+(?P<file>[^\s:]+):\d+\]\s*(?P<message>.*)$")
HEAP = re.compile(r"free\(\)|double free|corrupted|malloc\(\)|munmap_chunk|malloc_consolidate|realloc\(\)")
FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line \d+ in (?P<func>\S+)')


def normalize(text: str, limit: int = 200) -> str:
    """Numbers (decimal, hex, signed; not the digits inside a name such as conv2d_transpose) to N and runs of blanks
    to one space, cut at `limit` characters."""
    text = re.sub(r"\b0x[0-9a-fA-F]+", "N", text)
    text = re.sub(r"(?<![\w.])-?\d+(\.\d+)?(?![\w])", "N", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _short_path(path: str) -> str:
    """The last two parts of a frame's file (site-packages/torch/nn/functional.py -> nn/functional.py)."""
    return "/".join(path.replace("\\", "/").split("/")[-2:])


def key_line(stderr: str) -> str:
    """The line of a dead process's stderr that says why it died, normalized (module doc)."""
    lines = [ln.rstrip() for ln in (stderr or "").splitlines() if ln.strip()]
    for ln in lines:
        m = GLOG.match(ln.strip())
        if m and ln.strip()[0] == "F":
            return normalize(f"{m['file']}] {m['message']}")
    for ln in lines:
        if "Check failed" in ln:
            m = GLOG.match(ln.strip())
            return normalize(f"{m['file']}] {m['message']}" if m else ln)
    for i, ln in enumerate(lines):
        if ln.startswith("terminate called"):
            what = next((w.strip() for w in lines[i + 1:i + 3] if w.strip().startswith("what():")), "")
            return normalize(f"{ln.strip()} {what}".strip())
    for ln in lines:
        if HEAP.search(ln):
            return normalize(ln)
    for i, ln in enumerate(lines):
        if ln.startswith("Fatal Python error"):
            frames = [FRAME.match(f) for f in lines[i + 1:]]
            inner = next((f for f in frames if f and not f["file"].startswith("<")), None)
            where = f" in {inner['func']} ({_short_path(inner['file'])})" if inner else ""
            return normalize(ln.strip() + where)
    return normalize(lines[-1]) if lines else "no stderr"


def signature(signal: str, stderr: str) -> str:
    """'SIGABRT: mkl_layout_pass.cc] Check failed: ...': one string per distinct death (module doc). A hang has no
    stderr that says why: its signature is the hang alone."""
    if signal == "hang":
        return "hang: no reply within the worker's timeout"
    return f"{signal}: {key_line(stderr)}"


def fresh_text(reproduced: dict | None) -> str:
    """What a crash's reproducer did when run again alone (Judge._reproduce), in words for messages and cards."""
    if not reproduced:
        return "not run again in a fresh process (a later record of a signature already checked)"
    cap = f", data segment capped at {reproduced['data_limit'] / 2 ** 30:g} GiB" if reproduced.get("data_limit") else ""
    if reproduced["outcome"] != "crash":
        return (f"the reproducer {reproduced['outcome']} in a fresh process{cap}: the death needs what ran before it "
                "in the worker")
    same = "the same signature" if reproduced["same_signature"] else f"another signature ({reproduced['key']})"
    return f"reproduced in a fresh process{cap}: {reproduced['signal']}, {same}"
