"""`python -m reports diff OLD NEW`: what changed in the divergences between two runs' records.

Divergences are compared by `signature.Signature` (surface, kind, expected-divergence entry or detail class):
  new          in NEW, not in OLD
  fixed        in OLD, not in NEW, and NEW ran the surface and property it was seen on
  not checked  in OLD, not in NEW, but NEW did not run where it was seen (deselected, framework absent)
  changed      in both, with another status (expected <-> new) or another class of behaviour (detail_class:
               e.g. the exception class under the same expected-divergence entry; a class gone and another
               come, since a run that draws more cases may just see more of the classes it already saw)
  still there  in both, unchanged (framework versions may differ: the summary says so)
Prints a short text for CI logs. Exit 0; 1 when NEW has a new divergence no entry covers (a new signature or
one that changed into one); 2 on bad input (a path that is not there, or nothing readable on a side).
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from . import load
from .cards import config_text, size_key
from .signature import STATUS_RANK, STATUS_WORDS, Signature, detail_class, is_divergence, signature


@dataclass
class Group:
    signature: Signature
    status: str
    versions: list[str]
    records: int
    seen_in: set[tuple[str, str]]          # (surface, property)
    classes: set[str]
    minimal: dict

    def line(self) -> str:
        props = Counter(p for _, p in self.seen_in)
        return (f"{self.signature.text} [{', '.join(self.versions)}]: {STATUS_WORDS[self.status]}, "
                f"{self.records} cases ({', '.join(sorted(props))}); minimal: {config_text(self.minimal)}")


@dataclass
class Change:
    old: Group
    new: Group
    what: list[str]


@dataclass
class Diff:
    new: list[Group] = field(default_factory=list)
    fixed: list[Group] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    still: list[Group] = field(default_factory=list)
    not_checked: list[Group] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)    # "torch 2.12.0 -> 2.13.0"

    @property
    def failing(self) -> bool:
        return any(g.status == "divergence" for g in self.new) or any(
            c.new.status == "divergence" and c.old.status != "divergence" for c in self.changed)


def groups(records: list[dict]) -> dict[Signature, Group]:
    by_sig: dict[Signature, list[dict]] = defaultdict(list)
    for r in records:
        if is_divergence(r):
            by_sig[signature(r)].append(r)
    out = {}
    for sig, recs in by_sig.items():
        status = max((r["status"] for r in recs), key=lambda s: STATUS_RANK.get(s, 0))
        out[sig] = Group(sig, status, sorted({r["version"] for r in recs}), len(recs),
                         {(r["surface"], r["property"]) for r in recs}, {detail_class(r) for r in recs},
                         min((r for r in recs if r["status"] == status), key=size_key))
    return out


def _versions(records: list[dict]) -> dict[str, set]:
    out: dict[str, set] = defaultdict(set)
    for r in records:
        out[r["framework"]].add(r["version"])
    return out


def compare(old_records: list[dict], new_records: list[dict]) -> Diff:
    old, new = groups(old_records), groups(new_records)
    ran = {(r["surface"], r["property"]) for r in new_records}
    d = Diff()
    for sig in sorted(new):
        if sig not in old:
            d.new.append(new[sig])
            continue
        a, b = old[sig], new[sig]
        what = []
        if a.status != b.status:
            what.append(f"{STATUS_WORDS[a.status]} -> {STATUS_WORDS[b.status]}")
        if not (a.classes <= b.classes or b.classes <= a.classes):   # a bigger sample sees more classes
            what.append(f"behaviour {'; '.join(sorted(a.classes))} -> {'; '.join(sorted(b.classes))}")
        if what:
            d.changed.append(Change(a, b, what))
        else:
            d.still.append(b)
    for sig in sorted(old):
        if sig not in new:
            (d.fixed if old[sig].seen_in & ran else d.not_checked).append(old[sig])
    vo, vn = _versions(old_records), _versions(new_records)
    for fw in sorted(set(vo) | set(vn)):
        if vo.get(fw) != vn.get(fw):
            d.versions.append(f"{fw} {', '.join(sorted(vo.get(fw, ()))) or '(not run)'} -> "
                              f"{', '.join(sorted(vn.get(fw, ()))) or '(not run)'}")
    return d


def render_text(d: Diff, old_label: str = "OLD", new_label: str = "NEW") -> str:
    lines = [f"divergences {old_label} -> {new_label}: {len(d.new)} new, {len(d.fixed)} fixed, "
             f"{len(d.changed)} changed, {len(d.still)} still there, {len(d.not_checked)} not checked"]
    lines += [f"  versions: {v}" for v in d.versions]
    lines += [f"  NEW          {g.line()}" for g in d.new]
    lines += [f"  FIXED        {g.line()}" for g in d.fixed]
    lines += [f"  CHANGED      {c.new.line()}; {'; '.join(c.what)}" for c in d.changed]
    lines += [f"  NOT CHECKED  {g.signature.text}: {new_label} did not run "
              f"{', '.join(sorted(f'{s} ({p})' for s, p in g.seen_in))}" for g in d.not_checked]
    return "\n".join(lines)


def register(sub) -> None:
    p = sub.add_parser("diff", help="new, fixed and changed divergences between two runs' records")
    p.add_argument("old", type=Path, help="the previous run's records (a file or a folder)")
    p.add_argument("new", type=Path, help="this run's records (a file or a folder)")
    p.add_argument("--history", type=Path, help="a history file (python -m reports history): where each new or fixed "
                   "signature was seen before")
    p.set_defaults(func=main)


def main(args) -> int:
    sides = []
    for path in (args.old, args.new):
        loaded = load.load([path])
        for problem in loaded.problems:
            print(f"note: {problem}", file=sys.stderr)
        if not path.exists() or (loaded.damaged and not loaded.records):
            print(f"error: no records could be read from {path}", file=sys.stderr)
            return 2
        sides.append(loaded.records)
    d = compare(*sides)
    print(render_text(d, str(args.old), str(args.new)))
    if args.history is not None:
        from . import history
        hist = history.read_or_report(args.history)
        if hist is None:
            return 2
        for g in d.new + d.fixed:
            print(f"  history: {g.signature.text}: {history.note(hist, g.signature)}")
    return 1 if d.failing else 0
