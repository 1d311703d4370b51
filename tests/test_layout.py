"""The star layout (../shared/DESIGN.md): the core, suites and reports never import a framework; adapters and the
core never import a suite; reports never import an adapter."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conformance import registry

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = registry.load().modules


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


def _files(folder: str):
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("folder, forbidden", [
    ("conformance", FRAMEWORKS | {"suites", "adapters", "reports", "hypothesis", "pytest"}),
    ("suites", FRAMEWORKS),
    ("reports", FRAMEWORKS | {"adapters"}),
    ("adapters", {"suites", "hypothesis", "pytest"}),
])
def test_folder_does_not_import(folder, forbidden):
    for path in _files(folder):
        bad = _imports(path) & forbidden
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"
