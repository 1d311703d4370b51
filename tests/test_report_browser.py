"""The report of real records, in a real browser.

Two real plugin runs on the framework-free fake adapter with portable spellings (tests/fake_portable_adapter.py,
dev profile): a correct one, the baseline, and one with its crop off by one, which every property catches. The
diff between them must name exactly that divergence, both ways round; the page built from the second with the
first as baseline is opened in headless Chromium (Debian's `chromium`, which .ci/run installs): the DOM it
renders must hold the conformance matrix, the alignment heat maps and the card, with the copy buttons the
page's script adds, and the screenshot must not be blank. A page of three synthetic divergences is opened with
filter states and card anchors in its URL: the DOM after its script ran must show exactly the matching cards (and
index rows), the count, and the anchored card's details open. Skipped with the reason where Chromium is absent.
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
from tests.report_records import (
    Scan,
    crash,
    crop_shift,
    expected_refusal_returned,
    record,
    write_expectations,
    write_jsonl,
)

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
    # the page's own script ran (its hash is allowed by the page's Content-Security-Policy) and added the buttons:
    # the card's reproducer and its upstream issue
    assert len(scan.with_class("button", "copy-reproducer")) == 1 and len(scan.with_class("button", "copy-issue")) == 1
    shot = tmp_path / "report.png"
    snap = chromium(f"--screenshot={shot}", "--window-size=1400,2000", url, profile=tmp_path / "profile-shot")
    assert snap.returncode == 0 and shot.exists(), snap.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 50_000, "a blank page compresses to a few KB; the rendered report is far larger"


# The cards' filters, their state in the URL and the anchors, in the browser: a page of three synthetic divergences
# (a new crop shift seen by shapes and values, an expected result where the docs refuse, an expected crash), opened
# with the state in the URL; the DOM after the script ran shows which cards it hid.
@pytest.fixture(scope="module")
def three_cards(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("three")
    recs = write_jsonl(folder / "r.jsonl", [record(), crop_shift(seed=2), crop_shift(seed=3, property="values"),
                                            expected_refusal_returned(), crash()])
    page = build.build([recs], folder / "report.html", expectations_path=write_expectations(folder / "e.toml"))
    anchors = {a["data-kind"]: a["id"] for a in Scan(page.read_text()).with_class("article", "card")}
    assert set(anchors) == {"crop", "error-vs-result", "crash"}
    return page, anchors


def opened(page: Path, tail: str, profile: Path) -> tuple[Scan, str]:
    """The DOM of `page` opened at its URL + `tail` (a query and/or an anchor) once its script has run: parsed, and
    as text."""
    dom = chromium("--virtual-time-budget=2000", "--dump-dom", page.resolve().as_uri() + tail, profile=profile)
    assert dom.returncode == 0, dom.stderr[-2000:]
    return Scan(dom.stdout), dom.stdout


def shown(scan: Scan) -> set[str]:
    """The kinds of the cards the script left visible (and their index rows must agree)."""
    cards_shown = {a["data-kind"]: a["id"] for a in scan.with_class("article", "card") if "hidden" not in a}
    rows_shown = [a["data-card"] for t, a in scan.tags if "data-card" in a and "hidden" not in a]
    assert sorted(rows_shown) == sorted(cards_shown.values())
    return set(cards_shown)


def count_text(html: str) -> str:
    return html.split('id="filter-count"')[1].split(">", 1)[1].split("<", 1)[0]


@needs_chromium
@pytest.mark.parametrize("query, kinds", [
    ("", {"crop", "error-vs-result", "crash"}),
    ("?q=SIGABRT", {"crash"}),                                         # the search box: the card's text
    ("?q=shifted+crop%3D2", {"crop"}),                                 # every word, anywhere in the card
    ("?status=expected", {"error-vs-result", "crash"}),                # one filter
    ("?status=expected&property=values", {"crash"}),                   # two
    ("?surface=fw%3Afw.conv_transpose&property=refusals", {"error-vs-result"}),   # a matrix cell's cards link
    ("?entry=no-such-entry", set()),                                   # a state naming nothing on this page
])
def test_the_filter_state_in_the_url_is_applied(three_cards, tmp_path, query, kinds):
    page, _ = three_cards
    scan, html = opened(page, query, tmp_path / "profile")
    assert shown(scan) == kinds
    (bar,) = [a for t, a in scan.tags if a.get("id") == "card-filters"]
    assert "hidden" not in bar, "the script shows the filter bar"
    assert count_text(html) == f"{len(kinds)} of 3 cards shown"


@needs_chromium
def test_a_permalink_opens_its_card_and_shows_it_whatever_the_filters(three_cards, tmp_path):
    page, anchors = three_cards
    scan, _ = opened(page, f"#{anchors['crash']}", tmp_path / "profile-a")
    open_in = {k: [("open" in a) for a in details_of(scan, anchors[k])] for k in anchors}
    assert open_in["crash"] and all(open_in["crash"]), "its detail and reproducer are open"
    assert not any(open_in["crop"] + open_in["error-vs-result"])
    # a card the URL's filters would hide is shown when the URL points at it: the filters are cleared
    scan, _ = opened(page, f"?q=SIGABRT#{anchors['crop']}", tmp_path / "profile-b")
    assert "crop" in shown(scan) and all("open" in a for a in details_of(scan, anchors["crop"]))


def details_of(scan: Scan, card_id: str) -> list[dict]:
    """The attributes of the <details> elements inside the card `card_id`, in order."""
    out, inside = [], False
    for tag, attrs in scan.tags:
        if tag == "article":
            inside = attrs.get("id") == card_id
        elif inside and tag == "details":
            out.append(attrs)
    return out
