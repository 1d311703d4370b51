"""`python -m conformance views` (the summary env of tox.ini): the five text views of a run from one reading of its
records, each file byte-identical to what its own verb writes, and one exit status for them all."""

from __future__ import annotations

import json

from tests.cli_helpers import cli
from tests.report_records import EXPECTATIONS_TOML, crop_shift, expected_refusal_returned, record, refused

VIEWS = {  # file -> the verb's own command line (after the records)
    "alignment.json": ["matrix", "--json"],
    "alignment.txt": ["matrix"],
    "errors.txt": ["errors"],
    "entries.txt": ["entries", "--expectations", "{exp}"],
    "summary.txt": ["summary", "--expectations", "{exp}"],
}


def _run(tmp_path, recs: list[dict]):
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    exp = tmp_path / "e.toml"
    exp.write_text(EXPECTATIONS_TOML)
    status, out, err = cli(["views", str(path), "--out-dir", str(tmp_path / "views"), "--expectations", str(exp)])
    return path, exp, status, out, err


def test_each_view_is_the_file_its_own_verb_writes(tmp_path):
    recs = [record(), record(seed=1), refused(), expected_refusal_returned(), record(property="values")]
    path, exp, status, out, err = _run(tmp_path, recs)
    assert status == 0, out + err
    for name, verb in VIEWS.items():
        alone = tmp_path / "alone" / name
        argv = [verb[0], str(path), *[a.format(exp=exp) for a in verb[1:]], "--out", str(alone)]
        assert cli(argv)[0] == 0, argv
        assert (tmp_path / "views" / name).read_text() == alone.read_text(), name
    assert "new divergences: 0" in out, out


def test_a_new_divergence_exits_1_with_every_view_written(tmp_path):
    _, _, status, out, err = _run(tmp_path, [record(), crop_shift(final=True)])
    assert status == 1 and "new divergences: 1" in out, out + err
    assert sorted(p.name for p in (tmp_path / "views").iterdir()) == sorted(VIEWS)


def test_missing_records_exit_2_before_anything_is_written(tmp_path):
    status, out, err = cli(["views", str(tmp_path / "missing.jsonl"), "--out-dir", str(tmp_path / "views")])
    assert status == 2 and "no records file" in err, out + err
    assert not (tmp_path / "views").exists()
