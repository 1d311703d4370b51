"""A small store of past runs: framework versions -> divergence signatures -> first seen, last seen.

`python -m reports history update HISTORY RECORDS...` folds one run's records into the JSON file HISTORY;
`python -m reports history show HISTORY [--framework F] [--grep TEXT] [--json]` says, per divergence signature,
in which framework release it appeared and in which it disappeared.

Signatures are `signature.Signature`, the same identity the report's cards and `reports diff` use. The file:

  {"schema": "history-1",
   "runs": [{"run", "time", "versions": {framework: [version...]}, "new": [signature key...]}],   (the last 400)
   "versions": {"<framework> <version>": {"framework", "version", "first_run", "last_run", "first_time",
                "last_time", "checked": {surface: [property...]}}},
   "signatures": {"<kind> on <surface>: <class>": {"surface", "kind", "cls", "covered", "framework",
                  "first_run", "last_run", "first_time", "last_time",
                  "versions": {version: {"first_run", "last_run", "first_time", "last_time", "cases", "status"}}}}}

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
from .signature import STATUS_RANK, Signature, is_divergence, signature

SCHEMA = "history-1"
KEEP_RUNS = 400
DEFAULT = Path(__file__).resolve().parent / "history" / "history.json"


def empty() -> dict:
    return {"schema": SCHEMA, "runs": [], "versions": {}, "signatures": {}}


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
    """PEP 440 order where the version parses (local labels such as +cpu ignored), else numeric pieces."""
    try:
        from packaging.version import Version
        return (0, Version(v.split("+")[0]), v)
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
    def events(self) -> list[str]:
        fw, out, before = self.sig.get("framework", ""), [], None
        for version, present in self.steps:
            if present and before is None:
                out.append(f"present in the oldest {fw} release checked, {version}")
            elif present and before is False:
                out.append(f"appeared in {fw} {version}")
            elif not present and before:
                out.append(f"disappeared in {fw} {version}")
            before = present
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
        before = None
        for version, present in t.steps:
            if before is not None and present != before:
                out.setdefault((t.sig["framework"], version), ([], []))[0 if present else 1].append(k)
            before = present
    return [(f"{fw} {v}", a, d) for (fw, v), (a, d) in
            sorted(out.items(), key=lambda kv: (kv[0][0], version_key(kv[0][1])))]


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

