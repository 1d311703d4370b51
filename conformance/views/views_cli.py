"""`python -m conformance views RECORDS... --out-dir DIR`: every text view of a run from one reading of its records
(the summary env of tox.ini): DIR/alignment.json and DIR/alignment.txt (`matrix`), DIR/errors.txt (`errors`),
DIR/entries.txt (`entries`), DIR/summary.txt (`summary`), each written and printed as its own verb writes and
prints it. The verbs one after the other read the records once each: 1.4 s per reading of the main job's 21,000
records on the 2-core machine (JSON decoding), 7 s of the summary env's 12 s, which runs alone at the end of `tox p`.

Exit status: 2 when a verb finds bad input (a missing or unreadable records file, a malformed expectations file);
else 1 when the records hold a new divergence (`summary`) or an entry is wide (`entries`); else 0. Every view is
written whatever another one's answer.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.views import entries_cli, errors_cli, matrix_cli, summary_cli


def register(sub) -> None:
    p = sub.add_parser("views", help="every text view of a run (matrix, errors, entries, summary) from one read")
    p.add_argument("records", nargs="+", type=Path, help="JSON-lines records files or directories")
    p.add_argument("--out-dir", type=Path, required=True, help="where the views are written")
    p.add_argument("--expectations", type=Path, default=summary_cli.DEFAULT_EXPECTATIONS)
    p.set_defaults(func=main)


def main(args) -> int:
    read = summary_cli.read_or_report(args.records)
    if read is None:
        return 2
    _, recs, notes = read
    for note in notes:
        print(note, file=sys.stderr)
    out, common = args.out_dir, dict(records=args.records, preread=recs, preread_notes=notes)
    statuses = [
        matrix_cli.main(argparse.Namespace(**common, json=True, examples=1, out=out / "alignment.json")),
        matrix_cli.main(argparse.Namespace(**common, json=False, examples=1, out=out / "alignment.txt")),
        errors_cli.main(argparse.Namespace(**common, json=False, out=out / "errors.txt")),
        entries_cli.main(argparse.Namespace(**common, expectations=args.expectations, out=out / "entries.txt")),
        summary_cli.main(argparse.Namespace(**common, expectations=args.expectations, out=out / "summary.txt")),
    ]
    return 2 if 2 in statuses else max(statuses)
