"""Release-channel manifests, and the report's view of them: which version each channel ran, which could not be
installed (with pip's last lines), and what changed between adjacent channels of one framework.

A channel env (`python -m nightly run jax-previous`, docs/nightly.md) writes, beside its records file
`<env>.<device>.jsonl`, a manifest `<env>.<device>.channel.json`:

  env, group, channel, device      jax-previous, jax, previous, cpu
  status                           "installed", "not installable", "not importable" or "same as current"
  requirements, pip_args           what was asked of pip
  installed                        distribution -> version, for the group's packages and numpy
  framework, version               the adapter's name and version (the records' `framework` and `version`)
  reason, pip_tail                 why it is not installed, and pip's last lines
  records, records_count           the records file (name, beside the manifest) and how many records it holds
  pytest_exit, profile, run_id, started, finished

Records never name their channel; the manifest does. Channels of one group and device are compared in order
previous -> current -> pre with `diff.compare` on their own records files, so the page says what a release changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from . import atomic

SUFFIX = ".channel.json"
SCHEMA = "channel-1"
CHANNEL_ORDER = ("previous", "current", "pre")
INSTALLED = "installed"


def write(path: str | Path, manifest: dict) -> Path:
    return atomic.write_text(path, json.dumps({"schema": SCHEMA, **manifest}, indent=1, sort_keys=True) + "\n")


def manifest_paths(given: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, given):
        if p.is_dir():
            out.extend(sorted(p.rglob(f"*{SUFFIX}")))
        elif p.name.endswith(SUFFIX) and p.is_file():
            out.append(p)
    return out


@dataclass
class Channel:
    path: Path
    data: dict

    def __getattr__(self, name):             # env, group, channel, device, status, reason ...
        try:
            return self.__dict__["data"].get(name)
        except KeyError:
            raise AttributeError(name) from None

    @property
    def ok(self) -> bool:
        return self.data.get("status") == INSTALLED

    @property
    def records_path(self) -> Path | None:
        name = self.data.get("records")
        return self.path.parent / name if name else None

    @property
    def versions_text(self) -> str:
        inst = self.data.get("installed") or {}
        return ", ".join(f"{k} {v}" for k, v in inst.items()) or "none"

    @property
    def order(self) -> tuple:
        ch = self.data.get("channel")
        return (str(self.data.get("group")), str(self.data.get("device")),
                CHANNEL_ORDER.index(ch) if ch in CHANNEL_ORDER else len(CHANNEL_ORDER), str(ch))


def read(given: Iterable[str | Path]) -> tuple[list[Channel], list[str]]:
    """The manifests under the given files and folders, ordered by group, device and channel; plus problems."""
    channels, problems = [], []
    for p in manifest_paths(given):
        try:
            data = json.loads(p.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(f"{p}: channel manifest not readable: {exc}")
            continue
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            problems.append(f"{p}: not a channel manifest of schema {SCHEMA}")
            continue
        channels.append(Channel(p, data))
    channels.sort(key=lambda c: c.order)
    return channels, problems


@dataclass
class PairDiff:
    group: str
    device: str
    old: Channel
    new: Channel
    diff: object                      # reports.diff.Diff
    problems: list[str] = field(default_factory=list)
    both: int = 0                     # cases both versions judged (a derandomized profile draws the same ones)
    changed: list[tuple[str, str, str]] = field(default_factory=list)   # (case, old outcome, new outcome)

    @property
    def title(self) -> str:
        return (f"{self.group} on {self.device}: {self.old.channel} ({self.old.version}) -> "
                f"{self.new.channel} ({self.new.version})")


def outcome(r: dict) -> str:
    """What one case did, in words that differ when the behaviour differs (not when timings or err/bound do)."""
    a = r.get("actual") or {}
    what = (f"raised {str(a['error']).split(':', 1)[0]}" if a.get("error") else
            f"shape {tuple(a['shape'])}" if a.get("shape") is not None else "no result")
    if a.get("found_crop") is not None:
        what += f" at crop {a['found_crop']}"
    status = r.get("status")
    tail = f" [{r.get('expected_divergence')}]" if status == "expected" else ""
    return f"{r.get('verdict')}/{status}{('/' + r['kind']) if r.get('kind') else ''}: {what}{tail}"


def compare_cases(old: list[dict], new: list[dict], limit: int = 20) -> tuple[int, list[tuple[str, str, str]]]:
    """Cases both sides judged (the case key without the version) and those whose outcome differs."""
    from .cards import config_text
    from .signature import case_key

    def k(r):
        key = case_key(r)
        return key[:1] + key[2:]
    olds = {k(r): r for r in old}
    both, changed = 0, []
    for r in new:
        o = olds.get(k(r))
        if o is None:
            continue
        both += 1
        a, b = outcome(o), outcome(r)
        if a != b and len(changed) < limit:
            changed.append((f"{r.get('surface')} ({r.get('property')}): {config_text(r)}", a, b))
        elif a != b:
            changed.append(("", a, b))
    return both, changed


def pair_diffs(channels: list[Channel]) -> list[PairDiff]:
    """previous -> current and current -> pre, per group and device, where both ran and wrote records."""
    from . import diff, load, merge

    by_gd: dict[tuple, list[Channel]] = {}
    for c in channels:
        if c.ok and c.records_path is not None:
            by_gd.setdefault((c.group, c.device), []).append(c)
    out = []
    for (group, device), chans in sorted(by_gd.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
        chans.sort(key=lambda c: c.order)
        for old, new in zip(chans, chans[1:]):
            sides, problems = [], []
            for c in (old, new):
                recs, note = load.read_file(c.records_path)
                problems += [f"{c.records_path}: {p}" for p in note.problems]
                sides.append(merge.dedupe(recs)[0])
            both, changed = compare_cases(*sides)
            out.append(PairDiff(str(group), str(device), old, new, diff.compare(*sides), problems, both, changed))
    return out


def render_text(channels: list[Channel], pairs: list[PairDiff]) -> str:
    """The channels and their pair diffs as text (for CI logs and reports/nightly/channels.txt)."""
    from . import diff

    lines = [f"release channels: {len(channels)}"]
    for c in channels:
        what = c.versions_text if c.ok else f"{c.status}: {c.reason or ''}".rstrip(": ")
        lines.append(f"  {c.env} [{c.device}]: {what}"
                     + (f"; {c.records_count} records, pytest exit {c.pytest_exit}" if c.ok else ""))
    for p in pairs:
        lines.append(f"{p.title}:")
        lines += ["  " + line for line in diff.render_text(p.diff, p.old.env, p.new.env).splitlines()]
        lines.append(f"  cases judged by both: {p.both}, another outcome in {len(p.changed)}")
        lines += [f"    {case}: {a} -> {b}" for case, a, b in p.changed if case]
        lines += [f"  note: {q}" for q in p.problems]
    return "\n".join(lines)
