"""Bad input: empty records, an older schema, a truncated file, a missing path, lines that are not records.
The page still builds, uses what it can, and says what it could not read."""

from __future__ import annotations

import json
import subprocess
import sys

from reports import build, load
from tests.plugin_runs import ROOT
from tests.report_records import Scan, crop_shift, record, write_jsonl


def bad_folder(tmp_path):
    d = tmp_path / "records"
    write_jsonl(d / "good.jsonl", [record(), crop_shift(seed=1)])
    (d / "empty.jsonl").write_text("")
    write_jsonl(d / "old.jsonl", [record(schema=0), record(schema=0, seed=1)])
    good = json.dumps(record(seed=2)) + "\n"
    (d / "truncated.jsonl").write_text(good + json.dumps(record(seed=3))[:57])
    (d / "list.jsonl").write_text(good.replace('"seed": 2', '"seed": 4') + "[1, 2]\n")
    (d / "partial.jsonl").write_text(json.dumps({"schema": 1, "surface": "fw:x"}) + "\n")
    return d


def test_each_problem_is_a_note_and_the_rest_is_read(tmp_path):
    loaded = load.load([bad_folder(tmp_path), tmp_path / "nowhere.jsonl", tmp_path / "nothing"])
    notes = {p.split(": ", 1)[0].rsplit("/", 1)[-1]: p for p in loaded.problems}
    assert sorted(r["seed"] for r in loaded.records) == [0, 1, 2, 4]
    assert "empty" in notes["empty.jsonl"]
    assert "refused" in notes["old.jsonl"] and "schema 0" in notes["old.jsonl"]
    assert "truncated.jsonl:2: damaged record; read the 1 lines before it" in notes["truncated.jsonl:2"]
    assert "not a record object" in notes["list.jsonl"]
    assert "lack fields" in notes["partial.jsonl"]
    assert "no such file" in notes["nowhere.jsonl"]
    assert loaded.damaged


def test_the_page_builds_and_lists_what_it_could_not_read(tmp_path):
    (tmp_path / "nothing").mkdir()
    page = build.build([bad_folder(tmp_path), tmp_path / "nothing"], tmp_path / "report.html",
                       expectations_path=None).read_text()
    problems = page.split('id="problems"')[1].split("</section>")[0]
    for name in ("empty.jsonl", "old.jsonl", "truncated.jsonl", "list.jsonl", "partial.jsonl", "nothing"):
        assert name in problems
    assert "records schema 0" in problems
    assert len(Scan(page).with_class("article", "card")) == 1
    assert "4 cases judged" in page


def test_no_records_at_all_still_gives_a_page(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    page = build.build([empty], tmp_path / "report.html", expectations_path=None).read_text()
    assert "no conformance records could be read" in page and "No records." in page
    assert "No portable-configuration records" in page


def test_a_malformed_expectations_file_is_a_note(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[divergence]]\nid = 'x'\n")
    page = build.build([write_jsonl(tmp_path / "r.jsonl", [record()])], tmp_path / "p.html",
                       expectations_path=bad).read_text()
    assert "expected-divergences file not used" in page and "missing field" in page


def test_cli_build_of_a_missing_path_writes_the_page_and_exits_2(tmp_path):
    out = tmp_path / "p.html"
    proc = subprocess.run([sys.executable, "-m", "reports", "build", str(tmp_path / "none"), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "no records file or folder" in proc.stderr
    assert "no such file or folder" in out.read_text()
