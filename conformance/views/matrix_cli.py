"""`python -m conformance matrix RECORDS...`: the cross-framework alignment matrix of the portable
configurations, from merged records (files or directories, from any number of tox envs or machines).
Prints text, or JSON with --json; --out writes it to a file too (JSON then goes only to the file).
Exit 0, or 2 on bad input.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conformance.views.matrix import build, render_text, to_json
from conformance.views.summary_cli import records_or_none


def register(sub) -> None:
    p = sub.add_parser("matrix", help="cross-framework alignment matrix of the portable configurations")
    p.add_argument("records", nargs="+", type=Path, help="JSON-lines records files or directories")
    p.add_argument("--json", action="store_true", help="print the matrix as JSON")
    p.add_argument("--examples", type=int, default=1, help="example grid points shown per non-agreeing relation")
    p.add_argument("--out", type=Path, help="also write the output here")
    p.set_defaults(func=main)


def main(args) -> int:
    recs = records_or_none(args.records, getattr(args, "preread", None))
    if recs is None:
        return 2
    matrix = build(recs)
    text = json.dumps(to_json(matrix), indent=1) if args.json else render_text(matrix, args.examples)
    if not (args.json and args.out):     # JSON written to a file is not echoed into the log
        print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
        print(f"matrix written to {args.out}", file=sys.stderr)
    return 0
