"""README "Adding a framework", followed literally: a throwaway adapter for a made-up NumPy framework is written in a
temporary folder (nothing in the repository changes), registered with CONFORMANCE_ADAPTERS, and the whole plugin
(every property in suites/) runs on it and passes; a bug planted in its call is then found. If a step the README
lists stops being enough, or the protocol needs more than it says, this test fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Step 1 of the README: the adapter module. Written only against what the README names: Surface (call, param_keys,
# draw_params, rules, arguments), conformance.core.rules (Rules, Case, Check), conformance.core.source.shipped,
# Adapter, Device.
ADAPTER = '''
"""numpyfw: a made-up framework (a loop over input elements and taps in NumPy) with PyTorch-like padding.
Docs (made up for the test): c = padding, L = (i-1)*s + d*(k-1) + 1 - 2*padding; padding < 0 or L < 1 raise."""

import os

from conformance.core.rules import Case, Check, Rules
from conformance.core.source import shipped
from conformance.harness.surface import Adapter, Device, Surface

DOC = "numpyfw (module docstring)"
RULES = Rules(cases=(Case(("c = padding", "L = (i-1)*s + d*(k-1) + 1 - 2*padding"),
                          checks=(Check("padding >= 0", "padding is not negative"), Check("L >= 1", "L >= 1")),
                          source=DOC),), doc=DOC)


@shipped
def numpyfw_conv_transpose(x, w, b, gy=None, *, stride, padding, dilation, bug):
    import itertools

    import numpy as np
    if min(padding) < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    n, c_in, *size = x.shape
    kernel = w.shape[2:]
    full = [(i - 1) * s + d * (k - 1) + 1 for i, k, s, d in zip(size, kernel, stride, dilation)]
    out = [f - 2 * p for f, p in zip(full, padding)]
    if min(out) < 1:
        raise ValueError(f"output size {out} < 1")
    y = np.zeros((n, w.shape[1], *full))
    for at in itertools.product(*(range(i) for i in size)):
        for tap in itertools.product(*(range(k) for k in kernel)):
            pos = tuple(i * s + j * d for i, j, s, d in zip(at, tap, stride, dilation))
            xs, ws = x[(slice(None), slice(None), *at)], w[(slice(None), slice(None), *tap)]
            y[(slice(None), slice(None), *pos)] += xs.astype(np.float64) @ ws.astype(np.float64)
    y = y[(slice(None), slice(None), *[slice(p + bug, p + bug + o) for p, o in zip(padding, out)])]
    return y.astype(x.dtype)


class NumpyfwSurface(Surface):
    def draw_params(self, draw, conv):
        return {"padding": [draw.integer(-1, dim.kd, "padding") for dim in conv.dims()]}

    def arguments(self, params, conv, dtype, device, mode="eager"):
        return {"stride": conv.stride, "padding": list(params["padding"]), "dilation": conv.dilation,
                "bug": int(os.environ.get("NUMPYFW_BUG", "0"))}


def load():
    surface = NumpyfwSurface(framework="numpyfw", name="numpyfw.conv_transpose", doc=DOC,
                             call=numpyfw_conv_transpose, param_keys=("padding",), rules=RULES)
    return Adapter(name="numpyfw", version="0.1", devices=[Device("cpu", "cpu", "NumPy")], surfaces=[surface])
'''


def _run(tmp_path: Path, bug: int) -> tuple[subprocess.CompletedProcess, list[dict]]:
    (tmp_path / "numpyfw_adapter.py").write_text(textwrap.dedent(ADAPTER))
    records = tmp_path / f"records-{bug}.jsonl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
           # step 2 of the README, for a trial: register without editing the registry
           "CONFORMANCE_ADAPTERS": "numpyfw=numpyfw_adapter", "CONFORMANCE_PROFILE": "dev", "NUMPYFW_BUG": str(bug)}
    env.pop("CONFORMANCE_FRAMEWORKS", None)
    proc = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "suites"), "-p", "no:cacheprovider", "-q",
                           "--framework", "numpyfw", "--records", str(records)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    return proc, [json.loads(line) for line in records.read_text().splitlines()] if records.exists() else []


def test_a_new_framework_needs_only_the_documented_steps(tmp_path):
    proc, records = _run(tmp_path, bug=0)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    properties = {r["property"] for r in records}
    assert {"shapes", "values", "refusals", "nonfinite"} <= properties, (sorted(properties), out[-2000:])
    assert all(r["surface"] == "numpyfw:numpyfw.conv_transpose" for r in records)


def test_the_plugin_finds_a_bug_planted_in_the_new_call(tmp_path):
    proc, records = _run(tmp_path, bug=1)       # the window one element late in every dimension
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert "numpyfw:numpyfw.conv_transpose" in out and "numpyfw_conv_transpose(" in out, out[-3000:]
