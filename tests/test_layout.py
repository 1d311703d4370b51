"""The star layout (../shared/DESIGN.md): the core, suites and reports never import a framework; adapters and the
core never import a suite; reports never import an adapter."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conformance.harness import registry

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


# the packages of conformance, each importing only those before it (conformance/__init__.py)
PACKAGES = ("core", "harness", "views", "explain")


def _conformance_imports(path: Path) -> set[str]:
    """The conformance packages `path` imports (conformance.<package>...)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "conformance" and len(parts) > 1 and parts[1] in PACKAGES:
                out.add(parts[1])
    return out


@pytest.mark.parametrize("package", PACKAGES)
def test_conformance_package_imports_only_the_packages_before_it(package):
    later = set(PACKAGES[PACKAGES.index(package) + 1:])
    if package == "explain":
        later = set()
    for path in sorted((ROOT / "conformance" / package).rglob("*.py")):
        bad = _conformance_imports(path) & later
        assert not bad, f"{path.relative_to(ROOT)} imports conformance.{sorted(bad)}"
    assert not any(p.suffix == ".py" for p in (ROOT / "conformance").iterdir()
                   if p.name not in ("__init__.py", "__main__.py", "verbs.py")), "every module lives in a package"

