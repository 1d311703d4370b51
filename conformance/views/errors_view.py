"""The cross-framework view of the error catalogue, from records only: for every catalogue case and surface,
what the call did (refused with which exception, returned which shape, crashed), and whether that is what
the docs lead a user to expect. Shows at a glance where one framework refuses what another accepts."""

from __future__ import annotations

from collections import defaultdict


def _cell(r: dict) -> dict:
    actual = r["actual"]
    if r.get("kind") == "crash":
        did = f"CRASH ({actual.get('error', '')})"
    elif "error" in actual:
        did = "refused: " + actual["error"].split(":", 1)[0]
    elif "shape" in actual:
        did = "returned " + "x".join(map(str, actual["shape"]))
    else:
        did = "returned"
    verdict = {"pass": "as documented", "refused": "as documented", "divergence": "DIVERGES"}[r["verdict"]]
    if r["status"] == "expected":
        verdict = f"diverges, expected ({r['expected_divergence']})"
    return {"did": did, "verdict": verdict, "message": actual.get("error", ""), "status": r["status"]}


def build(records: list[dict]) -> dict:
    """{case id: {"what", "expect", "surfaces": {column: cell}}}, from the final records of property errors."""
    rows: dict[str, dict] = {}
    versions: dict[str, set] = defaultdict(set)
    errors = [r for r in records if r.get("property") == "errors" and r.get("final", True) and r.get("fault")]
    for r in errors:
        versions[r["surface"]].add(r["version"])
    for r in errors:
        column = r["surface"] if len(versions[r["surface"]]) == 1 else f"{r['surface']} [{r['version']}]"
        row = rows.setdefault(r["fault"]["case"], {"fault": r["fault"], "surfaces": {}})
        row["surfaces"][column] = _cell(r)
    return rows


def render_text(rows: dict) -> str:
    if not rows:
        return "no error-catalogue records (property 'errors'): run suites/test_errors.py first"
    lines = ["error behaviour across surfaces (suites/error_catalogue.toml), from records"]
    for case, row in rows.items():
        fault = row["fault"]
        lines.append(f"\n{case}  [{fault['fault']} = {fault['value']}; docs: {fault['expect']}]")
        outcomes = {cell["did"].split(":")[0] for cell in row["surfaces"].values()}
        if len(outcomes) > 1:
            lines.append("  frameworks disagree: " + " / ".join(sorted(outcomes)))
        width = max(len(c) for c in row["surfaces"])
        for column, cell in sorted(row["surfaces"].items()):
            lines.append(f"  {column:<{width}}  {cell['did']:<40}  {cell['verdict']}")
    return "\n".join(lines)
