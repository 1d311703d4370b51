"""Command line of the core package: `python -m conformance summary RECORDS...`.

`summary` merges record files (from several tox envs, workers or machines) and prints the end-of-run summary:
per surface counts, new divergences, expected ones still present, expected ones gone (XPASS). Writes the same
text to --out if given. Exit status 0 when the records hold no new divergence, 1 when they do, 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from . import expectations, records
from .summary import new_divergences, summarize

DEFAULT_EXPECTATIONS = Path(__file__).resolve().parents[1] / "suites" / "expected_divergences.toml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    summary = sub.add_parser("summary", help="merge records files and print the conformance summary")
    summary.add_argument("records", nargs="+", type=Path, help="JSON-lines records files or directories")
    summary.add_argument("--expectations", type=Path, default=DEFAULT_EXPECTATIONS)
    summary.add_argument("--out", type=Path, help="also write the summary text here")
    args = parser.parse_args(argv)

    paths: list[Path] = []
    for p in args.records:
        paths.extend(sorted(p.glob("*.jsonl")) if p.is_dir() else [p])
    missing = [str(p) for p in paths if not p.is_file()]
    if missing or not paths:
        print(f"error: no records file at {', '.join(missing) or ', '.join(map(str, args.records))}", file=sys.stderr)
        return 2
    try:
        expected = expectations.load(args.expectations)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            recs = records.read(paths)
    except (expectations.ExpectationsError, records.RecordsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = summarize(recs, expected)
    notes = [f"note: {w.message}" for w in caught]
    text = "\n".join([f"records: {', '.join(map(str, paths))}", *notes, text])
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
        print(f"summary written to {args.out}")
    return 1 if new_divergences(recs) else 0


if __name__ == "__main__":
    sys.exit(main())
