"""The page's anchors and filters without a browser: a stable id per card (from its signature and version: the same
in two builds of the same divergences, whatever the order, runs and other cards) and per conformance-matrix cell,
permalinks to each, the cells' links to their cards, and the filter bar's data (hidden until the script runs, so that
without JavaScript every card stays visible)."""

from __future__ import annotations

import random
from urllib.parse import parse_qs, urlsplit

from reports import build, cards, outcomes
from reports.signature import Signature
from tests.report_records import (
    Scan,
    crash,
    crop_shift,
    expected_refusal_returned,
    record,
    refused,
    write_expectations,
    write_jsonl,
)

SURFACE = "fw:fw.conv_transpose"


def divergences() -> list[dict]:
    return [crop_shift(seed=2), crop_shift(seed=3, final=True), crop_shift(seed=4, property="values"),
            expected_refusal_returned(), crash()]


def page(tmp_path, name: str, recs: list[dict]) -> Scan:
    path = write_jsonl(tmp_path / f"{name}.jsonl", recs)
    out = build.build([path], tmp_path / f"{name}.html", expectations_path=write_expectations(tmp_path / "e.toml"))
    return Scan(out.read_text())


def ids(scan: Scan, tag: str, cls: str) -> list[str]:
    return [a["id"] for a in scan.with_class(tag, cls)]


def test_two_builds_of_the_same_divergences_give_the_same_anchors(tmp_path):
    first = divergences() + [record(), refused(seed=7)]
    second = [dict(r, run_id="run-b", time=r["time"] + 86400) for r in divergences()] + [record(seed=11)]
    random.Random(1).shuffle(second)
    a, b = page(tmp_path, "a", first), page(tmp_path, "b", second)
    assert sorted(ids(a, "article", "card")) == sorted(ids(b, "article", "card"))
    assert len(ids(a, "article", "card")) == 3
    assert ids(a, "td", "cell") == ids(b, "td", "cell")
    # a card's id does not depend on the other cards either
    alone = page(tmp_path, "alone", [crop_shift()])
    assert ids(alone, "article", "card")[0] in ids(a, "article", "card")


def test_anchors_are_unique_even_where_the_words_are_not():
    dotted, dashed = Signature("fw:a.b", "crop", "x"), Signature("fw:a-b", "crop", "x")
    assert dotted.anchor != dashed.anchor and dotted.anchor.startswith("d-fw-a-b-crop-x-")
    got = cards.build([crop_shift(version="1.0+cpu"), crop_shift(version="1.0-cpu")])
    assert len({c.anchor for c in got}) == 2
    assert all(set(c.anchor) <= set("abcdefghijklmnopqrstuvwxyz0123456789-") for c in got)


def test_every_card_and_matrix_cell_has_an_id_and_a_permalink_to_it(tmp_path):
    other = record(surface="fw:other", property="values")
    scan = page(tmp_path, "p", divergences() + [record(), refused(seed=7), other])
    cells = ids(scan, "td", "cell")
    assert cells == [f"cell-fw-fw-conv-transpose--{p}" for p in ("shapes", "values", "refusals")] + [
        f"cell-fw-other--{p}" for p in ("shapes", "values", "refusals")]
    permalinks = {a["href"] for a in scan.with_class("a", "permalink")}
    assert {f"#{i}" for i in cells + ids(scan, "article", "card")} == permalinks
    # the cells holding divergences link to their cards: this page, filtered by the cell's surface and property
    links = [parse_qs(urlsplit(a["href"]).query) | {"#": [urlsplit(a["href"]).fragment]}
             for a in scan.with_class("a", "cell-cards")]
    assert links == [{"surface": [SURFACE], "property": [p], "#": ["divergences"]}
                     for p in ("shapes", "values", "refusals")]
    assert all("data-filter-link" in a for a in scan.with_class("a", "cell-cards"))


def test_a_surface_in_several_versions_has_a_cell_id_per_version():
    table = outcomes.build([record(), record(version="2.0")])
    assert [row.anchor("shapes") for row in table.rows] == ["cell-fw-fw-conv-transpose--shapes--1-0",
                                                            "cell-fw-fw-conv-transpose--shapes--2-0"]


def test_cards_carry_what_the_filters_match_and_the_bar_is_hidden_without_script(tmp_path):
    scan = page(tmp_path, "p", divergences())
    by_kind = {a["data-kind"]: a for a in scan.with_class("article", "card")}
    assert {k: {f: by_kind[k][f"data-{f}"] for f in cards.FILTER_KEYS} for k in by_kind} == {
        "crop": {"surface": SURFACE, "kind": "crop", "entry": "", "framework": "fw", "status": "new",
                 "property": "shapes values"},
        "error-vs-result": {"surface": SURFACE, "kind": "error-vs-result", "entry": "fw-accepts-large-output-padding",
                            "framework": "fw", "status": "expected", "property": "refusals"},
        "crash": {"surface": SURFACE, "kind": "crash", "entry": "fw-abort", "framework": "fw", "status": "expected",
                  "property": "values"}}
    (bar,) = [a for t, a in scan.tags if a.get("id") == "card-filters"]
    assert "hidden" in bar
    assert not [a for t, a in scan.tags if "hidden" in a and (t == "article" or "data-card" in a)]
    selects = {a["data-filter"] for t, a in scan.tags if t in ("select", "input") and "data-filter" in a}
    assert selects == {"q", *cards.FILTER_KEYS}
    facets = cards.facets(cards.build(divergences()))
    assert facets["status"] == ["expected", "new"] and facets["property"] == ["refusals", "shapes", "values"]
    assert facets["entry"] == ["fw-abort", "fw-accepts-large-output-padding"]
    assert [a["data-card"] for t, a in scan.tags if "data-card" in a] == ids(scan, "article", "card")
