"""Everything a framework (or a record) wrote is text on the page, never markup: script tags, attribute breakouts
and javascript: links fed through every field a record has end up escaped and inert."""

from __future__ import annotations

from reports import build
from tests.report_records import Scan, crop_shift, expected_refusal_returned, record, refused, write_jsonl

SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"><img src=x onerror=alert(2)>'
QUOTE = "'><svg onload=alert(3)>"
EVIL = f"{SCRIPT} {BREAKOUT} {QUOTE}"
JS_URL = "javascript:alert(4)"


def hostile_records() -> list[dict]:
    return [
        crop_shift(surface=f"fw:{EVIL}", framework=f"fw{BREAKOUT}", version=EVIL, run_id=EVIL, profile=EVIL,
                   device=EVIL, detail=EVIL, reproducer=f"print('{EVIL}')\n# {SCRIPT}\n",
                   params={"padding": [1], EVIL: EVIL},
                   expected={"crop": [1], "length": [8], "rule": EVIL, "doc": f"{JS_URL} {EVIL}"}),
        expected_refusal_returned(expected_divergence=EVIL, expectations_matched=[EVIL], detail=EVIL,
                                  expected={"refusal": EVIL, "doc": JS_URL}),
        record(verdict="divergence", kind="error-vs-result", status="divergence", seed=9,
               actual={"error": f"ValueError: {EVIL}"}, detail=f"the framework raised it\n{EVIL}"),
        refused(seed=8, actual={"error": f"RuntimeError: {EVIL}"}),
        expected_refusal_returned(seed=11),     # covered by the entry below: its reason and link are shown
    ]


def test_hostile_fields_are_escaped_and_inert(tmp_path):
    recs = write_jsonl(tmp_path / "evil.jsonl", hostile_records())
    exp = tmp_path / "expected.toml"
    exp.write_text(f'''[[divergence]]
id = "fw-accepts-large-output-padding"
surface = "*"
when = "True"
kind = "error-vs-result"
behaviour = {{ returns = "True" }}
reason = {SCRIPT!r}
link = "{JS_URL}"
''')
    page = build.build([recs], tmp_path / "report.html", expectations_path=exp).read_text()
    scan = Scan(page)
    # the one script is ours; nothing else executes, loads or links to javascript:
    assert len(scan.scripts) == 1 and scan.scripts[0] == build.page_script()
    assert not [t for t, _ in scan.tags if t in ("img", "iframe", "object", "embed")]
    svg_onload = [a for _, a in scan.tags if any(k.startswith("on") for k in a)]
    assert svg_onload == []
    assert all(not v.lower().lstrip().startswith("javascript:") for _, a in scan.tags for v in a.values() if v)
    # the raw payloads are not in the markup; their escaped forms are shown as text
    for raw in (SCRIPT, BREAKOUT, QUOTE):
        assert raw not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert "&#39;&gt;&lt;svg onload=alert(3)&gt;" in page
    assert "javascript:alert(4)" in page                       # shown as text, never as a link
    entry_card = page.split("<code>fw-accepts-large-output-padding</code>")[1].split("</article>")[0]
    assert entry_card.startswith(": &lt;script&gt;alert(1)&lt;/script&gt;") and "javascript:alert(4)" in entry_card


def test_escaping_survives_into_svg_titles_and_attributes(tmp_path):
    r = crop_shift(surface=f"fw:{BREAKOUT}")
    page = build.build([write_jsonl(tmp_path / "r.jsonl", [r])], tmp_path / "p.html", expectations_path=None)
    scan = Scan(page.read_text())
    ids = [a["id"] for _, a in scan.tags if "id" in a]
    assert all(set(i) <= set("abcdefghijklmnopqrstuvwxyz0123456789-") for i in ids)
