"""End-of-run summary computed from records only (so records from several envs or workers combine)."""

from __future__ import annotations

from collections import Counter, defaultdict

from .expectations import Expectation


def summarize(records: list[dict], expectations: list[Expectation]) -> str:
    if not records:
        return "no conformance records were written"
    per_surface: dict[str, Counter] = defaultdict(Counter)
    versions = {}
    new: dict[tuple, dict] = {}
    distinct_new: dict[str, set] = defaultdict(set)
    expected_seen: Counter = Counter()
    matched_ok: Counter = Counter()
    xpass_surfaces: dict[str, set] = defaultdict(set)
    for r in records:
        key = r["surface"]
        versions[key] = r.get("version", "")
        per_surface[key][r["status"]] += 1
        per_surface[key]["cases"] += 1
        if r["status"] == "expected":
            expected_seen[r["expected_divergence"]] += 1
        elif r["status"] == "divergence" and r.get("final", True):
            new[(key, r["kind"], r["property"])] = r
            distinct_new[key].add((r["kind"], r["property"]))
        if r["verdict"] != "divergence":
            for e in r.get("expectations_matched", []):
                matched_ok[e] += 1
                xpass_surfaces[e].add(key)
    lines = ["transposed-convolution conformance summary"]
    for surface, c in sorted(per_surface.items()):
        lines.append(f"  {surface} [{versions[surface]}]: {c['cases']} cases, {c['pass']} as documented, "
                     f"{c['expected']} expected divergences, {len(distinct_new[surface])} new "
                     f"(from {c['divergence']} failing cases, shrinking included)"
                     + (f", {c['other']} divergences judged by another property" if c["other"] else ""))
    lines.append(f"new divergences: {len(new)}")
    for (surface, kind, prop), r in sorted(new.items()):
        lines.append(f"  NEW {kind} on {surface} ({prop}): {r['detail'].splitlines()[0] if r['detail'] else ''}")
    present = [e for e in expectations if expected_seen[e.id]]
    lines.append(f"expected divergences still present: {len(present)}")
    for e in present:
        lines.append(f"  {e.id} ({e.kind}, {expected_seen[e.id]} cases): {e.reason.splitlines()[0][:100]}")
    gone = xpassed(records, expectations)
    lines.append(f"expected divergences gone (XPASS): {len(gone)}")
    for e in gone:
        lines.append(f"  XPASS {e.id}: {matched_ok[e.id]} matching cases on "
                     f"{', '.join(sorted(xpass_surfaces[e.id]))} behaved as documented and none diverged; "
                     f"if that holds on every surface the entry names ({e.surface}), update or remove it")
    return "\n".join(lines)


def xpassed(records: list[dict], expectations: list[Expectation]) -> list[Expectation]:
    """Entries whose predicate matched cases that behaved as documented, and that no divergence of their kind
    matched. An entry matched by a divergence counts as seen even when another entry of the same kind was the
    one recorded as covering it (two overlapping entries must not make either look gone)."""
    kinds = {e.id: e.kind for e in expectations}
    seen = {r["expected_divergence"] for r in records if r["status"] == "expected"}
    seen |= {e for r in records if r["status"] in ("expected", "divergence")
             for e in r.get("expectations_matched", []) if kinds.get(e) == r.get("kind")}
    ok = {e for r in records if r["verdict"] != "divergence" for e in r.get("expectations_matched", [])}
    return [e for e in expectations if e.id in ok and e.id not in seen]


def new_divergences(records: list[dict]) -> list[dict]:
    """Final (shrunk) records of divergences no expected-divergence entry covers."""
    return [r for r in records if r["status"] == "divergence" and r.get("final", True)]
