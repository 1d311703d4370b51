"""The HTML report from synthetic records whose outcomes are known: a self-contained page, the conformance matrix
counts, one card per distinct divergence with its minimal case and window diagram, the alignment heat map."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest

from reports import atomic, build, cards, heatmap, outcomes, windows
from reports.signature import Signature, signature
from tests.plugin_runs import ROOT
from tests.report_records import (
    Scan,
    crash,
    crop_shift,
    expected_refusal_returned,
    portable,
    record,
    refused,
    write_expectations,
    write_jsonl,
)


def run_records() -> list[dict]:
    return [
        record(), record(seed=1), refused(seed=7),
        crop_shift(seed=2, config={"in_size": [6], "kernel": [3], "stride": [2], "dilation": [1], "batch": 2,
                                   "c_in": 1, "c_out": 1, "groups": 1, "bias": False}),
        crop_shift(seed=3, final=True),                                 # the shrunk one: the card's minimal case
        crop_shift(seed=4, property="values"),
        expected_refusal_returned(), expected_refusal_returned(seed=5),
        crash(),
        portable("valid", 3, 2, 1, 4, 0, 9), portable("valid", 3, 2, 1, 5, 0, 11),
        portable("valid", 3, 2, 2, 4, 0, 11), portable("valid", 3, 2, 2, 5, 1, 12),   # 13 intended: length -1
    ]


@pytest.fixture
def page(tmp_path):
    recs = write_jsonl(tmp_path / "records" / "fw.jsonl", run_records())
    exp = write_expectations(tmp_path / "expected.toml")
    out = build.build([recs.parent], tmp_path / "out" / "report.html", expectations_path=exp)
    return out.read_text()


def test_synthetic_records_follow_the_schema():
    schema = json.loads((ROOT / "reports" / "records.schema.json").read_text())
    for r in run_records():
        jsonschema.validate(r, schema)


def test_the_page_loads_nothing_and_allows_only_its_own_script_and_style(page):
    scan = Scan(page)
    tags = {t for t, _ in scan.tags}
    assert not tags & {"link", "img", "iframe", "object", "embed", "base", "form", "audio", "video", "source"}
    assert all("src" not in a for _, a in scan.tags)
    hrefs = [a["href"] for t, a in scan.tags if "href" in a]
    # a link is to a place on this page, this page with its cards' filter state (?surface=...&property=...#...), or
    # a web page the records cite
    same_page = [h for h in hrefs if h.startswith("?")]
    assert same_page and all(set(parse_qs(urlsplit(h).query)) <= {"q", *cards.FILTER_KEYS} for h in same_page)
    assert hrefs and all(h.startswith(("#", "?", "https://", "http://")) for h in hrefs)
    assert len(scan.scripts) == 1 and len(scan.styles) == 1
    assert "url(" not in scan.styles[0] and "@import" not in scan.styles[0]
    csp = next(a["content"] for t, a in scan.tags if a.get("http-equiv") == "Content-Security-Policy")
    sha = lambda text: base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()  # noqa: E731
    assert f"script-src 'sha256-{sha(scan.scripts[0])}'" in csp
    assert f"style-src 'sha256-{sha(scan.styles[0])}'" in csp
    assert "default-src 'none'" in csp


def test_header_names_run_profile_framework_version_devices_and_examples(page):
    assert "run-a" in page and "profile dev" in page
    row = page.split("<th>run</th></tr>")[1].split("</tr>")[0]
    assert "<td>fw</td>" in row and "1.0" in row and "cpu" in row and f"<td>{len(run_records())}</td>" in row


def test_conformance_matrix_counts_each_outcome():
    table = outcomes.build(run_records())
    (row,) = table.rows
    assert table.properties == ["shapes", "values", "refusals", "portable"]
    assert dict(row.cells["shapes"].counts) == {"pass": 2, "new": 2}
    assert dict(row.cells["values"].counts) == {"new": 1, "crash": 1}
    assert dict(row.cells["refusals"].counts) == {"refused": 1, "expected": 2}
    assert dict(row.cells["portable"].counts) == {"pass": 4}
    assert [row.cells[p].state for p in table.properties] == ["new", "new", "expected", "pass"]


def test_a_property_without_records_is_skipped():
    table = outcomes.build([record(), record(surface="fw:other", property="values")])
    by_label = {r.label: r for r in table.rows}
    assert by_label["fw:other"].cells["shapes"].state == "skipped"
    assert by_label["fw:fw.conv_transpose"].cells["values"].state == "skipped"


def test_one_card_per_distinct_divergence_with_the_smallest_final_record():
    got = cards.build(run_records())
    sigs = [c.signature for c in got]
    assert len(sigs) == len(set(sigs)) == 3
    crop = next(c for c in got if c.signature.kind == "crop")
    assert crop.status == "divergence" and crop.records == 3
    assert crop.properties == [("shapes", 2), ("values", 1)]
    assert crop.minimal["seed"] == 3 and crop.minimal["final"]
    assert got[0] is crop, "new divergences come first"
    assert crop.crop_shifts == ["(+1) x3"]


def test_covered_divergences_carry_the_entry_and_its_upstream_link(page):
    assert "fw-accepts-large-output-padding" in page
    assert '<a href="https://example.invalid/fw/issues/1"' in page
    assert "fw accepts output_padding &gt;= stride" in page


def test_crop_diagram_draws_both_windows_on_the_full_result():
    (d,) = windows.diagrams(crop_shift(shift=2))
    assert d.full == 9                                            # (4-1)*2 + 3
    bars = {b.cls: (b.start, b.end) for b in d.bars}
    assert bars == {"full": (0, 9), "doc": (1, 9), "found": (3, 11)}
    doc, found = (next(b for b in d.bars if b.cls == c) for c in ("doc", "found"))
    assert found.x > doc.x and found.w == pytest.approx(doc.w)   # the same length, drawn shifted
    assert [label for _, label in d.ticks] == ["0", "9", "11"]


def test_shape_diagram_draws_the_lengths():
    r = record(verdict="divergence", kind="shape", status="divergence", actual={"shape": [1, 1, 5, 7],
               "found_crop": None}, config={"in_size": [3, 3], "kernel": [2, 2], "stride": [2, 2],
                                            "dilation": [1, 1], "batch": 1, "c_in": 1, "c_out": 1, "groups": 1,
                                            "bias": False}, expected={"crop": [0, 0], "length": [6, 6], "rule": "r",
                                                                      "doc": "d"})
    dims = windows.diagrams(r)
    assert [(b.cls, b.start, b.end) for b in dims[1].bars] == [("full", 0, 6), ("doc", 0, 6), ("unplaced", 0, 7)]
    assert [(b.cls, b.end - b.start) for b in dims[0].bars][-1] == ("unplaced", 5)


def test_a_raised_call_has_no_output_bar():
    r = record(verdict="divergence", kind="error-vs-result", status="divergence",
               actual={"error": "RuntimeError: no"})
    (d,) = windows.diagrams(r)
    assert [b.cls for b in d.bars] == ["full", "doc"] and "raised" in d.note
    assert signature(r) == Signature("fw:fw.conv_transpose", "error-vs-result",
                                     "the docs accept it; the framework raised RuntimeError")


def test_heatmap_cell_shows_the_dominant_relation_and_every_point_in_its_tooltip():
    from conformance.views import matrix as align
    heat = heatmap.build(align.to_json(align.build(run_records())))
    (row,) = heat.rows
    panel = row.panels["fw:fw.conv_transpose"]
    (cell,) = [c for c in panel.cells if (c.k, c.s) == (3, 2)]
    # three points give the full result, one is an output short: agrees is the most common
    assert cell.cls == "agrees" and cell.text == "=" and cell.mixed
    assert "k=3 s=2: agrees 3, length -1 1" in cell.title
    assert "d=2 i=5: length -1: c=1x1 L=12x12 (intended c=0x0 L=13x13)" in cell.title
    assert panel.counts == "agrees 3, length -1 1"


def test_heatmap_ties_go_to_the_worse_relation():
    from collections import Counter
    assert heatmap.dominant(Counter({"agrees": 2, "shifted +1": 2})) == "shifted +1"
    assert heatmap.dominant(Counter({"refuses": 1, "shifted -1": 1, "agrees": 1})) == "refuses"


def test_page_renders_matrix_heatmap_and_cards(page):
    scan = Scan(page)
    assert scan.with_class("table", "matrix") and scan.with_class("table", "heat")
    assert len(scan.with_class("article", "card")) == 3
    assert len(scan.with_class("pre", "reproducer")) == 3
    assert len(scan.with_class("svg", "windows")) >= 3
    assert "<title>" in page and "k=3 s=2: agrees 3" in page


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path, monkeypatch):
    target = tmp_path / "report.html"
    atomic.write_text(target, "old")

    def fail(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        atomic.write_text(target, "new")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_cli_build_writes_the_page_and_prints_its_path(tmp_path):
    recs = write_jsonl(tmp_path / "r.jsonl", run_records())
    out = tmp_path / "page.html"
    proc = subprocess.run([sys.executable, "-m", "reports", "build", str(recs), "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"report written to {out.resolve()}"
    assert Path(out).read_text().startswith("<!DOCTYPE html>")


def _error_record(surface: str, actual: dict, verdict: str, **over) -> dict:
    return record(**{"property": "errors", "surface": surface, "verdict": verdict, "actual": actual, "final": True,
                     "intent": "stride-zero", "kind": None, "status": "pass",
                     "fault": {"case": "stride-zero", "fault": "stride", "value": [0], "expect": "refusal"}, **over})


def test_the_error_catalogue_section_shows_each_surface_side_by_side(tmp_path):
    recs = [_error_record("fw:a", {"error": "ValueError: <b>stride</b> must be positive"}, "refused"),
            _error_record("fw:b", {"shape": [1, 1, 3], "found_crop": None}, "divergence", status="divergence",
                          kind="error-vs-result")]
    path = write_jsonl(tmp_path / "records" / "fw.jsonl", recs)
    page = build.build([path.parent], tmp_path / "report.html",
                       expectations_path=write_expectations(tmp_path / "e.toml")).read_text()
    section = page.split('<section id="errors">')[1].split("</section>")[0]
    assert "stride-zero" in section and "frameworks disagree" in section
    assert "refused: ValueError" in section and "returned 1x1x3" in section and "DIVERGES" in section
    assert "<b>stride</b>" not in section and "&lt;b&gt;stride&lt;/b&gt;" in section   # the message is escaped


def test_the_entry_status_shows_on_its_cards_and_in_the_entries_table(tmp_path):
    from tests.test_report_upstream import TOML
    exp = tmp_path / "e.toml"
    exp.write_text(TOML)
    page = build.build([write_jsonl(tmp_path / "r.jsonl", run_records())], tmp_path / "p.html",
                       expectations_path=exp).read_text()
    issue = "https://example.invalid/fw/issues/7"
    status = (f'<span class="entry-status">detected 2026-11-25;\nreported upstream: <a href="{issue}" '
              f'rel="noopener noreferrer">{issue}</a>; fixed in <span class="mono">fw 2.0</span></span>')
    card = page.split('data-entry="fw-accepts-large-output-padding"')[1].split("</article>")[0]
    assert f"<dt>status</dt><dd>{status}</dd>" in card
    assert '<dt>upstream</dt><dd><a href="https://example.invalid/fw/issues/7"' in card
    assert 'see also <a href="https://example.invalid/fw/issues/1"' in card
    entries = page.split('<section id="entries">')[1].split("</section>")[0]
    row = entries.split('<tr id="entry-fw-accepts-large-output-padding">')[1].split("</tr>")[0]
    assert f"<td>{status}</td>" in row
    abort = entries.split('<tr id="entry-fw-abort">')[1].split("</tr>")[0]
    assert "detection date unknown;\nnot reported upstream</span>" in abort
