"""Entry accounting: how exact each expected-divergence entry is, measured on the records of a run.

Per entry, over the records that list it (`entries`: the cases its surface glob and predicate covered, in a property
that asserts its kind; conformance.harness.judge):
  covered      cases it covered
  as stated    cases that diverged as its behaviour states (the judge called them expected)
  conforming   cases that behaved as documented
  otherwise    cases that diverged in another way (new, or stated by another entry)
  precision    as stated / covered. Below WIDE_PRECISION over at least WIDE_MIN cases, the entry is flagged *wide*:
               its predicate covers cases where nothing it states happens, so a new bug there of the same kind would be
               measured against a statement nobody checked. An entry stated partial (nondeterministic or undetermined)
               is judged against its stated rate.
For a wide entry, `separating` lists the case features whose values split its diverging cases from its conforming
ones (what to add to the predicate).

Per surface: the share of cases judged on their merits (every record but those an entry settled as expected).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from conformance.harness import characterize
from conformance.harness.expectations import Expectation

WIDE_PRECISION = 0.9
WIDE_MIN = 20
MERITS_TARGET = 0.95


@dataclass
class EntryCount:
    entry: Expectation
    covered: int = 0
    as_stated: int = 0
    conforming: int = 0
    otherwise: int = 0
    surfaces: Counter = field(default_factory=Counter)
    records: list = field(default_factory=list)
    characterizations: list = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        return self.as_stated / self.covered if self.covered else None

    @property
    def wide(self) -> bool:
        if self.covered < WIDE_MIN or self.precision is None:
            return False
        nd = self.entry.partial
        if nd is not None:
            return self.precision < nd.rate / 2     # well below the measured rate: the predicate grew or it changed
        return self.precision < WIDE_PRECISION

    @property
    def gone(self) -> bool:
        """Cases that behaved as documented, none diverging as stated: the behaviour stopped (XPASS). For a partial
        entry only when that many cases without one would be unlikely (< 1 %) at its stated rate."""
        if not self.conforming or self.as_stated:
            return False
        partial = self.entry.partial
        return partial is None or (1 - partial.rate) ** self.covered < 0.01

    @property
    def unseen_at_rate(self) -> bool:
        """A partial entry whose covered cases all conformed, as its stated rate makes likely (not a verdict)."""
        return bool(self.conforming) and not self.as_stated and not self.gone


def _verdicts(record: dict, kinds: dict | None = None) -> dict:
    """entry id -> as-stated | conforming | otherwise. Records written before `entries` existed (no statements): an
    expected divergence counts as stated for every matched entry of its kind (`kinds`: entry id -> kind)."""
    if isinstance(record.get("entries"), dict):
        return record["entries"]
    out = {}
    for e in record.get("expectations_matched") or []:
        stated = record.get("expected_divergence") == e or (
            record.get("status") == "expected" and kinds is not None and kinds.get(e) == record.get("kind"))
        out[e] = ("conforming" if record.get("verdict") != "divergence" else "as-stated" if stated else "otherwise")
    return out


def account(records: list[dict], expectations: list[Expectation]) -> list[EntryCount]:
    counts = {e.id: EntryCount(e) for e in expectations}
    kinds = {e.id: e.kind for e in expectations}
    for r in records:
        for entry_id, verdict in _verdicts(r, kinds).items():
            c = counts.get(entry_id)
            if c is None:
                continue
            c.covered += 1
            c.surfaces[r.get("surface")] += 1
            c.records.append(r)
            if verdict == "as-stated":
                c.as_stated += 1
            elif verdict == "conforming":
                c.conforming += 1
            else:
                c.otherwise += 1
        ch = r.get("characterization")
        if isinstance(ch, dict) and ch.get("entry") in counts:
            counts[ch["entry"]].characterizations.append((r, ch))
    return list(counts.values())


def merits(records: list[dict]) -> dict[str, tuple[int, int]]:
    """surface -> (cases judged on their merits, cases)."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in records:
        c = out[r.get("surface")]
        c[1] += 1
        c[0] += r.get("status") != "expected"
    return {s: (a, b) for s, (a, b) in out.items()}


# -- what separates an entry's diverging cases from its conforming ones -------------------------------------------
def features(record: dict) -> dict:
    """Scalar features of a record's case, for separating (names as the predicate language writes them)."""
    ns = characterize.namespace_of(record) or {}
    out = {}
    for name in ("rank", "dtype", "batch", "c_in", "c_out", "groups", "bias", "mode", "property"):
        if name in ns:
            out[name] = ns[name]
    for name in ("stride", "kernel", "dilation", "kd", "in_size"):
        if name in ns:
            out[f"max({name})"] = max(ns[name])
            out[f"min({name})"] = min(ns[name])
    out["c_in == c_out"] = ns.get("c_in") == ns.get("c_out")
    out["length is None"] = ns.get("length") is None
    if ns.get("length") is not None and ns.get("full") is not None:
        out["max(L - F)"] = max(n - f for n, f in zip(ns["length"], ns["full"]))
    for key, value in (record.get("params") or {}).items():
        if isinstance(value, (str, bool)) or value is None:
            out[key] = value
        elif isinstance(value, list) and value and all(isinstance(v, int) for v in value):
            out[f"max({key})"] = max(value)
    return out


def separating(records: list[dict], entry_id: str, top: int = 3) -> list[str]:
    """The features whose values best split the entry's as-stated cases from the rest, as text:
    'dtype: float64 12/12 diverge, float32 0/30'."""
    rows = [(features(r), _verdicts(r).get(entry_id) == "as-stated") for r in records]
    total = len(rows)
    positives = sum(y for _, y in rows)
    if not total or positives in (0, total):
        return []
    base = _entropy(positives, total)
    scored = []
    for name in sorted({k for f, _ in rows for k in f}):
        groups: dict = defaultdict(lambda: [0, 0])
        for f, y in rows:
            g = groups[repr(f.get(name))]
            g[0] += y
            g[1] += 1
        if len(groups) < 2:
            continue
        gain = base - sum(n / total * _entropy(p, n) for p, n in groups.values())
        text = ", ".join(f"{v} {p}/{n} diverge" for v, (p, n) in sorted(groups.items(), key=lambda kv: -kv[1][1])[:6])
        scored.append((gain, f"{name}: {text}"))
    return [t for _, t in sorted(scored, key=lambda s: -s[0])[:top]]


def _entropy(p: int, n: int) -> float:
    if n == 0 or p in (0, n):
        return 0.0
    q = p / n
    return -(q * math.log2(q) + (1 - q) * math.log2(1 - q))


# -- text ----------------------------------------------------------------------------------------------------------
def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def table(counts: list[EntryCount], records: list[dict], detail: bool = True) -> str:
    """The entries table (and, with `detail`, what separates each wide entry, and each entry's characterization)."""
    lines = [f"{'entry':58} {'covered':>7} {'stated':>7} {'conform':>7} {'other':>6} {'prec':>5}  verdict"]
    for c in counts:
        nd = c.entry.partial
        verdict = ("WIDE" if c.wide else "gone (XPASS)" if c.gone else "not covered" if not c.covered
                   else "not seen, as its rate allows" if c.unseen_at_rate
                   else "few cases" if c.covered < WIDE_MIN and (c.precision or 0) < WIDE_PRECISION else "exact")
        if nd is not None:
            verdict += f" ({nd.cause}, stated rate {nd.rate:.2g})"
        lines.append(f"{c.entry.id:58} {c.covered:7} {c.as_stated:7} {c.conforming:7} {c.otherwise:6} "
                     f"{_pct(c.precision):>5}  {verdict}")
    if detail:
        for c in counts:
            if c.wide:
                lines.append(f"  {c.entry.id} is wide: what separates its {c.as_stated} diverging cases from the other "
                             f"{c.covered - c.as_stated}:")
                lines += [f"    {t}" for t in separating(c.records, c.entry.id)] or ["    (no single feature)"]
            for rec, ch in c.characterizations[:1]:
                lines.append(f"  {c.entry.id} on {rec.get('surface')}: {ch.get('summary')}")
                v = characterize.validate(ch.get("predicate", "True"), records, rec.get("surface"),
                                          lambda r, e=c.entry.id: _verdicts(r).get(e) == "as-stated")
                lines.append(f"    proposed `{ch.get('predicate')}`: " + validation_text(v))
    return "\n".join(lines)


def validation_text(v: dict) -> str:
    return (f"precision {_pct(v['precision'])} ({v['both']}/{v['inside']} cases it covers diverge so), "
            f"recall {_pct(v['recall'])} ({v['both']}/{v['showing']} of the cases that diverge so)")


def merits_text(records: list[dict]) -> list[str]:
    lines = []
    for surface, (ok, n) in sorted(merits(records).items()):
        share = ok / n if n else 1.0
        lines.append(f"  {surface}: {ok}/{n} = {100 * share:.1f}% judged on their merits"
                     + ("" if share >= MERITS_TARGET else f" (below {100 * MERITS_TARGET:.0f}%)"))
    return lines
