"""`python -m nightly report`: the last step of a channel matrix, the same in the workflow and on a laptop.

  1. merge the records of every channel (reports.merge: one record per case, versions kept apart) -> merged.jsonl
  2. diff against the previous run's merged records (--baseline; by default OUT/previous.jsonl, which this step
     rotates from the last merged.jsonl it wrote) -> diff.txt
  3. compare adjacent channels of each framework (previous -> current -> pre) on their own records -> channels.txt
  4. fold the run into the history (reports.history) -> new-signatures.json (signatures new to the history)
  5. build the HTML report with the channels, the diff and the history -> index.html (history.json copied beside)

Exit 0; with --strict, 1 when the records hold a new divergence no expected-divergence entry covers; 2 on bad
input (no records and no manifests at all, an unreadable history).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

from reports import atomic, channels, diff, history, load, merge

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RECORDS = ROOT / "reports" / "records" / "channels"
DEFAULT_OUT = ROOT / "reports" / "nightly"


def register(sub) -> None:
    p = sub.add_parser("report", help="merge, diff, history and HTML report of a channel matrix")
    p.add_argument("--records", type=Path, default=DEFAULT_RECORDS, help="the channels' records and manifests")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the outputs go")
    p.add_argument("--baseline", type=Path, help="the previous run's records (default OUT/previous.jsonl)")
    p.add_argument("--history", type=Path, default=history.DEFAULT, help="the history file to update")
    p.add_argument("--run", default=os.environ.get("CHANNELS_RUN"), help="this run's label (default: the time)")
    p.add_argument("--strict", action="store_true", help="exit 1 on a new divergence no entry covers")
    p.set_defaults(func=main)


def main(args) -> int:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    run = args.run or time.strftime("local-%Y%m%dT%H%M%S")
    chans, problems = channels.read([args.records])
    loaded = load.load([args.records]) if args.records.exists() else load.Loaded([], [])
    if not loaded.records and not chans:
        print(f"error: no records and no channel manifests under {args.records}", file=sys.stderr)
        return 2
    hist = history.read_or_report(args.history)
    if hist is None:
        return 2
    merged_path, previous_path = out / "merged.jsonl", out / "previous.jsonl"
    baseline = args.baseline
    if baseline is None:
        if merged_path.exists():
            shutil.copyfile(merged_path, previous_path)
        baseline = previous_path if previous_path.exists() else None
    merged, dropped = merge.dedupe(loaded.records)
    atomic.write_text(merged_path, merge.to_jsonl(merged))
    print(f"merged {len(loaded.records)} records of {len(loaded.files)} files into {len(merged)} "
          f"({dropped} duplicates dropped): {merged_path}")
    for p in loaded.problems + problems:
        print(f"note: {p}", file=sys.stderr)

    if baseline is not None and baseline.exists():
        old = load.load([baseline])
        d = diff.compare(merge.dedupe(old.records)[0], merged)
        text = diff.render_text(d, str(baseline), "this run")
        text += "".join(f"\n  history: {g.signature.text}: {history.note(hist, g.signature)}" for g in d.new)
    else:
        text = "no baseline: the first run (or --baseline names nothing)"
    atomic.write_text(out / "diff.txt", text + "\n")
    print(text)

    pairs = channels.pair_diffs(chans)
    ctext = channels.render_text(chans, pairs)
    atomic.write_text(out / "channels.txt", ctext + "\n")
    print(ctext)

    new = history.update(hist, merged, run) if merged else []
    history.write(args.history, hist)
    new_json = history.new_signatures_json(hist, new)
    atomic.write_text(out / "new-signatures.json", json.dumps(new_json, indent=1) + "\n")
    shutil.copyfile(args.history, out / "history.json")
    print(f"history {args.history}: {len(new)} signatures new to the history"
          + "".join(f"\n  NEW {k}" for k in new))

    from reports import build  # jinja2: only the report step needs it
    page = build.build([args.records], out / "index.html", [baseline] if baseline and baseline.exists() else None,
                       channels_from=[args.records], history_data=hist, history_new=new)
    print(f"report written to {page.resolve()}")
    uncovered = [r for r in merged if r.get("status") == "divergence"]
    return 1 if args.strict and uncovered else 0
