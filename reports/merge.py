"""`python -m reports merge OUT IN...`: merge shard records files into one, de-duplicated.

Shards are the records of one run split over pytest-xdist workers, tox envs or machines. A case (see
`signature.case_key`: framework version, surface, property, device, dtype, config, parameters, seed ...) that
several shards judged is kept once, with its worst outcome (`signature.severity`: a new divergence over an
expected one over a pass). Records of different framework versions have different keys, so they stay apart.
The output is a records file like any other (one JSON object per line), written atomically; what an input
could not give (damage, another schema, missing file) is printed as a note. Exit 0; 1 when an input could not
be read in full (the output holds the rest); 2 when nothing could be read.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

from . import atomic, load
from .signature import case_key, severity


def dedupe(records: list[dict]) -> tuple[list[dict], int]:
    """The worst record of each case, in the order the cases first appear; and how many records were dropped."""
    best: dict[tuple, dict] = {}
    for r in records:
        key = case_key(r)
        if key not in best or severity(r) > severity(best[key]):
            best[key] = r
    return list(best.values()), len(records) - len(best)


def versions(records: list[dict]) -> dict[str, list[str]]:
    """framework -> the versions its records carry."""
    out: dict[str, set] = defaultdict(set)
    for r in records:
        out[r["framework"]].add(r["version"])
    return {fw: sorted(v) for fw, v in sorted(out.items())}


def to_jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r, sort_keys=True, default=str) + "\n" for r in records)


def register(sub) -> None:
    p = sub.add_parser("merge", help="merge shard records files, de-duplicated, the worst outcome per case kept")
    p.add_argument("out", type=Path, help="the merged records file to write")
    p.add_argument("inputs", nargs="+", type=Path, help="records files or folders")
    p.set_defaults(func=main)


def main(args) -> int:
    loaded = load.load(args.inputs)
    merged, dropped = dedupe(loaded.records)
    for problem in loaded.problems:
        print(f"note: {problem}", file=sys.stderr)
    if loaded.damaged and not loaded.records:
        print("error: no records could be read; nothing written", file=sys.stderr)
        return 2
    atomic.write_text(args.out, to_jsonl(merged))
    kept_apart = {fw: v for fw, v in versions(merged).items() if len(v) > 1}
    print(f"merged {len(loaded.records)} records from {len(loaded.files)} files into {len(merged)} "
          f"({dropped} duplicates dropped, the worst outcome kept): {args.out}")
    for fw, vs in kept_apart.items():
        print(f"  {fw}: versions kept apart: {', '.join(vs)}")
    return 1 if loaded.damaged else 0
