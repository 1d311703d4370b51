"""`python -m conformance errors RECORDS...`: the error catalogue's outcomes per surface, side by side, from
merged records (files or directories). Text, or JSON with --json; --out writes it too. Exit 0, 2 on bad input."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from . import records
from .errors_view import build, render_text
from .summary_cli import read_all, record_paths


def register(sub) -> None:
    p = sub.add_parser("errors", help="error-catalogue outcomes per surface (who refuses what another accepts)")
    p.add_argument("records", nargs="+", type=Path, help="JSON-lines records files or directories")
    p.add_argument("--json", action="store_true")
    p.add_argument("--out", type=Path)
    p.set_defaults(func=main)


def main(args) -> int:
    paths, missing = record_paths(args.records)
    if missing:
        print(f"error: no records file at {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        recs, notes = read_all(paths)
    except records.RecordsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for note in notes:
        print(note, file=sys.stderr)
    rows = build(recs)
    text = json.dumps(rows, indent=1) if args.json else render_text(rows)
    if not (args.json and args.out):
        print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0
