"""Merging shard records (one record per case, the worst outcome kept, framework versions kept apart) and the
diff of two runs' divergences (new, fixed, changed, not checked), as functions and as CLI verbs."""

from __future__ import annotations

import subprocess
import sys

from conformance.harness import records as rec_io
from reports import build, diff, merge, outcomes
from tests.plugin_runs import ROOT
from tests.report_records import crash, crop_shift, expected_refusal_returned, record, refused, write_jsonl


def cli(*args):
    return subprocess.run([sys.executable, "-m", "reports", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_dedupe_keeps_the_worst_outcome_of_each_case():
    a = [record(seed=0), record(seed=1), crop_shift(seed=2, status="expected", expected_divergence="e")]
    b = [crop_shift(seed=0), record(seed=1), crop_shift(seed=2)]          # seed 0 diverged on this shard
    merged, dropped = merge.dedupe(a + b)
    assert dropped == 3
    by_seed = {r["seed"]: r for r in merged}
    assert by_seed[0]["status"] == "divergence" and by_seed[1]["status"] == "pass"
    assert by_seed[2]["status"] == "divergence", "a new divergence is worse than an expected one"
    assert [r["seed"] for r in merged] == [0, 1, 2]


def test_versions_are_kept_apart(tmp_path):
    old = write_jsonl(tmp_path / "a.jsonl", [record(version="1.0"), crop_shift(seed=1, version="1.0")])
    new = write_jsonl(tmp_path / "b.jsonl", [record(version="2.0"), crop_shift(seed=1, version="2.0")])
    out = tmp_path / "merged.jsonl"
    proc = cli("merge", out, old, new)
    assert proc.returncode == 0, proc.stderr
    assert "versions kept apart: 1.0, 2.0" in proc.stdout
    merged = rec_io.read(out)
    assert len(merged) == 4 and sorted({r["version"] for r in merged}) == ["1.0", "2.0"]
    rows = outcomes.build(merged).rows
    assert [r.label for r in rows] == ["fw:fw.conv_transpose [1.0]", "fw:fw.conv_transpose [2.0]"]
    page = build.build([out], tmp_path / "p.html", expectations_path=None).read_text()
    assert page.count('class="card ') == 2


def test_merge_of_shards_with_damage_writes_what_it_read_and_exits_1(tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [record(), crash(seed=3)])
    b = tmp_path / "b.jsonl"
    b.write_text(a.read_text() + '{"schema": 1, "surf')
    out = tmp_path / "m.jsonl"
    proc = cli("merge", out, a, b)
    assert proc.returncode == 1 and "damaged record" in proc.stderr
    assert "merged 4 records from 2 files into 2 (2 duplicates dropped" in proc.stdout
    assert len(rec_io.read(out)) == 2


def test_merge_with_nothing_readable_exits_2_and_writes_nothing(tmp_path):
    old = write_jsonl(tmp_path / "old.jsonl", [record(schema=0)])
    proc = cli("merge", tmp_path / "m.jsonl", old)
    assert proc.returncode == 2 and not (tmp_path / "m.jsonl").exists()


def test_diff_new_fixed_changed_and_not_checked():
    old = [record(), crop_shift(seed=1),                                     # crop: fixed in new
           expected_refusal_returned(seed=2),                                # expected: still there
           record(verdict="divergence", kind="error-vs-result", status="expected", expected_divergence="x",
                  actual={"error": "ValueError: a"}, seed=3),                 # -> raises another class
           crop_shift(seed=4, surface="fw:gone")]                            # surface not run in new
    new = [record(), record(seed=1), expected_refusal_returned(seed=2, version="2.0"),
           record(verdict="divergence", kind="error-vs-result", status="expected", expected_divergence="x",
                  actual={"error": "RuntimeError: b"}, seed=3),
           record(verdict="divergence", kind="shape", status="divergence", seed=5,
                  actual={"shape": [1, 1, 9], "found_crop": None})]
    d = diff.compare(old, new)
    assert [g.signature.kind for g in d.new] == ["shape"]
    assert [g.signature.cls for g in d.fixed] == ["the right length, the values shifted in the output"]
    assert [c.new.signature.cls for c in d.changed] == ["x"]
    assert "raised ValueError" in d.changed[0].what[0] and "raised RuntimeError" in d.changed[0].what[0]
    assert [g.signature.surface for g in d.not_checked] == ["fw:gone"]
    assert [g.signature.cls for g in d.still] == ["fw-accepts-large-output-padding"]
    assert d.versions == ["fw 1.0 -> 1.0, 2.0"]
    assert d.failing
    text = diff.render_text(d)
    assert text.splitlines()[0] == "divergences OLD -> NEW: 1 new, 1 fixed, 1 changed, 1 still there, 1 not checked"
    assert "\n  NEW          shape on fw:fw.conv_transpose: a longer output than documented" in text


def test_more_classes_under_one_entry_is_a_bigger_sample_not_a_change():
    def x(seed, error):
        return record(verdict="divergence", kind="error-vs-result", status="expected", expected_divergence="x",
                      actual={"error": error}, seed=seed)
    d = diff.compare([x(1, "ValueError: a")], [x(1, "ValueError: a"), x(2, "TypeError: b")])
    assert not d.changed and len(d.still) == 1
    assert len(diff.compare([x(1, "ValueError: a"), x(2, "TypeError: b")], [x(3, "KeyError: c")]).changed) == 1


def test_diff_of_a_status_change_expected_to_new_fails():
    old = [expected_refusal_returned()]
    new = [expected_refusal_returned(status="divergence", expected_divergence=None, expectations_matched=[])]
    d = diff.compare(old, new)
    # the entry's id was the old class; without it the signature is the detail class: fixed + new
    assert len(d.new) == 1 and len(d.fixed) == 1 and d.failing
    same_cls = diff.compare([crop_shift(status="other")], [crop_shift()])
    assert [c.what for c in same_cls.changed] == [["divergence judged by another property -> new divergence"]]
    assert same_cls.failing


def test_cli_diff_text_and_exit_status(tmp_path):
    old = write_jsonl(tmp_path / "old" / "a.jsonl", [record(), refused(seed=1)])
    new = write_jsonl(tmp_path / "new" / "a.jsonl", [record(), crop_shift(seed=1)])
    proc = cli("diff", old.parent, new.parent)
    assert proc.returncode == 1
    assert proc.stdout.startswith(f"divergences {old.parent} -> {new.parent}: 1 new, 0 fixed, 0 changed")
    back = cli("diff", new, old)
    assert back.returncode == 0 and ": 0 new, 1 fixed," in back.stdout
    assert cli("diff", tmp_path / "none", new).returncode == 2


def test_the_page_shows_the_diff_at_the_top(tmp_path):
    old = write_jsonl(tmp_path / "old.jsonl", [record(), crash(seed=2)])
    new = write_jsonl(tmp_path / "new.jsonl", [record(), record(property="values", seed=3), crop_shift(seed=1)])
    page = build.build([new], tmp_path / "p.html", baseline=[old], expectations_path=None).read_text()
    top = page.split('id="conformance-matrix"')[0]
    assert 'id="diff"' in top and "1 new, 1 fixed, 0 changed" in top
    assert "new since baseline" in page
