"""The release sweep (nightly/sweep.py) and its timeline (reports.history.grids): which releases a sweep picks;
the dating of a signature over releases (introduced in, fixed in, changed into another); and one real sweep, end to
end, over four releases of a fake framework installed from hand-made wheels into venvs of their own: a bug that
the second release brings and the third fixes is dated to exactly those releases, and a release that does not
install is a column with its reason, never a release where the bug was absent. Hermetic: pip runs against a
folder of wheels, with no index and no pip configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nightly import sweep
from nightly.channels import Version
from reports import history
from reports.signature import signature
from tests.plugin_runs import ROOT
from tests.report_records import crop_shift, record
from tests.wheels import wheel


def V(*vs):
    return [Version(v) for v in vs]


def test_the_newest_patch_of_each_of_the_last_minors_oldest_first():
    vs = V("3.9.0", "3.10.0", "3.11.0", "3.11.3", "3.12.0rc1", "3.12.1", "3.12.4", "3.13.0.dev20261101", "2.15.0")
    assert sweep.newest_per_minor(vs, 3) == V("3.10.0", "3.11.3", "3.12.4")
    assert sweep.newest_per_minor(vs, None) == V("2.15.0", "3.9.0", "3.10.0", "3.11.3", "3.12.4"), \
        "all minors; pre-releases and dev builds never count"
    assert sweep.newest_per_minor(vs, 10) == sweep.newest_per_minor(vs, None)


def test_a_cpu_build_wins_within_its_minor_and_other_minors_keep_their_newest_release():
    vs = V("2.12.1", "2.13.0", "2.13.0+cpu", "2.14.1", "2.15.0")
    assert sweep.newest_per_minor(vs, None, cpu_local="cpu") == V("2.12.1", "2.13.0+cpu", "2.14.1", "2.15.0")
    assert sweep.newest_per_minor(vs, None) == V("2.12.1", "2.13.0", "2.14.1", "2.15.0"), \
        "without the CPU rule, 2.13.0 and 2.13.0+cpu are the same release: the plain one is listed"


def _run(version: str, crop: bool, other: bool = False) -> list[dict]:
    """One release's records: two passes, a crop divergence when `crop`, an error-vs-result one when `other`."""
    recs = [record(version=version, seed=s) for s in range(2)]
    if crop:
        recs.append(crop_shift(version=version, seed=7))
    if other:
        recs.append(record(version=version, seed=9, verdict="divergence", kind="error-vs-result",
                           status="divergence", actual={"error": "ValueError: no"}, err_over_bound=None))
    return recs


CROP = signature(crop_shift()).text


def test_introduced_in_and_fixed_in_over_the_checked_releases():
    h = history.empty()
    for v, crop in (("1.0", False), ("1.1", True), ("1.2", True), ("2.0", False)):
        history.update(h, _run(v, crop), f"sweep {v}")
    history.mark_unavailable(h, "fw", "1.5", "not installable: pip install fw==1.5 failed")
    [grid] = history.grids(h)
    assert grid.releases == ["1.0", "1.1", "1.2", "1.5", "2.0"] and grid.unavailable == {
        "1.5": "not installable: pip install fw==1.5 failed"}
    [row] = grid.rows
    assert row.timeline.key == CROP and row.status == "new divergence" and row.timeline.entry is None
    assert grid.labels == grid.releases
    assert row.cells == ["no", "yes", "yes", "not run", "no"]
    assert row.dating == ["introduced in fw 1.1", "fixed in fw 2.0"]
    assert row.timeline.seen == ["1.1", "1.2"]
    text = history.timeline_text(h)
    assert "first seen 1.1, last seen 1.2; introduced in fw 1.1; fixed in fw 2.0" in text
    assert "1.5: not run: not installable: pip install fw==1.5 failed" in text


def test_present_in_the_oldest_and_newest_release_says_what_a_sweep_cannot_know():
    h = history.empty()
    for v in ("1.0", "2.0"):
        history.update(h, _run(v, True), f"sweep {v}")
    [row] = history.grids(h)[0].rows
    assert row.dating == ["introduced in fw 1.0 or before (the oldest release checked)",
                          "not fixed in the newest release checked (2.0)"]


def test_a_divergence_replaced_by_another_on_the_same_surface_is_changed_not_fixed():
    h = history.empty()
    history.update(h, _run("1.0", True), "a")
    history.update(h, _run("2.0", False, other=True), "b")
    rows = {r.timeline.key: r for r in history.grids(h)[0].rows}
    other = next(k for k in rows if k != CROP)
    assert rows[CROP].dating == ["introduced in fw 1.0 or before (the oldest release checked)",
                                 f"changed in fw 2.0 (now: {other})"]
    assert rows[other].dating == ["introduced in fw 2.0", "not fixed in the newest release checked (2.0)"]


def test_a_release_with_a_version_in_words_orders_by_its_first_word_and_heads_its_column_with_it():
    assert history.version_key("3.9.2 (backend jax 0.10.2)") < history.version_key("3.14.1 (backend jax 0.10.2)")
    h = history.empty()
    for v in ("3.14.1 (backend jax 0.10.2)", "3.9.2 (backend jax 0.10.2)"):
        history.update(h, _run(v, True), v)
    [grid] = history.grids(h)
    assert grid.labels == ["3.9.2", "3.14.1"] and grid.releases[0] == "3.9.2 (backend jax 0.10.2)"


def test_a_divergence_another_property_judges_is_not_called_new():
    h = history.empty()
    history.update(h, [crop_shift(version="1.0", status="other")], "a")
    [row] = history.grids(h)[0].rows
    assert row.status == "divergence judged by another property"


# -- one real sweep -------------------------------------------------------------------------------------------------

RELEASES = {"1.0": "none", "1.1": "crop-off-by-one", "1.2rc1": "crop-off-by-one", "2.0": "none"}


def _release(folder: Path, version: str, mutation: str, requires=()) -> None:
    """A release of the fake framework: the wheel convtfake carrying one mutation of tests/fake_adapter.py."""
    wheel(folder, "convtfake", version, requires, {"convtfake/__init__.py": f"MUTATION = {mutation!r}\n"})


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sweep")
    wheels = tmp / "wheels"
    wheels.mkdir()
    for v, mutation in RELEASES.items():
        _release(wheels, v, mutation)
    _release(wheels, "2.1", "none", ["convt-absent-dependency"])          # a release that cannot install
    table = tmp / "channels.toml"
    table.write_text('[groups.fakerel]\nframework = "fake"\npackages = ["convtfake"]\nsweep = 4\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "CHANNELS_", "CONFORMANCE_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels), CHANNELS_TABLE=str(table),
               PIP_DISABLE_PIP_VERSION_CHECK="1", CONFORMANCE_ADAPTERS="fake=tests.fake_release_adapter")
    out = tmp / "records"
    cmd = [sys.executable, "-m", "nightly", "sweep", "fakerel", "--records-dir", out, "--venvs", tmp / "venvs",
           "--inherit-site", "--profile", "dev", "--jobs", "2", "--pytest-args=-k test_shapes"]
    proc = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    return proc, out, env, cmd


def test_a_sweep_dates_a_bug_to_the_release_that_brought_it_and_the_one_that_fixed_it(swept):
    proc, out, _, _ = swept
    said = proc.stdout + proc.stderr
    assert proc.returncode == 0, said[-3000:]
    assert "fakerel: 4 releases: 1.0, 1.1, 2.0, 2.1" in said, "the newest final release of the last 4 minors"
    m = {p.name.split(".sweep")[0]: json.loads(p.read_text()) for p in out.glob("*.sweep.json")}
    assert {k: v["status"] for k, v in m.items()} == {"fakerel-1.0": "installed", "fakerel-1.1": "installed",
                                                      "fakerel-2.0": "installed", "fakerel-2.1": "not installable"}
    assert [m[f"fakerel-{v}"]["pytest_exit"] for v in ("1.0", "1.1", "2.0")] == [0, 1, 0], \
        "the suite fails on the release with the bug; the sweep records it and goes on"
    assert m["fakerel-1.1"]["version"] == "1.1" and m["fakerel-1.1"]["profile"] == "dev"
    assert any("convt-absent-dependency" in line for line in m["fakerel-2.1"]["pip_tail"])

    h = json.loads((out / "history.json").read_text())
    crops = [k for k, s in h["signatures"].items() if s["kind"] == "crop"]
    assert len(crops) == 1, h["signatures"].keys()
    [grid] = history.grids(h)
    assert grid.framework == "fake" and grid.releases == ["1.0", "1.1", "2.0", "2.1"]
    assert list(grid.unavailable) == ["2.1"] and "not installable" in grid.unavailable["2.1"]
    row = next(r for r in grid.rows if r.timeline.key == crops[0])
    assert row.cells == ["no", "yes", "no", "not run"]
    assert row.dating == ["introduced in fake 1.1", "fixed in fake 2.0"]

    timeline = (out / "timeline.txt").read_text()
    assert "introduced in fake 1.1; fixed in fake 2.0" in timeline
    page = (out / "index.html").read_text()
    assert "Release timeline: fake" in page and "introduced in fake 1.1; fixed in fake 2.0" in page
    dating = "first seen 1.1, last seen 1.1; introduced in fake 1.1; fixed in fake 2.0"
    assert f"<dt>releases</dt><dd>{dating}" in page, "the card of the crop divergence says when it came and went"
    assert f"### Releases\n\nfake: {dating}\n" in page.replace("&#39;", "'"), "and so does its upstream issue text"


def test_the_history_cli_prints_the_same_timeline(swept):
    _, out, _, _ = swept
    proc = subprocess.run([sys.executable, "-m", "reports", "history", "timeline", str(out / "history.json")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == history.timeline_text(json.loads((out / "history.json").read_text())).strip()
    assert "introduced in fake 1.1; fixed in fake 2.0" in proc.stdout


def test_a_second_sweep_reuses_the_installed_venvs_and_folds_the_same_history(swept):
    proc, out, env, cmd = swept
    before = (out / "history.json").read_text()
    again = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    m = json.loads((out / "fakerel-1.0.sweep.json").read_text())
    assert m["reused"] is True, "the venv's install record matched: nothing installed again"
    record = json.loads(Path(m["venv"], sweep.INSTALL_RECORD).read_text())
    assert not [a for a in record["pip_args"] + record["requirements"] if str(ROOT) in a], \
        "a clone elsewhere on the machine finds the same install record (the constraints file by name)"
    after = json.loads((out / "history.json").read_text())
    old = json.loads(before)
    assert {k: sorted(s["versions"]) for k, s in after["signatures"].items()} == \
        {k: sorted(s["versions"]) for k, s in old["signatures"].items()}, "the same profile and seed: the same dating"


def test_a_keras_release_the_current_backend_refuses_runs_on_the_newest_backend_that_installs_with_it(
        tmp_path, monkeypatch):
    """tensorflow-cpu 2.21.0 depends on keras>=3.12.0: Keras 3.11 on TensorFlow runs on tensorflow-cpu 2.20, and the
    manifest says why. Here with hand-made wheels: backend 2.0 depends on framework>=1.1."""
    from nightly import channels

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for v in ("1.0", "1.1"):
        _release(wheels, v, "none")
    for v, requires in (("1.0", []), ("2.0", ["convtfake>=1.1"])):
        wheel(wheels, "convtback", v, requires)
    table = tmp_path / "channels.toml"
    table.write_text('[groups.back]\nframework = "fake"\npackages = ["convtback"]\n\n'
                     '[groups.fakekeras]\nframework = "fake"\npackages = ["convtfake"]\nbackend = "back"\nsweep = 2\n')
    for k in [k for k in os.environ if k.startswith(("PIP_", "CHANNELS_"))]:
        monkeypatch.delenv(k)
    for k, v in dict(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels),
                     PIP_DISABLE_PIP_VERSION_CHECK="1").items():
        monkeypatch.setenv(k, v)
    groups = channels.load_table(table)
    old, new = sweep.plan(groups["fakekeras"], 2, "cpu", groups)
    assert (old.version, old.requirements, old.fallbacks) == (
        "1.0", ["convtfake==1.0", "convtback==2.0"], [["convtfake==1.0", "convtback==1.0"]])
    reqs, note = sweep.resolvable(old, "cpu")
    assert reqs == ["convtfake==1.0", "convtback==1.0"]
    assert note == ("convtfake==1.0 convtback==2.0 does not resolve (convtback 2.0 depends on convtfake>=1.1); "
                    "ran with convtfake==1.0 convtback==1.0")
    assert sweep.resolvable(new, "cpu") == (["convtfake==1.1", "convtback==2.0"], ""), "the current backend first"
    nothing = sweep.Release(groups["fakekeras"], "0.5", ["convtfake==0.5", "convtback==2.0"], old.pip_args,
                            [["convtfake==0.5", "convtback==1.0"]])
    with pytest.raises(channels.ChannelError, match="pip cannot resolve convtfake==0.5 convtback==2.0"):
        sweep.resolvable(nothing, "cpu")
