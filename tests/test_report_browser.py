"""The report of real records, in a real browser.

Two real plugin runs on the framework-free fake adapter with portable spellings (tests/fake_portable_adapter.py,
dev profile): a correct one, the baseline, and one with its crop off by one, which every property catches. The
diff between them must name exactly that divergence, both ways round; the page built from the second with the
first as baseline is opened in headless Chromium (Debian's `chromium`, which .ci/run installs): the DOM it
renders must hold the conformance matrix, the alignment heat maps and the card, with the copy buttons the
page's script adds, and the screenshot must not be blank. Skipped with the reason where Chromium is absent.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.harness import records
from reports import build, diff
from tests.plugin_runs import ROOT, run_plugin
from tests.report_records import Scan

CHROMIUM = next((p for p in (shutil.which("chromium"), "/usr/bin/chromium") if p and Path(p).exists()), None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (Debian package "
                                                             "`chromium`; .ci/run installs it)")
PROPERTIES = "test_shapes or test_values or test_refusals or test_portable"   # the properties this page shows
CROP = "the right length, the values shifted in the output"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = {}
    for mutation in ("none", "crop-off-by-one"):
        run = run_plugin(tmp_path_factory.mktemp(mutation), "-k", PROPERTIES, mutation=mutation, profile="dev",
                         env={"CONFORMANCE_ADAPTERS": "fake=tests.fake_portable_adapter"})
        assert run.records.exists(), run.output[-2000:]
        out[mutation] = run
    assert out["none"].returncode == 0, out["none"].output[-2000:]
    assert out["crop-off-by-one"].returncode == 1
    return out


@pytest.fixture(scope="module")
def page(runs, tmp_path_factory) -> Path:
    return build.build([runs["crop-off-by-one"].records], tmp_path_factory.mktemp("page") / "report.html",
                       baseline=[runs["none"].records])


def test_diff_of_two_real_runs_names_the_divergence_both_ways(runs):
    good, bad = (records.read(runs[m].records) for m in ("none", "crop-off-by-one"))
    forward = diff.compare(good, bad)
    assert [(g.signature.surface, g.signature.kind, g.signature.cls) for g in forward.new] == [
        ("fake:fake.conv_transpose", "crop", CROP)]
    assert not forward.fixed and not forward.changed and not forward.not_checked and forward.failing
    assert {p for _, p in forward.new[0].seen_in} >= {"shapes", "values", "portable"}
    assert forward.versions == ["fake 0.0-none -> 0.0-crop-off-by-one"]
    back = diff.compare(bad, good)
    assert [g.signature.cls for g in back.fixed] == [CROP] and not back.new and not back.failing
    proc = subprocess.run([sys.executable, "-m", "reports", "diff", runs["none"].records,
                           runs["crop-off-by-one"].records], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert ": 1 new, 0 fixed, 0 changed, 0 still there, 0 not checked" in proc.stdout.splitlines()[0]
    assert f"  NEW          crop on fake:fake.conv_transpose: {CROP} [0.0-crop-off-by-one]: new divergence" \
        in proc.stdout


def test_page_of_real_records_has_matrix_heatmaps_and_the_card(page):
    scan = Scan(page.read_text())
    cells = scan.with_class("td", "cell")
    assert {c["data-state"] for c in cells} == {"new", "other"}
    assert len(scan.with_class("svg", "heat")) == 7                      # one panel per intent, one surface
    (card,) = scan.with_class("article", "card")
    assert "status-divergence" in card["class"] and "kind-crop" in card["class"]
    assert len(scan.with_class("rect", "found")) >= 1 and len(scan.with_class("rect", "doc")) >= 1


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        pytest.fail(f"chromium did not finish in 180 s: {' '.join(cmd)}")


@needs_chromium
def test_report_renders_in_headless_chromium(page, tmp_path):
    url = page.resolve().as_uri()
    dom = chromium("--dump-dom", url, profile=tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    scan = Scan(dom.stdout)
    assert scan.with_class("table", "matrix") and len(scan.with_class("td", "cell")) >= 4
    assert len(scan.with_class("svg", "heat")) == 7
    assert len(scan.with_class("article", "card")) == 1
    assert scan.with_class("section", "diff") or 'id="diff"' in dom.stdout
    # the page's own script ran (its hash is allowed by the page's Content-Security-Policy) and added the buttons
    assert len(scan.with_class("button", "copy")) == 1
    shot = tmp_path / "report.png"
    snap = chromium(f"--screenshot={shot}", "--window-size=1400,2000", url, profile=tmp_path / "profile-shot")
    assert snap.returncode == 0 and shot.exists(), snap.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 50_000, "a blank page compresses to a few KB; the rendered report is far larger"
