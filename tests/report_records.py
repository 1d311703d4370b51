"""Synthetic records for the report tests: valid schema-1 records (tests/test_report_build.py validates them
against reports/records.schema.json) whose outcomes are known by construction."""

from __future__ import annotations

import copy
import json
from html.parser import HTMLParser
from pathlib import Path

BASE = {
    "schema": 1, "run_id": "run-a", "time": 1795678000.0, "profile": "dev", "property": "shapes",
    "framework": "fw", "version": "1.0", "surface": "fw:fw.conv_transpose", "device": "cpu", "dtype": "float32",
    "device_model": "Example CPU (2 cores)", "mode": "eager",
    "config": {"in_size": [4], "kernel": [3], "stride": [2], "dilation": [1], "batch": 1, "c_in": 1, "c_out": 1,
               "groups": 1, "bias": False},
    "params": {"padding": [1], "output_padding": [1]}, "seed": 0, "final": False, "call_s": 0.001,
    "expected": {"crop": [1], "length": [8], "rule": "c = padding; L = F - 2 padding + output_padding",
                 "doc": "https://example.invalid/fw/conv_transpose.html"},
    "actual": {"shape": [1, 1, 8], "found_crop": None}, "verdict": "pass", "kind": None, "status": "pass",
    "err_over_bound": 0.25, "expected_divergence": None, "expectations_matched": [], "detail": "",
    "reproducer": "import numpy as np\nprint('reproduce me')\n", "intent": None, "fault": None, "converts": None,
    "exported": None, "reproduced": None,
    "entries": {}, "behaviour": None, "draws": None, "characterization": None,
}


def record(**over) -> dict:
    """BASE with `over` applied; dict values of config, expected and actual replace the whole field."""
    r = copy.deepcopy(BASE)
    r.update(copy.deepcopy(over))
    return r


def crop_shift(shift: int = 1, **over) -> dict:
    """A new crop divergence: the right length, the values `shift` later than documented."""
    return record(**{"verdict": "divergence", "kind": "crop", "status": "divergence", "err_over_bound": 3.1e6,
                     "actual": {"shape": [1, 1, 8], "found_crop": [1 + shift]},
                     "behaviour": {"outcome": "crop", "shape": [1, 1, 8], "shift": [shift], "shifts": [[shift]],
                                   "found_crop": [1 + shift]},
                     "detail": f"shape (..., 8); matches the reference at crop={1 + shift}", **over})


def expected_refusal_returned(**over) -> dict:
    """An expected error-vs-result divergence: the docs refuse, the framework returned a result."""
    return record(**{"property": "refusals", "verdict": "divergence", "kind": "error-vs-result",
                     "status": "expected", "expected": {"refusal": "output_padding >= stride",
                                                        "doc": "https://example.invalid/fw/notes.html"},
                     "actual": {"shape": [1, 1, 9], "found_crop": None}, "err_over_bound": None,
                     "expected_divergence": "fw-accepts-large-output-padding",
                     "expectations_matched": ["fw-accepts-large-output-padding"],
                     "entries": {"fw-accepts-large-output-padding": "as-stated"},
                     "behaviour": {"outcome": "returned", "shape": [1, 1, 9], "found_crop": None},
                     "detail": "the docs refuse this call; the framework returned shape (1, 1, 9)", **over})


def crash(**over) -> dict:
    return record(**{"property": "values", "verdict": "divergence", "kind": "crash", "status": "expected",
                     "actual": {"error": "killed by SIGABRT"}, "err_over_bound": None, "call_s": None,
                     "expected_divergence": "fw-abort", "expectations_matched": ["fw-abort"],
                     "entries": {"fw-abort": "as-stated"},
                     "behaviour": {"outcome": "crash", "signal": "SIGABRT", "stderr": "Fatal Python error: Aborted"},
                     "detail": "the process making the call died (killed by SIGABRT)", **over})


def refused(**over) -> dict:
    return record(**{"property": "refusals", "verdict": "refused", "expected": {
        "refusal": "output_padding >= stride", "doc": "https://example.invalid/fw/notes.html"},
        "actual": {"error": "ValueError: output_padding too large"}, "err_over_bound": None, **over})


def portable(intent: str, k: int, s: int, d: int, i: int, crop: int, length: int, **over) -> dict:
    """A portable-property record at grid point (k, s, d, i) whose values sit at window (crop, length)."""
    full = (i - 1) * s + d * (k - 1) + 1
    return record(**{"property": "portable", "intent": intent, "final": True, "config": {
        "in_size": [i, i], "kernel": [k, k], "stride": [s, s], "dilation": [d, d], "batch": 1, "c_in": 1,
        "c_out": 1, "groups": 1, "bias": False}, "params": {"padding": [crop, crop]},
        "expected": {"crop": [crop, crop], "length": [length, length], "rule": "r", "doc": "d"},
        "actual": {"shape": [1, 1, length, length], "found_crop": None}, "err_over_bound": 0.1,
        "detail": f"F={full}", **over})


EXPECTATIONS_TOML = '''
[[divergence]]
id = "fw-accepts-large-output-padding"
surface = "fw:*"
when = "True"
kind = "error-vs-result"
behaviour = { returns = "len(shape) == rank + 2" }
reason = "fw accepts output_padding >= stride"
link = "https://example.invalid/fw/issues/1"
first_seen = "fw 1.0"

[[divergence]]
id = "fw-abort"
surface = "fw:*"
when = "False"
kind = "crash"
behaviour = { signal = "SIGABRT", stderr = "Aborted" }
reason = "fw aborts"
link = ""
'''


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    return path


def write_expectations(path: Path) -> Path:
    path.write_text(EXPECTATIONS_TOML)
    return path


class Scan(HTMLParser):
    """Every start tag with its attributes, and the text of each <script> and <style> element."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._in: str | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._in = tag
            (self.scripts if tag == "script" else self.styles).append("")

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.scripts[-1] += data
        elif self._in == "style":
            self.styles[-1] += data

    def with_class(self, tag: str, cls: str) -> list[dict]:
        return [a for t, a in self.tags if t == tag and cls in (a.get("class") or "").split()]
