"""`python -m conformance summary RECORDS...`: merge records files (from several tox envs, workers or machines)
and print the end-of-run summary: per surface counts, new divergences, expected ones still present, expected
ones gone (XPASS). Writes the same text to --out if given. Exit 0 when the records hold no new divergence,
1 when they do, 2 on bad input.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from conformance.harness import expectations, records
from conformance.views.summary import new_divergences, summarize

DEFAULT_EXPECTATIONS = Path(__file__).resolve().parents[2] / "suites" / "expected_divergences.toml"


def register(sub) -> None:
    p = sub.add_parser("summary", help="merge records files and print the conformance summary")
    p.add_argument("records", nargs="+", type=Path, help="JSON-lines records files or directories")
    p.add_argument("--expectations", type=Path, default=DEFAULT_EXPECTATIONS)
    p.add_argument("--out", type=Path, help="also write the summary text here")
    p.set_defaults(func=main)


def record_paths(given: list[Path]) -> tuple[list[Path], list[str]]:
    """Files named, and the *.jsonl files of directories named; plus what was named but is not there."""
    paths: list[Path] = []
    for p in given:
        paths.extend(sorted(p.rglob("*.jsonl")) if p.is_dir() else [p])
    missing = [str(p) for p in paths if not p.is_file()]
    if not paths:
        missing = missing or [str(p) for p in given]
    return paths, missing


def read_all(paths: list[Path]) -> tuple[list[dict], list[str]]:
    """Records of every file, with a note per damaged file (read up to the damage). Raises RecordsError."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        recs = records.read(paths)
    return recs, [f"note: {w.message}" for w in caught]


def read_or_report(given: list[Path]) -> tuple[list[Path], list[dict], list[str]] | None:
    """(files, records, notes about damaged files) of the files and folders named; None, after one line on stderr,
    when a file is missing or of another schema version."""
    paths, missing = record_paths(given)
    if missing:
        print(f"error: no records file at {', '.join(missing)}", file=sys.stderr)
        return None
    try:
        recs, notes = read_all(paths)
    except records.RecordsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    return paths, recs, notes


def records_or_none(given: list[Path], preread: list[dict] | None = None) -> list[dict] | None:
    """The records of the files and folders named, notes about damaged files on stderr; None (after one line on
    stderr) when a file is missing or of another schema version. `preread`: records already read from `given`
    (`python -m conformance views` reads them once for every view), returned as they are."""
    if preread is not None:
        return preread
    read = read_or_report(given)
    if read is None:
        return None
    for note in read[2]:
        print(note, file=sys.stderr)
    return read[1]


def main(args) -> int:
    paths, missing = record_paths(args.records)
    if missing:
        print(f"error: no records file at {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        expected = expectations.load(args.expectations)
        preread = getattr(args, "preread", None)
        recs, notes = (preread, getattr(args, "preread_notes", [])) if preread is not None else read_all(paths)
    except (expectations.ExpectationsError, records.RecordsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = summarize(recs, expected)
    text = "\n".join([f"records: {', '.join(map(str, paths))}", *notes, text])
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
        print(f"summary written to {args.out}")
    return 1 if new_divergences(recs) else 0
