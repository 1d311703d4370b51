"""`python -m conformance errors RECORDS...`: the error catalogue's outcomes per surface, side by side, then the
faults the robustness property drew, per kind of fault and surface, from merged records (files or directories).
Text, or JSON with --json ({"catalogue": ..., "drawn": ...}); --out writes it too. Exit 0, 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.views.errors_view import build, build_drawn, render_drawn_text, render_text
from conformance.views.summary_cli import records_or_none


def register(sub) -> None:
    p = sub.add_parser("errors", help="error-catalogue and drawn-fault outcomes per surface "
                                      "(who refuses what another accepts)")
    p.add_argument("records", nargs="+", type=Path, help="JSON-lines records files or directories")
    p.add_argument("--json", action="store_true")
    p.add_argument("--out", type=Path)
    p.set_defaults(func=main)


def main(args) -> int:
    recs = records_or_none(args.records, getattr(args, "preread", None))
    if recs is None:
        return 2
    rows, drawn = build(recs), build_drawn(recs)
    text = (json.dumps({"catalogue": rows, "drawn": drawn}, indent=1) if args.json
            else render_text(rows) + "\n\n" + render_drawn_text(drawn))
    if not (args.json and args.out):
        print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0
