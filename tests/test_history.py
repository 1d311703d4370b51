"""The history of past runs (reports/history.py): framework releases -> divergence signatures -> first and last
seen; which release a signature appeared or disappeared in; the CLI verb; and the report and the nightly's
report step reading it. Synthetic records (tests/report_records.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from reports import history
from reports.signature import signature
from tests.plugin_runs import ROOT
from tests.report_records import crop_shift, expected_refusal_returned, record, write_jsonl


def cli(*args, module="reports"):
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def run_of(version: str, shifted: bool, refusal: bool = True) -> list[dict]:
    """One run of fw `version`: passes, a crop divergence when `shifted`, the expected refusal divergence."""
    recs = [record(version=version, seed=s) for s in range(3)]
    if shifted:
        recs.append(crop_shift(version=version, seed=7))
    if refusal:
        recs.append(expected_refusal_returned(version=version, seed=8))
    return recs


SHIFT = signature(crop_shift()).text
REFUSAL = signature(expected_refusal_returned()).text


def test_first_and_last_seen_per_signature_and_release():
    h = history.empty()
    assert history.update(h, run_of("1.0", True), "n1", when=1.0) == sorted([SHIFT, REFUSAL])
    assert history.update(h, run_of("1.0", True), "n2", when=2.0) == [], "a signature is new to the history once"
    s = h["signatures"][SHIFT]
    assert (s["first_run"], s["last_run"], s["framework"], s["covered"]) == ("n1", "n2", "fw", False)
    assert s["versions"]["1.0"] == {"first_run": "n1", "first_time": 1.0, "last_run": "n2", "last_time": 2.0,
                                    "cases": 1, "status": "divergence"}
    assert h["versions"]["fw 1.0"]["checked"] == {"fw:fw.conv_transpose": ["refusals", "shapes"]}
    assert [r["run"] for r in h["runs"]] == ["n1", "n2"] and h["runs"][0]["versions"] == {"fw": ["1.0"]}


def test_which_release_a_signature_appeared_and_disappeared_in():
    h = history.empty()
    history.update(h, run_of("2.0", False), "n1")          # versions arrive in any order
    history.update(h, run_of("1.0", True), "n2")
    history.update(h, run_of("10.0", True), "n3")          # 10.0 after 2.0: version order, not text order
    history.update(h, [record(version="11.0", property="values")], "n4")   # ran, but not where it was seen
    t = history.timeline(h, SHIFT)
    assert t.steps == [("1.0", True), ("2.0", False), ("10.0", True)]
    assert t.unchecked == ["11.0"]
    assert t.events == ["present in the oldest fw release checked, 1.0", "disappeared in fw 2.0",
                        "appeared in fw 10.0"]
    assert history.timeline(h, REFUSAL).events == ["present in every fw release checked (1.0 .. 10.0)"]
    assert history.release_changes(h) == [("fw 2.0", [], [SHIFT]), ("fw 10.0", [SHIFT], [])]
    assert history.note(h, signature(crop_shift())).startswith("present in the oldest fw release checked, 1.0; "
                                                               "disappeared in fw 2.0; appeared in fw 10.0")
    assert history.note(history.empty(), signature(crop_shift())) == "not in the history: never seen before"


def test_pre_releases_and_local_labels_order_as_releases():
    keys = sorted(["2.13.0+cpu", "2.14.0rc1", "2.14.0", "2.14.0.dev20261101", "2.9.1"], key=history.version_key)
    assert keys == ["2.9.1", "2.13.0+cpu", "2.14.0.dev20261101", "2.14.0rc1", "2.14.0"]


def test_cli_update_and_show(tmp_path):
    hist = tmp_path / "h" / "history.json"
    old = write_jsonl(tmp_path / "old.jsonl", run_of("1.0", True))
    new = write_jsonl(tmp_path / "new.jsonl", run_of("2.0", False))
    out = tmp_path / "new-sigs.json"
    proc = cli("history", "update", hist, old, "--run", "night-1", "--new-out", out)
    assert proc.returncode == 0, proc.stderr
    assert "2 signatures new to the history" in proc.stdout and f"NEW {SHIFT}" in proc.stdout
    sigs = json.loads(out.read_text())
    assert {s["key"] for s in sigs} == {SHIFT, REFUSAL}
    assert all(len(s["id"]) == 12 for s in sigs) and {s["covered"] for s in sigs} == {True, False}
    assert cli("history", "update", hist, new, "--run", "night-2").returncode == 0
    proc = cli("history", "show", hist)
    assert proc.returncode == 0, proc.stderr
    assert "2 runs (night-1 .. night-2)" in proc.stdout
    assert f"fw 2.0: 0 appeared, 1 disappeared\n  - {SHIFT}" in proc.stdout
    assert "disappeared in fw 2.0" in proc.stdout and "first seen run night-1, last seen run night-1" in proc.stdout
    proc = cli("history", "show", hist, "--grep", "crop", "--json")
    shown = json.loads(proc.stdout)
    assert [s["key"] for s in shown] == [SHIFT] and shown[0]["steps"] == [["1.0", True], ["2.0", False]]


def test_cli_bad_input(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "something else"}')
    recs = write_jsonl(tmp_path / "r.jsonl", run_of("1.0", True))
    for args in (("update", bad, recs), ("show", bad), ("show", tmp_path / "absent.json"),
                 ("update", tmp_path / "h.json", tmp_path / "no-records")):
        proc = cli("history", *args)
        assert proc.returncode == 2 and "error:" in proc.stderr, (args, proc.stderr)
    assert not (tmp_path / "h.json").exists()


def test_report_shows_history_notes_and_release_changes(tmp_path):
    pytest.importorskip("jinja2")
    from reports import build

    h = history.empty()
    history.update(h, run_of("1.0", True), "n1")
    history.update(h, run_of("2.0", False), "n2")
    recs = write_jsonl(tmp_path / "r.jsonl", run_of("2.0", False))
    page = build.build([recs], tmp_path / "p.html", expectations_path=None, history_data=h,
                       history_new=[]).read_text()
    assert 'id="history"' in page and "2 runs in the history, n1 .. n2" in page
    assert "<td class=\"mono\">fw 2.0</td>" in page and SHIFT.replace(":", ":") in page
    assert "present in every fw release checked (1.0 .. 2.0)" in page      # the refusal card's history line


def _channel_dir(tmp_path):
    from reports import channels

    d = tmp_path / "channels"
    for channel, version, shifted in (("previous", "1.0", True), ("current", "2.0", False)):
        env = f"fw-{channel}"
        write_jsonl(d / f"{env}.cpu.jsonl", run_of(version, shifted))
        channels.write(d / f"{env}.cpu.channel.json", {
            "env": env, "group": "fw", "channel": channel, "device": "cpu", "framework": "fw", "status": "installed",
            "installed": {"fw": version}, "version": version, "records": f"{env}.cpu.jsonl", "records_count": 5,
            "pytest_exit": 1 if shifted else 0, "requirements": [f"fw=={version}"]})
    channels.write(d / "fw-pre.cpu.channel.json", {
        "env": "fw-pre", "group": "fw", "channel": "pre", "device": "cpu", "framework": "fw",
        "status": "not installable", "reason": "pip install fw==3.0rc1 failed (exit 1)",
        "pip_tail": ["ERROR: No matching distribution found for fw-core==3.0rc1"]})
    return d


def test_nightly_report_merges_diffs_channels_and_updates_the_history(tmp_path):
    pytest.importorskip("jinja2")
    d = _channel_dir(tmp_path)
    out, hist = tmp_path / "site", tmp_path / "hist" / "history.json"
    proc = cli("report", "--records", d, "--out", out, "--history", hist, "--run", "night-1", module="nightly")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    channels_txt = (out / "channels.txt").read_text()
    assert "fw-pre [cpu]: not installable: pip install fw==3.0rc1 failed (exit 1)" in channels_txt
    assert "fw on cpu: previous (1.0) -> current (2.0):" in channels_txt
    assert f"FIXED        {SHIFT} [1.0]" in channels_txt, "what the release changed"
    assert (out / "diff.txt").read_text().startswith("no baseline")
    assert {s["key"] for s in json.loads((out / "new-signatures.json").read_text())} == {SHIFT, REFUSAL}
    assert json.loads((out / "history.json").read_text())["runs"][0]["run"] == "night-1"
    page = (out / "index.html").read_text()
    assert "fw on cpu: previous (1.0) -&gt; current (2.0)" in page and "gone in current" in page
    assert "No matching distribution found for fw-core==3.0rc1" in page
    assert "new to the history" in page

    # the next night: the last merged records are the baseline, the history knows both signatures
    proc = cli("report", "--records", d, "--out", out, "--history", hist, "--run", "night-2", "--strict",
               module="nightly")
    assert proc.returncode == 1, "--strict: the records hold a new divergence no entry covers"
    assert (out / "previous.jsonl").exists()
    assert "0 new, 0 fixed, 0 changed, 2 still there" in (out / "diff.txt").read_text()
    assert json.loads((out / "new-signatures.json").read_text()) == []
    assert cli("report", "--records", tmp_path / "nothing", "--out", out, module="nightly").returncode == 2


def test_channel_pairs_compare_the_same_cases_across_versions():
    from reports import channels

    old = run_of("1.0", True) + [record(version="1.0", seed=20)]
    new = run_of("2.0", False) + [record(version="2.0", seed=20, verdict="refused",
                                         actual={"error": "ValueError: no"}),
                                  record(version="2.0", seed=21)]
    both, changed = channels.compare_cases(old, new)
    assert both == 5, "seeds 0, 1, 2, 8 and 20 in both; 7 only in the old run, 21 only in the new"
    assert [(a, b) for _, a, b in changed] == [("pass/pass: shape (1, 1, 8)", "refused/pass: raised ValueError")]
    assert changed[0][0].startswith("fw:fw.conv_transpose (shapes): ")


def test_diff_cli_says_where_a_new_signature_was_seen_before(tmp_path):
    h = history.empty()
    history.update(h, run_of("1.0", True), "n1")
    history.update(h, run_of("2.0", False), "n2")
    hist = history.write(tmp_path / "h.json", h)
    old = write_jsonl(tmp_path / "old.jsonl", run_of("2.0", False))
    new = write_jsonl(tmp_path / "new.jsonl", run_of("3.0", True))
    proc = cli("diff", old, new, "--history", hist)
    assert proc.returncode == 1, proc.stderr                    # the crop shift is a new divergence again
    assert (f"  history: {SHIFT}: present in the oldest fw release checked, 1.0; disappeared in fw 2.0; "
            "first seen run n1") in proc.stdout
