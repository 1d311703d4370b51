"""The "copy as upstream issue" Markdown (reports.upstream), from synthetic records: each part of the report present,
the reproducer fenced so nothing in it can end the fence, raw text (never HTML-escaped) that the page embeds escaped
and gives back unchanged."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from conformance.harness import expectations, records
from reports import build, cards, upstream
from tests.report_records import EXPECTATIONS_TOML, crop_shift, expected_refusal_returned, record, write_jsonl

STATUS = '''detected = "2026-11-25"
reported = "https://example.invalid/fw/issues/7"
fixed_in = "fw 2.0"
'''
# the first entry of the synthetic file, with its status fields
TOML = EXPECTATIONS_TOML.replace('first_seen = "fw 1.0"\n', 'first_seen = "fw 1.0"\n' + STATUS, 1)
HOSTILE = "<script>alert('x')</script> & \"quoted\""


def only_card(records: list[dict], toml: str = TOML) -> cards.Card:
    (card,) = cards.build(records, expectations.parse(toml))
    return card


def sections(md: str) -> dict[str, str]:
    """The Markdown's '### ' sections by heading, and its head (the title and the facts list) under ''."""
    out, name = {"": []}, ""
    for line in md.splitlines():
        if line.startswith("### "):
            name = line[4:]
            out[name] = []
        else:
            out[name].append(line)
    return {k: "\n".join(v).strip() for k, v in out.items()}


def test_a_covered_divergence_has_every_part_and_its_entry():
    card = only_card([expected_refusal_returned(characterization={
        "summary": "fw:fw.conv_transpose diverges when output_padding >= stride; independent of dilation",
        "predicate": "output_padding[0] >= stride[0]"})])
    md = card.upstream_issue
    parts = sections(md)
    head = parts[""].splitlines()
    assert head[0] == "## fw:fw.conv_transpose: the docs refuse it; the framework returned a result"
    assert "- **Framework:** fw 1.0" in head and "- **API:** `fw:fw.conv_transpose`" in head
    assert "- **Device:** cpu (Example CPU (2 cores))" in head and "- **Dtype:** float32" in head
    assert "- **Mode:** eager" in head and any(h.startswith("- **Found by:**") and "(refusals 1)" in h for h in head)
    assert parts["Minimal configuration"] == ("```text\nN=1 C=1->1 g=1 i=4 k=3 s=2 d=1 F=9 bias=no float32 on cpu\n"
                                              "parameters: padding=[1], output_padding=[1]\n```")
    assert parts["Reproducer"] == "```python\nimport numpy as np\nprint('reproduce me')\n```"
    assert parts["Expected"] == "refused: output_padding >= stride, as documented at https://example.invalid/fw/notes.html"
    assert parts["Actual"] == card.actual_text == "shape (1, 1, 9)"
    assert parts["When it diverges"] == ("fw:fw.conv_transpose diverges when output_padding >= stride; independent of "
                                         "dilation\nProposed predicate: `output_padding[0] >= stride[0]`")
    known = parts["Known divergence"]
    assert known.startswith("Expected-divergence entry `fw-accepts-large-output-padding`, detected 2026-11-25: fw "
                            "accepts output_padding >= stride")
    assert "- **Upstream report:** https://example.invalid/fw/issues/7" in known
    assert "- **See also:** https://example.invalid/fw/issues/1" in known and "- **Fixed in:** fw 2.0" in known


def test_a_new_divergence_has_no_entry_part_and_its_err_bound():
    md = only_card([crop_shift(final=True)]).upstream_issue
    parts = sections(md)
    assert "Known divergence" not in parts and "When it diverges" not in parts
    assert parts["Actual"].splitlines() == ["shape (1, 1, 8); the values match the reference at crop=2; values shifted "
                                            "by [1]", "(error over the documented bound: 3.1e+06)"]
    entry_free = only_card([expected_refusal_returned()], toml="").upstream_issue
    assert sections(entry_free)["Known divergence"] == "Expected-divergence entry `fw-accepts-large-output-padding`."


def test_the_markdown_is_raw_text_and_the_fence_outlasts_any_backticks_inside():
    repro = f"x = '''```\n{HOSTILE}\n````'''\nprint(x)\n"
    card = only_card([record(verdict="divergence", kind="error-vs-result", status="divergence", reproducer=repro,
                             actual={"error": f"ValueError: {HOSTILE}\nsecond line"},
                             expected={"crop": [1], "length": [8], "rule": "r", "doc": "https://example.invalid/a?b=1&c=2"})])
    md = card.upstream_issue
    for artefact in ("&lt;", "&gt;", "&amp;", "&#39;", "&#34;", "&quot;"):
        assert artefact not in md
    assert f"raised ValueError: {HOSTILE}" in md and "https://example.invalid/a?b=1&c=2" in md
    # a fence of five: the longest run of backticks inside is four
    assert sections(md)["Reproducer"] == f"`````python\n{repro.rstrip()}\n`````"
    title = md.splitlines()[0]
    assert title == "## fw:fw.conv_transpose: the docs accept it; the framework raised ValueError"
    assert upstream.code("a`b") == "``a`b``" and upstream.code("`x") == "`` `x ``"
    assert upstream.fence("plain", "text") == "```text\nplain\n```"


def test_the_title_is_one_line_and_bounded():
    card = only_card([record(verdict="divergence", kind="gradient", status="divergence", property="gradients",
                             actual={}, detail="the gradient differs " + "x" * 400 + "\nsecond line")])
    title = upstream.title(card)
    assert "\n" not in title and len(title) <= upstream.TITLE_LIMIT and title.endswith("...")
    assert title.startswith("fw:fw.conv_transpose: gradient: the gradient differs")


def test_the_other_versions_of_the_same_divergence_are_named():
    got = cards.build([crop_shift(), crop_shift(version="2.0"), crop_shift(version="2.1")])
    by_version = {c.version: c for c in got}
    assert by_version["2.0"].other_versions == ["1.0", "2.1"]
    assert "- **Framework:** fw 2.0 (the same divergence in 1.0, 2.1)" in by_version["2.0"].upstream_issue


class IssueText(HTMLParser):
    """The text of each <pre class="upstream-issue">, by the id of the card it sits in."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.card, self.inside, self.texts = None, False, {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "article":
            self.card = a["id"]
        if tag == "pre" and "upstream-issue" in (a.get("class") or "") and "hidden" in a:
            self.inside, self.texts[self.card] = True, ""

    def handle_endtag(self, tag):
        self.inside = self.inside and tag != "pre"

    def handle_data(self, data):
        if self.inside:
            self.texts[self.card] += data


def test_the_page_embeds_it_escaped_and_gives_it_back_unchanged(tmp_path):
    recs = [crop_shift(reproducer=f"print({HOSTILE!r})\n", detail=HOSTILE), expected_refusal_returned()]
    exp = tmp_path / "e.toml"
    exp.write_text(TOML)
    path = write_jsonl(tmp_path / "r.jsonl", recs)
    html = build.build([path], tmp_path / "p.html", expectations_path=exp).read_text()
    texts = IssueText(html).texts
    want = {c.anchor: c.upstream_issue for c in cards.build(records.read(path), expectations.load(exp))}
    assert texts == want and len(texts) == 2
    assert "<script>alert" not in html and re.search(r"print\(&#39;&lt;script&gt;alert", html)
