"""End-of-run summary computed from records only (so records from several envs or workers combine)."""

from __future__ import annotations

from collections import Counter, defaultdict

from conformance.harness import behaviour as behaviour_mod
from conformance.harness import characterize
from conformance.harness.expectations import Expectation
from conformance.views import accounting


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
    lines.append("cases judged on their merits (not settled by an expected-divergence entry):")
    lines += accounting.merits_text(records)
    lines.append(f"new divergences: {len(new)}")
    for (surface, kind, prop), r in sorted(new.items()):
        lines.append(f"  NEW {kind} on {surface} ({prop}): {r['detail'].splitlines()[0] if r['detail'] else ''}")
        if r.get("behaviour"):
            lines.append(f"    behaviour: {behaviour_mod.describe(r['behaviour'])}")
        ch = _characterization_of(records, r)
        if ch:
            key = ch.get("behaviour_key")
            v = characterize.validate(ch.get("predicate", "True"), records, surface, lambda q, k=key, kd=kind: (
                q.get("kind") == kd and q.get("verdict") == "divergence"
                and repr(behaviour_mod.key(q.get("behaviour"))) == k))
            lines.append(f"    {ch.get('summary')}")
            lines.append(f"    proposed predicate `{ch.get('predicate')}`: {accounting.validation_text(v)}")
    present = [e for e in expectations if expected_seen[e.id]]
    lines.append(f"expected divergences still present: {len(present)}")
    for e in present:
        lines.append(f"  {e.id} ({e.kind}, {expected_seen[e.id]} cases): {e.reason.splitlines()[0][:100]}")
    counts = accounting.account(records, expectations)
    lines.append("expected-divergence entries (python -m conformance entries RECORDS for the details):")
    table = accounting.table([c for c in counts if c.covered], records, detail=False)
    lines += ["  " + ln for ln in table.splitlines()]
    wide = [c for c in counts if c.wide]
    lines.append(f"wide entries (precision below {accounting.WIDE_PRECISION} over {accounting.WIDE_MIN}+ cases): "
                 f"{len(wide)}" + (f": {', '.join(c.entry.id for c in wide)}" if wide else ""))
    gone = xpassed(records, expectations)
    lines.append(f"expected divergences gone (XPASS): {len(gone)}")
    for e in gone:
        lines.append(f"  XPASS {e.id}: {matched_ok[e.id]} matching cases on "
                     f"{', '.join(sorted(xpass_surfaces[e.id]))} behaved as documented and none diverged; "
                     f"if that holds on every surface the entry names ({e.surface}), update or remove it")
    return "\n".join(lines)


def xpassed(records: list[dict], expectations: list[Expectation]) -> list[Expectation]:
    """Entries whose predicate covered cases that behaved as documented, and no case that diverged as the entry
    states. An entry whose statement held counts as seen even when another entry was the one recorded as covering
    the case (two overlapping entries must not make either look gone)."""
    return [c.entry for c in accounting.account(records, expectations) if c.gone]


def _characterization_of(records: list[dict], record: dict) -> dict | None:
    """The characterization written with this new divergence, or with another record of the same behaviour."""
    if isinstance(record.get("characterization"), dict):
        return record["characterization"]
    key = repr(behaviour_mod.key(record.get("behaviour")))
    for r in records:
        ch = r.get("characterization")
        if isinstance(ch, dict) and r.get("surface") == record.get("surface") and ch.get("behaviour_key") == key \
                and ch.get("entry") is None:
            return ch
    return None


def new_divergences(records: list[dict]) -> list[dict]:
    """Final (shrunk) records of divergences no expected-divergence entry covers."""
    return [r for r in records if r["status"] == "divergence" and r.get("final", True)]
