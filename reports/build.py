"""`python -m reports build RECORDS... [--baseline OLD...] [--out PATH]`: one self-contained HTML page.

Records from any number of files and folders (tox envs, machines, shards) are read file by file (`load`: what
cannot be read is listed on the page), de-duplicated (`merge.dedupe`), and rendered with the Jinja2 template
templates/report.html.j2 (autoescaped: everything a framework wrote is text, never markup). The page carries its
CSS, SVG and its one small script inline, loads nothing, and says so in a Content-Security-Policy that allows
only that script and style (by hash). Written atomically; prints the page's path. Exit 0, or 2 when none of the
records paths named exists (the page is still written, and says so).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import sys
from collections import defaultdict
from pathlib import Path

import jinja2
from markupsafe import Markup

from conformance.harness import characterize
from conformance.harness import expectations as exp_mod
from conformance.views import accounting, errors_view
from conformance.views import matrix as align
from conformance.views.summary import xpassed

from . import atomic, cards, diff, heatmap, load, merge, outcomes, support
from . import channels as channels_mod
from . import history as history_mod
from .outcomes import OUTCOME_WORDS
from .signature import slug

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
DEFAULT_OUT = HERE / "report.html"
DEFAULT_EXPECTATIONS = HERE.parent / "suites" / "expected_divergences.toml"
# the page's one inline script, these files in this order: the copy buttons, then the cards' filters and anchors
SCRIPTS = ("copy.js", "filter.js")


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["http_url"] = lambda s: isinstance(s, str) and s.startswith(("https://", "http://"))
    env.filters["url_parts"] = url_parts
    env.filters["ord_index"] = lambda letter: ord(letter) - ord("A")
    env.filters["slug"] = slug
    return env


URL = re.compile(r"https?://[^\s;,<>\"'\]\[]+")


def url_parts(text: str) -> list[tuple[str, bool]]:
    """`text` cut into (piece, is_url): the http(s) addresses in it become links, nothing else does."""
    parts, at = [], 0
    for m in URL.finditer(text or ""):
        url = m.group(0).rstrip(".)")
        if m.start() > at:
            parts.append((text[at:m.start()], False))
        parts.append((url, True))
        at = m.start() + len(url)
    if at < len(text or ""):
        parts.append((text[at:], False))
    return parts


def page_script() -> str:
    """The text of the page's one script (SCRIPTS joined); its hash is the only script the page's CSP allows."""
    return "\n".join((TEMPLATES / name).read_text() for name in SCRIPTS)


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def _when(t: float | None) -> str:
    return "unknown" if t is None else dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def frameworks(records: list[dict]) -> list[dict]:
    """Per framework and version: devices, dtypes, examples tried, surfaces, profiles, run ids."""
    acc: dict[tuple, dict] = defaultdict(lambda: {"devices": set(), "dtypes": set(), "surfaces": set(),
                                                  "profiles": set(), "runs": set(), "examples": 0})
    for r in records:
        a = acc[(r["framework"], r["version"])]
        a["devices"].add(str(r.get("device")))
        a["dtypes"].add(str(r.get("dtype")))
        a["surfaces"].add(r["surface"])
        a["profiles"].add(str(r.get("profile")))
        a["runs"].add(str(r.get("run_id")))
        a["examples"] += 1
    return [{"framework": fw, "version": v, **{k: sorted(x) if isinstance(x, set) else x for k, x in a.items()}}
            for (fw, v), a in sorted(acc.items())]


def load_expectations(path: Path | None) -> tuple[list[exp_mod.Expectation], str | None]:
    if path is None:
        return [], None
    try:
        return exp_mod.load(path), None
    except exp_mod.ExpectationsError as exc:
        return [], f"expected-divergences file not used: {exc}"


def context(loaded: load.Loaded, expectations: list[exp_mod.Expectation], exp_problem: str | None = None,
            baseline: load.Loaded | None = None, sources: list[str] | None = None,
            baseline_sources: list[str] | None = None, channels_from: list[Path] | None = None,
            history_data: dict | None = None, history_new: list[str] | None = None) -> dict:
    records, duplicates = merge.dedupe(loaded.records)
    problems = list(loaded.problems) + ([exp_problem] if exp_problem else [])
    chans, chan_problems = channels_mod.read(channels_from) if channels_from else ([], [])
    problems += chan_problems
    pairs = channels_mod.pair_diffs(chans)
    try:
        heat = heatmap.build(align.to_json(align.build(records)))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        heat = heatmap.Heatmap(0, [], [], [])
        problems.append(f"the alignment matrix could not be computed from these portable records: {exc!r}")
    card_list = cards.build(records, expectations)
    page_diff = None
    if baseline is not None:
        old_records, _ = merge.dedupe(baseline.records)
        page_diff = diff.compare(old_records, records)
        problems += [f"baseline: {p}" for p in baseline.problems]
        new_sigs = {g.signature for g in page_diff.new}
        changed = {c.new.signature: "; ".join(c.what) for c in page_diff.changed}
        for card in card_list:
            if card.signature in new_sigs:
                card.diff = "new"
            elif card.signature in changed:
                card.diff, card.diff_note = "changed", changed[card.signature]
    hist_notes: dict = {}
    history_grids = history_mod.grids(history_data) if history_data else []
    if history_data is not None:
        for card in card_list:
            hist_notes[card.signature] = history_mod.note(history_data, card.signature)
        if page_diff is not None:
            for g in page_diff.new + page_diff.fixed:
                hist_notes.setdefault(g.signature, history_mod.note(history_data, g.signature))
        dated = {row.timeline.key: row for grid in history_grids for row in grid.rows}
        for card in card_list:
            row = dated.get(history_mod.key(card.signature))
            if row is not None and row.timeline.seen:
                seen = row.timeline.seen
                card.release_history = f"first seen {seen[0]}, last seen {seen[-1]}; " + "; ".join(row.dating)
    times = [r["time"] for r in records if isinstance(r.get("time"), (int, float))]
    table = outcomes.build(records)
    by_status = defaultdict(int)
    for card in card_list:
        by_status[card.status] += 1
    gone = xpassed(records, expectations) if records else []
    entries, merits = _entries(records, expectations)
    css = (TEMPLATES / "style.css").read_text()
    js = page_script()
    return {
        "records": records, "record_count": len(records), "duplicates": duplicates, "files": loaded.files,
        "sources": sources or [f.path for f in loaded.files], "baseline_sources": baseline_sources or [],
        "problems": problems, "frameworks": frameworks(records),
        "runs": sorted({str(r.get("run_id")) for r in records}),
        "profiles": sorted({str(r.get("profile")) for r in records}),
        "first": _when(min(times) if times else None), "last": _when(max(times) if times else None),
        "generated": _when(dt.datetime.now(dt.timezone.utc).timestamp()),
        "matrix": table, "totals": table.totals(), "outcome_words": OUTCOME_WORDS,
        "heat": heat, "cards": card_list, "by_status": dict(by_status), "errors": _errors_table(records),
        "facets": cards.facets(card_list), "status_labels": cards.STATUS_LABELS, "support": support.build(records),
        "crash_cards": sum(1 for c in card_list if c.signature.kind == "crash"),
        "xpassed": gone, "diff": page_diff, "expectations": len(expectations), "entries": entries,
        "merits": merits, "merits_target": accounting.MERITS_TARGET, "wide_precision": accounting.WIDE_PRECISION,
        "wide_min": accounting.WIDE_MIN,
        "channels": chans, "channel_pairs": pairs, "history": history_data, "history_notes": hist_notes,
        "history_new": set(history_new or []),
        "history_changes": history_mod.release_changes(history_data) if history_data else [],
        "history_grids": history_grids,
        "css": Markup(css), "js": Markup(js), "csp": f"default-src 'none'; style-src '{_sha256(css)}'; "
                                                     f"script-src '{_sha256(js)}'; img-src data:",
    }


def _entries(records: list[dict], expectations: list) -> tuple[list[dict], list[dict]]:
    """The entry accounting (conformance.views.accounting) as rows for the page, and the share of each surface's cases
    judged on their merits."""
    rows = []
    for c in accounting.account(records, expectations):
        verdict = ("wide" if c.wide else "gone" if c.gone else "not covered" if not c.covered else
                   "not seen, as its rate allows" if c.unseen_at_rate else
                   "few cases" if c.covered < accounting.WIDE_MIN and (c.precision or 0) < accounting.WIDE_PRECISION
                   else "exact")
        characterized = []
        for rec, ch in c.characterizations[:3]:
            v = characterize.validate(ch.get("predicate", "True"), records, rec.get("surface"),
                                      lambda r, e=c.entry.id: (r.get("entries") or {}).get(e) == "as-stated")
            characterized.append({"surface": rec.get("surface"), "summary": ch.get("summary", ""),
                                  "predicate": ch.get("predicate", ""),
                                  "validation": accounting.validation_text(v)})
        rows.append({"id": c.entry.id, "entry": c.entry, "kind": c.entry.kind,
                     "surfaces": sorted(map(str, c.surfaces)),
                     "covered": c.covered, "as_stated": c.as_stated, "conforming": c.conforming,
                     "otherwise": c.otherwise,
                     "precision": "-" if c.precision is None else f"{c.precision:.2f}", "verdict": verdict,
                     "stated": c.entry.behaviour.text() if c.entry.behaviour else "",
                     "partial": (f"{c.entry.partial.cause}, measured rate {c.entry.partial.rate:.2g} "
                                 f"({c.entry.partial.measured})" if c.entry.partial else ""),
                     "separating": accounting.separating(c.records, c.entry.id) if c.wide else [],
                     "characterized": characterized})
    merits = [{"surface": s, "judged": ok, "cases": n, "share": ok / n if n else 1.0}
              for s, (ok, n) in sorted(accounting.merits(records).items())]
    return rows, merits


def _errors_table(records: list[dict]) -> dict:
    """The error catalogue's outcomes and the robustness property's drawn faults (conformance.views.errors_view), each
    as rows x surface columns for the page."""
    rows = errors_view.build(records)
    columns = sorted({col for row in rows.values() for col in row["surfaces"]})
    drawn = errors_view.build_drawn(records)
    drawn_columns = sorted({col for row in drawn.values() for col in row["surfaces"]})
    return {"rows": rows, "columns": columns, "drawn": drawn, "drawn_columns": drawn_columns}


def render(ctx: dict) -> str:
    return environment().get_template("report.html.j2").render(**ctx)


def build(paths: list[Path], out: Path, baseline: list[Path] | None = None,
          expectations_path: Path | None = DEFAULT_EXPECTATIONS, channels_from: list[Path] | None = None,
          history_data: dict | None = None, history_new: list[str] | None = None) -> Path:
    expectations, exp_problem = load_expectations(expectations_path)
    loaded = load.load(paths)
    base = load.load(baseline) if baseline else None
    ctx = context(loaded, expectations, exp_problem, base, [str(p) for p in paths],
                  [str(p) for p in baseline or []], channels_from, history_data, history_new)
    return atomic.write_text(out, render(ctx))


def register(sub) -> None:
    p = sub.add_parser("build", help="records -> one self-contained HTML report")
    p.add_argument("records", nargs="+", type=Path, help="JSON-lines records files or folders")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"the page to write (default {DEFAULT_OUT})")
    p.add_argument("--baseline", nargs="+", type=Path, help="a previous run's records: show what changed")
    p.add_argument("--expectations", type=Path, default=DEFAULT_EXPECTATIONS,
                   help="the expected-divergences file, for reasons and upstream links")
    p.add_argument("--channels", nargs="+", type=Path,
                   help="folders of release-channel manifests (*.channel.json): versions, not installable ones")
    p.add_argument("--history", type=Path, help="a history file (python -m reports history): first/last seen")
    p.set_defaults(func=main)


def main(args) -> int:
    hist = None
    if args.history is not None:
        hist = history_mod.read_or_report(args.history)
        if hist is None:
            return 2
    out = build(args.records, args.out, args.baseline, args.expectations, args.channels, hist)
    print(f"report written to {out.resolve()}")
    if not any(Path(p).exists() for p in args.records):
        print(f"error: no records file or folder at {', '.join(map(str, args.records))} (the page says so)",
              file=sys.stderr)
        return 2
    return 0
