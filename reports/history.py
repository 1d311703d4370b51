"""A small store of past runs: framework versions -> divergence signatures -> first seen, last seen.

`python -m reports history update HISTORY RECORDS...` folds one run's records into the JSON file HISTORY;
`python -m reports history show HISTORY [--framework F] [--grep TEXT] [--json]` says, per divergence signature,
in which framework release it appeared and in which it disappeared; `python -m reports history timeline HISTORY`
draws per framework the grid releases x signatures with each signature's first and last release seen, where it
was introduced and fixed (or changed into another signature), and its entry (`grids`; the report's "Release
timeline"; what `python -m nightly sweep` prints).

Signatures are `signature.Signature`, the same identity the report's cards and `reports diff` use. The file:

  {"schema": "history-1",
   "runs": [{"run", "time", "versions": {framework: [version...]}, "new": [signature key...]}],   (the last 400)
   "versions": {"<framework> <version>": {"framework", "version", "first_run", "last_run", "first_time",
                "last_time", "checked": {surface: [property...]}}},
   "signatures": {"<kind> on <surface>: <class>": {"surface", "kind", "cls", "covered", "framework",
                  "first_run", "last_run", "first_time", "last_time",
                  "versions": {version: {"first_run", "last_run", "first_time", "last_time", "cases", "status"}}}},
   "unavailable": {framework: {version: reason}}}         (releases a sweep could not run: not installable ...)

A release counts as "checked" for a signature when a run of it judged the signature's surface with one of the
properties that saw it; a signature absent from a checked release disappeared there, one absent from a release
nobody checked is unknown. Releases are ordered by version (PEP 440 where it parses).
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from . import atomic, load, merge
from .signature import STATUS_RANK, STATUS_WORDS, Signature, is_divergence, signature

SCHEMA = "history-1"
KEEP_RUNS = 400
DEFAULT = Path(__file__).resolve().parent / "history" / "history.json"


def empty() -> dict:
    return {"schema": SCHEMA, "runs": [], "versions": {}, "signatures": {}, "unavailable": {}}


def mark_unavailable(history: dict, framework: str, version: str, reason: str) -> None:
    """A release that could not be run (not installable, adapter not loading): the timeline shows it as a column
    with the reason, never as a release where a divergence was absent."""
    history.setdefault("unavailable", {}).setdefault(framework, {})[version] = reason


class HistoryError(ValueError):
    pass


def read(path: str | Path) -> dict:
    """The history at `path`; an empty one when there is no file. HistoryError when it is not a history."""
    path = Path(path)
    if not path.exists():
        return empty()
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HistoryError(f"{path}: not readable as JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise HistoryError(f"{path}: not a history file of schema {SCHEMA}")
    for k, v in empty().items():
        data.setdefault(k, v)
    return data


def read_or_report(path: str | Path) -> dict | None:
    """`read` for the command lines: None, after one `error:` line on stderr, when the file is not a history."""
    try:
        return read(path)
    except HistoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def write(path: str | Path, history: dict) -> Path:
    return atomic.write_text(path, json.dumps(history, indent=1, sort_keys=True) + "\n")


def key(sig: Signature) -> str:
    return sig.text


def version_key(v: str) -> tuple:
    """PEP 440 order where the version's first word parses (local labels such as +cpu ignored), else numeric
    pieces."""
    try:
        from packaging.version import Version
        return (0, Version(v.split()[0].split("+")[0]), v)     # "3.14.1 (backend jax 0.10.2)": its first word
    except Exception:                        # noqa: BLE001 - packaging absent or an odd version string
        return (1, tuple(int(x) if x.isdigit() else 0 for x in re.split(r"[.+-]", v)), v)


def update(history: dict, records: list[dict], run: str, when: float | None = None) -> list[str]:
    """Fold one run's records into `history` (in place). Returns the keys of signatures new to the history."""
    when = time.time() if when is None else when
    records, _ = merge.dedupe(records)
    versions = history["versions"]
    ran: dict[str, set] = defaultdict(set)
    for r in records:
        vk = f"{r['framework']} {r['version']}"
        v = versions.setdefault(vk, {"framework": r["framework"], "version": r["version"], "first_run": run,
                                     "first_time": when, "checked": {}})
        v.update(last_run=run, last_time=when)
        props = set(v["checked"].get(r["surface"], [])) | {r["property"]}
        v["checked"][r["surface"]] = sorted(props)
        ran[r["framework"]].add(r["version"])
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        if is_divergence(r):
            groups[(signature(r), r["framework"], r["version"])].append(r)
    sigs = history["signatures"]
    new = []
    for (sig, framework, version), recs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        k = key(sig)
        if k not in sigs:
            sigs[k] = {"surface": sig.surface, "kind": sig.kind, "cls": sig.cls, "covered": sig.covered,
                       "framework": framework, "first_run": run, "first_time": when, "versions": {},
                       "properties": []}
            new.append(k)
        s = sigs[k]
        s.update(last_run=run, last_time=when)
        s["properties"] = sorted(set(s.get("properties", [])) | {r["property"] for r in recs})
        status = max((r["status"] for r in recs), key=lambda x: STATUS_RANK.get(x, 0))
        sv = s["versions"].setdefault(version, {"first_run": run, "first_time": when, "cases": 0})
        sv.update(last_run=run, last_time=when, cases=len(recs), status=status)
    history["runs"].append({"run": run, "time": when, "new": new,
                            "versions": {fw: sorted(vs, key=version_key) for fw, vs in sorted(ran.items())}})
    history["runs"] = history["runs"][-KEEP_RUNS:]
    return list(dict.fromkeys(new))


@dataclass
class Timeline:
    key: str
    sig: dict
    steps: list[tuple[str, bool]]       # (version, present) over the checked releases, in version order
    unchecked: list[str]

    @property
    def transitions(self) -> list[tuple[str, bool, bool | None]]:
        """(version, present, present before) at the oldest checked release (before: None) and wherever the
        signature's presence flips between two checked releases."""
        out, before = [], None
        for version, present in self.steps:
            if before is None or present != before:
                out.append((version, present, before))
            before = present
        return out

    @property
    def events(self) -> list[str]:
        fw, out = self.sig.get("framework", ""), []
        for version, present, before in self.transitions:
            if present:
                out.append(f"present in the oldest {fw} release checked, {version}" if before is None
                           else f"appeared in {fw} {version}")
            elif before:
                out.append(f"disappeared in {fw} {version}")
        if self.steps and all(p for _, p in self.steps) and len(self.steps) > 1:
            out = [f"present in every {fw} release checked ({self.steps[0][0]} .. {self.steps[-1][0]})"]
        return out

    @property
    def text(self) -> str:
        marks = ", ".join(f"{v} {'yes' if p else 'no'}" for v, p in self.steps)
        s = self.sig
        return (f"{self.key} [{'expected' if s.get('covered') else 'new divergence'}]\n"
                f"  {s.get('framework', '')} releases: {marks or 'none checked'}"
                + (f"; not checked: {', '.join(self.unchecked)}" if self.unchecked else "") + "\n"
                f"  {'; '.join(self.events) or 'no release checked'}; first seen run {s.get('first_run')}, "
                f"last seen run {s.get('last_run')}")

    @property
    def entry(self) -> str | None:
        """The expected-divergence entry that covers the signature, if one does."""
        return self.sig.get("cls") if self.sig.get("covered") else None

    @property
    def seen(self) -> list[str]:
        return [v for v, present in self.steps if present]

    def dating(self, replaced: dict[str, list[str]] | None = None) -> list[str]:
        """Where the signature was introduced and fixed, over the checked releases: "introduced in X" after a
        checked release without it, "fixed in Y" where a checked release no longer shows it, "changed in Y (now:
        ...)" where another signature of the same surface and property appeared in that release instead
        (`replaced`: version -> those signatures' keys). The oldest and newest checked releases bound what a
        sweep can say: present in the oldest means introduced there or before."""
        fw, out = self.sig.get("framework", ""), []
        for version, present, before in self.transitions:
            if present:
                out.append(f"introduced in {fw} {version} or before (the oldest release checked)" if before is None
                           else f"introduced in {fw} {version}")
            elif before:
                now = (replaced or {}).get(version)
                out.append(f"changed in {fw} {version} (now: {'; '.join(now)})" if now else f"fixed in {fw} {version}")
        if self.steps and self.steps[-1][1]:
            out.append(f"not fixed in the newest release checked ({self.steps[-1][0]})")
        return out


def timeline(history: dict, k: str) -> Timeline:
    s = history["signatures"][k]
    fw, props = s.get("framework"), set(s.get("properties", []))
    steps, unchecked = [], []
    for vk, v in history["versions"].items():
        if v.get("framework") != fw:
            continue
        checked = set(v.get("checked", {}).get(s["surface"], []))
        present = v["version"] in s.get("versions", {})
        if present or (checked & props if props else checked):
            steps.append((v["version"], present))
        else:
            unchecked.append(v["version"])
    steps.sort(key=lambda sv: version_key(sv[0]))
    return Timeline(k, s, steps, sorted(unchecked, key=version_key))


def note(history: dict, sig: Signature) -> str:
    """One line for the report and the diff: where this signature has been seen before, if anywhere."""
    k = key(sig)
    if k not in history.get("signatures", {}):
        return "not in the history: never seen before"
    t = timeline(history, k)
    return f"{'; '.join(t.events) or 'seen'}; first seen run {t.sig.get('first_run')}"


def release_changes(history: dict) -> list[tuple[str, list[str], list[str]]]:
    """Per framework release (in order): the signatures that appeared and those that disappeared there."""
    out: dict[tuple, tuple[list, list]] = {}
    for k in history["signatures"]:
        t = timeline(history, k)
        for version, present, before in t.transitions:
            if before is not None:
                out.setdefault((t.sig["framework"], version), ([], []))[0 if present else 1].append(k)
    return [(f"{fw} {v}", a, d) for (fw, v), (a, d) in
            sorted(out.items(), key=lambda kv: (kv[0][0], version_key(kv[0][1])))]


@dataclass
class Row:
    timeline: Timeline
    cells: list[str]                    # per column: "yes", "no", "not checked" or "not run"
    dating: list[str]                   # Timeline.dating, with the signatures that replaced it where one did

    @property
    def status(self) -> str:
        """The worst status the signature had in a release (reports.signature.STATUS_WORDS): a divergence another
        property judges is not a new one."""
        seen = [v.get("status") for v in self.timeline.sig.get("versions", {}).values()]
        worst = max(seen, key=lambda x: STATUS_RANK.get(x, 0), default=None)
        if worst is None:
            return "expected divergence" if self.timeline.sig.get("covered") else "new divergence"
        return STATUS_WORDS.get(worst, str(worst))


@dataclass
class Grid:
    """One framework's releases (columns, oldest first) x its divergence signatures (rows)."""
    framework: str
    releases: list[str]
    unavailable: dict[str, str]         # release -> why it was not run
    rows: list[Row]

    @property
    def labels(self) -> list[str]:
        """The column heads: each release's first word ("3.14.1 (backend jax 0.10.2)" -> "3.14.1") where those are
        distinct, else the whole version."""
        short = [v.split()[0] if v.split() else v for v in self.releases]
        return short if len(set(short)) == len(short) else list(self.releases)

    @property
    def text(self) -> str:
        labels = self.labels
        width = max([len(r) for r in labels] + [3])
        out = [f"{self.framework}: {len(self.releases)} releases ({', '.join(self.releases)})"]
        out += [f"  {v}: not run: {why}" for v, why in self.unavailable.items()]
        out.append("  " + " ".join(f"{v:>{width}}" for v in labels) + "  signature")
        marks = {"yes": "X", "no": ".", "not checked": "?", "not run": "-"}
        for row in self.rows:
            out.append("  " + " ".join(f"{marks[c]:>{width}}" for c in row.cells) + f"  {row.timeline.key} "
                       f"[{row.status}{': entry ' + row.timeline.entry if row.timeline.entry else ''}]")
            seen = row.timeline.seen
            out.append("  " + " " * (width + 1) * len(self.releases) + f"  first seen {seen[0] if seen else '-'}, "
                       f"last seen {seen[-1] if seen else '-'}; " + "; ".join(row.dating))
        return "\n".join(out)


def grids(history: dict) -> list[Grid]:
    """Per framework of the history: the release x signature grid with each signature's dating."""
    by_fw: dict[str, list[Timeline]] = defaultdict(list)
    for k in sorted(history["signatures"]):
        t = timeline(history, k)
        by_fw[t.sig.get("framework", "")].append(t)
    out = []
    for fw in sorted(set(by_fw) | {v.get("framework") for v in history["versions"].values()}
                     | set(history.get("unavailable", {}))):
        unavailable = dict(history.get("unavailable", {}).get(fw, {}))
        ran = [v["version"] for v in history["versions"].values() if v.get("framework") == fw]
        releases = sorted(set(ran) | set(unavailable), key=version_key)
        unavailable = {v: unavailable[v] for v in releases if v in unavailable and v not in ran}
        rows = []
        for t in by_fw.get(fw, []):
            steps = dict(t.steps)
            cells = ["not run" if v in unavailable else "yes" if steps.get(v) else "no" if v in steps
                     else "not checked" for v in releases]
            rows.append(Row(t, cells, t.dating(_replacements(t, by_fw[fw]))))
        out.append(Grid(fw, releases, unavailable, rows))
    return out


def _replacements(t: Timeline, others: list[Timeline]) -> dict[str, list[str]]:
    """For each release where `t` disappeared: the signatures of the same surface (and a property `t` was seen
    by) that appeared there."""
    out: dict[str, list[str]] = {}
    props = set(t.sig.get("properties", []))
    for o in others:
        if o.key == t.key or o.sig.get("surface") != t.sig.get("surface") \
                or (props and not props & set(o.sig.get("properties", []))):
            continue
        for version, present, before in o.transitions:
            if present and before is False:
                out.setdefault(version, []).append(o.key)
    gone = {version for version, present, before in t.transitions if before and not present}
    return {v: ks for v, ks in out.items() if v in gone}


def timeline_text(history: dict) -> str:
    """The grids as text: X seen, . checked and not seen, ? not checked, - not run."""
    parts = [g.text for g in grids(history)]
    return ("release timeline (X seen, . checked and not seen, ? that surface/property not checked, - release not "
            "run)\n" + "\n\n".join(parts)) if parts else "release timeline: no release in the history"


def register(sub) -> None:
    p = sub.add_parser("history", help="past runs: in which release a divergence appeared or disappeared")
    verbs = p.add_subparsers(dest="history_verb", required=True)
    u = verbs.add_parser("update", help="fold a run's records into the history file")
    u.add_argument("history", type=Path, help=f"the history file (created when missing; e.g. {DEFAULT})")
    u.add_argument("records", nargs="+", type=Path, help="the run's records files or folders")
    u.add_argument("--run", help="the run's label (default: its run ids, else the time)")
    u.add_argument("--new-out", type=Path, help="write the signatures new to the history here, as JSON")
    u.set_defaults(func=main_update)
    s = verbs.add_parser("show", help="per divergence signature, the releases where it appeared or disappeared")
    s.add_argument("history", type=Path)
    s.add_argument("--framework", help="only this framework's signatures")
    s.add_argument("--grep", help="only signatures whose text contains this (case-insensitive)")
    s.add_argument("--json", action="store_true", help="the timelines as JSON")
    s.set_defaults(func=main_show)
    t = verbs.add_parser("timeline", help="per framework, releases x divergence signatures: first and last release "
                         "seen, introduced in, fixed in, the entry")
    t.add_argument("history", type=Path)
    t.add_argument("--framework", help="only this framework")
    t.set_defaults(func=main_timeline)


def new_signatures_json(history: dict, keys: list[str]) -> list[dict]:
    out = []
    for k in keys:
        s = history["signatures"][k]
        out.append({"key": k, "id": signature_id(k), **{f: s.get(f) for f in
                    ("surface", "kind", "cls", "covered", "framework", "first_run")},
                    "versions": sorted(s.get("versions", {}), key=version_key)})
    return out


def signature_id(k: str) -> str:
    """A short stable id of a signature, for issue titles and labels."""
    import hashlib
    return hashlib.sha256(k.encode()).hexdigest()[:12]


def main_update(args) -> int:
    history = read_or_report(args.history)
    if history is None:
        return 2
    loaded = load.load(args.records)
    for problem in loaded.problems:
        print(f"note: {problem}", file=sys.stderr)
    if not loaded.records:
        print("error: no records could be read; the history is unchanged", file=sys.stderr)
        return 2
    run = args.run or ",".join(sorted({str(r.get("run_id")) for r in loaded.records}))[:200]
    new = update(history, loaded.records, run)
    write(args.history, history)
    if args.new_out:
        atomic.write_text(args.new_out, json.dumps(new_signatures_json(history, new), indent=1) + "\n")
    print(f"history {args.history}: run {run}: {len(loaded.records)} records, {len(new)} signatures new to the "
          f"history, {len(history['signatures'])} known, {len(history['runs'])} runs")
    for k in new:
        print(f"  NEW {k}")
    return 0


def main_show(args) -> int:
    history = read_or_report(args.history)
    if history is None:
        return 2
    if not args.history.exists():
        print(f"error: no history file at {args.history}", file=sys.stderr)
        return 2
    keys = [k for k, s in sorted(history["signatures"].items())
            if (not args.framework or s.get("framework") == args.framework)
            and (not args.grep or args.grep.lower() in k.lower())]
    lines = [timeline(history, k) for k in keys]
    if args.json:
        print(json.dumps([{"key": t.key, "framework": t.sig.get("framework"), "steps": t.steps,
                           "events": t.events, "unchecked": t.unchecked, "first_run": t.sig.get("first_run"),
                           "last_run": t.sig.get("last_run")} for t in lines], indent=1))
        return 0
    runs = history["runs"]
    print(f"history {args.history}: {len(runs)} runs"
          + (f" ({runs[0]['run']} .. {runs[-1]['run']})" if runs else "")
          + f"; {len(history['versions'])} framework releases; {len(keys)} of {len(history['signatures'])} "
          "signatures shown")
    changes = [c for c in release_changes(history) if not args.framework or c[0].startswith(args.framework + " ")]
    for release, appeared, gone in changes:
        print(f"{release}: {len(appeared)} appeared, {len(gone)} disappeared")
        print("".join(f"  + {k}\n" for k in appeared if k in keys) + "".join(f"  - {k}\n" for k in gone if k in keys),
              end="")
    for t in lines:
        print(t.text)
    return 0



def main_timeline(args) -> int:
    if not args.history.exists():
        print(f"error: no history file at {args.history}", file=sys.stderr)
        return 2
    history = read_or_report(args.history)
    if history is None:
        return 2
    if args.framework:
        history = {**history, "signatures": {k: v for k, v in history["signatures"].items()
                                             if v.get("framework") == args.framework},
                   "versions": {k: v for k, v in history["versions"].items() if v.get("framework") == args.framework},
                   "unavailable": {k: v for k, v in history.get("unavailable", {}).items() if k == args.framework}}
    print(timeline_text(history))
    return 0
