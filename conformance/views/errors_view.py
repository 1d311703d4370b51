"""The cross-framework view of the error catalogue, from records only: for every catalogue case and surface,
what the call did (refused with which exception, returned which shape, crashed), and whether that is what
the docs lead a user to expect. Shows at a glance where one framework refuses what another accepts.

Below it, the faults the robustness property drew (`build_drawn`): one row per kind of fault ('first-entry-huge',
'none', 'x-int32', ...) whatever argument it went into (the argument names differ across frameworks: stride,
strides, window_strides), and per surface how often the faulty call raised (which exceptions), returned a result, or
killed its process. The docs are silent on most of these: raising cleanly passes, a result is shown, a death is a
crash divergence."""

from __future__ import annotations

from collections import Counter, defaultdict


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


def build_drawn(records: list[dict]) -> dict:
    """{fault kind: {"arguments": [...], "surfaces": {surface: cell}}} from the robustness property's records (every
    record: the drawn cases and the shrink steps alike); a cell counts what the faulty calls did."""
    cells: dict[str, dict[str, dict]] = defaultdict(dict)
    for r in records:
        if r.get("property") != "robustness" or not isinstance(r.get("fault"), dict):
            continue
        where, _, kind = str(r["fault"].get("case", "")).partition(":")
        cell = cells[kind].setdefault(r["surface"], {"refused": Counter(), "returned": 0, "crashed": Counter(),
                                                     "arguments": set(), "divergence": False})
        cell["arguments"].add(where)
        actual = r.get("actual") or {}
        if r.get("kind") == "crash":
            cell["crashed"][str((r.get("behaviour") or {}).get("signal") or actual.get("error", "died"))] += 1
            cell["divergence"] = cell["divergence"] or r.get("status") == "divergence"
        elif "error" in actual:
            cell["refused"][str(actual["error"]).split(":", 1)[0]] += 1
        else:
            cell["returned"] += 1
    rows = {}
    for kind in sorted(cells):
        rows[kind] = {"arguments": sorted(set().union(*(c["arguments"] for c in cells[kind].values()))),
                      "surfaces": {s: _drawn_cell(c) for s, c in sorted(cells[kind].items())}}
    return rows


def _drawn_cell(c: dict) -> dict:
    parts = []
    if c["refused"]:
        n = sum(c["refused"].values())
        parts.append(f"refused {n} (" + ", ".join(f"{e} {k}" for e, k in c["refused"].most_common()) + ")")
    if c["returned"]:
        parts.append(f"returned {c['returned']}")
    if c["crashed"]:
        parts.append("CRASH " + ", ".join(f"{s} {k}" for s, k in c["crashed"].most_common()))
    outcome = "crashed" if c["crashed"] else "mixed" if c["refused"] and c["returned"] else \
        "refused" if c["refused"] else "returned"
    return {"did": "; ".join(parts), "outcome": outcome, "arguments": sorted(c["arguments"]),
            "status": "divergence" if c["divergence"] else "expected" if c["crashed"] else "pass"}


def render_drawn_text(rows: dict) -> str:
    if not rows:
        return "no robustness records (property 'robustness'): run suites/test_robustness.py first"
    lines = ["faults drawn per argument (suites/test_robustness.py), from records: what each surface's faulty calls "
             "did"]
    for kind, row in rows.items():
        lines.append(f"\n{kind}  [into: {', '.join(row['arguments'])}]")
        outcomes = {cell["outcome"] for cell in row["surfaces"].values()}
        if len(outcomes) > 1:
            lines.append("  frameworks disagree: " + " / ".join(sorted(outcomes)))
        width = max(len(c) for c in row["surfaces"])
        for column, cell in row["surfaces"].items():
            lines.append(f"  {column:<{width}}  {cell['did']}  [{', '.join(cell['arguments'])}]")
    return "\n".join(lines)
