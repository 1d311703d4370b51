"""`python -m conformance entries RECORDS...`: how exact each expected-divergence entry is on these records
(conformance.views.accounting): per entry the cases its predicate covered, how many diverged as it states, conformed, or
diverged otherwise, its precision, and whether it is wide (with the features that separate its diverging cases from
its conforming ones) or gone; its characterization with the proposed predicate's precision and recall; and per
surface the share of cases judged on their merits. Writes the same text to --out if given. Exit 0, 1 when an entry
is wide, 2 on bad input.
"""

from __future__ import annotations

import sys
from pathlib import Path

from conformance.harness import expectations
from conformance.views import accounting
from conformance.views.summary_cli import DEFAULT_EXPECTATIONS, records_or_none


def register(sub) -> None:
    p = sub.add_parser("entries", help="per expected-divergence entry: covered, as stated, precision, wide or not")
    p.add_argument("records", nargs="+", type=Path, help="JSON-lines records files or directories")
    p.add_argument("--expectations", type=Path, default=DEFAULT_EXPECTATIONS)
    p.add_argument("--out", type=Path, help="also write the text here")
    p.set_defaults(func=main)


def main(args) -> int:
    try:
        entries = expectations.load(args.expectations)
    except expectations.ExpectationsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    recs = records_or_none(args.records, getattr(args, "preread", None))
    if recs is None:
        return 2
    counts = accounting.account(recs, entries)
    text = "\n".join([
        f"expected-divergence entries, measured on {len(recs)} records",
        accounting.table(counts, recs),
        "cases judged on their merits, per surface:",
        *accounting.merits_text(recs),
    ])
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
        print(f"entries written to {args.out}")
    return 1 if any(c.wide for c in counts) else 0
