"""The support matrix (reports.support) from synthetic records: each cell state from the records alone, modes as
columns where a surface has them, fault injections left out, and its section on the page."""

from __future__ import annotations

from reports import build, support
from tests.report_records import Scan, crash, crop_shift, expected_refusal_returned, record, refused, write_jsonl

SURFACE = "fw:fw.conv_transpose"


def raised_as_expected(**over) -> dict:
    """An expected divergence where the docs accept the call and the framework raises: a refusal the docs do not
    state (a dtype with no kernel, say)."""
    return record(**{"verdict": "divergence", "kind": "error-vs-result", "status": "expected",
                     "actual": {"error": "RuntimeError: no kernel for this dtype"}, "err_over_bound": None,
                     "expected_divergence": "fw-no-kernel", **over})


def table(records: list[dict], surface: str = SURFACE) -> support.Table:
    return next(t for t in support.build(records) if t.surface == surface)


def state(t: support.Table, dtype: str, device: str = "cpu", mode: str = "eager") -> str:
    return t.cell(dtype, (device, mode)).state


def test_each_cell_state_from_the_records():
    t = table([
        record(dtype="float32"), record(dtype="float32", seed=1), refused(dtype="float32", seed=2),   # works
        refused(dtype="float16"), raised_as_expected(dtype="float16", seed=3),                         # refuses
        record(dtype="float64"), crop_shift(dtype="float64"), expected_refusal_returned(dtype="float64"),
        raised_as_expected(dtype="bfloat16"), record(dtype="bfloat16", seed=4),   # a refusal beside results
    ])
    assert t.dtypes == ["float16", "bfloat16", "float32", "float64"] and t.columns == [("cpu", "eager")]
    assert [state(t, d) for d in t.dtypes] == ["refuses", "diverges", "works", "diverges"]
    assert t.cell("float32", ("cpu", "eager")).parts() == [("as documented", 2), ("refused as documented", 1)]
    assert t.cell("float16", ("cpu", "eager")).parts() == [("refused as documented", 1),
                                                           ("refuses (expected divergence)", 1)]
    assert t.cell("float64", ("cpu", "eager")).parts() == [("new", 1), ("expected", 1), ("as documented", 1)]
    assert t.cell("float32", ("cpu", "eager")).words == "documented and works"


def test_a_new_divergence_always_diverges_and_an_empty_cell_is_not_run():
    refusal_new = record(verdict="divergence", kind="error-vs-result", status="divergence",
                         actual={"error": "ValueError: no"})
    t = table([refused(), refusal_new, crash(dtype="float64")])
    assert state(t, "float32") == "diverges"                 # every case refused, one of them newly
    assert state(t, "float64") == "diverges"                 # an expected crash is no refusal
    assert state(t, "float16") == "not run" and t.cell("float16", ("cpu", "eager")).parts() == []


def test_modes_become_columns_devices_come_from_every_surface_and_faults_are_left_out():
    recs = [record(), record(mode="jit", seed=1), raised_as_expected(mode="jit", dtype="float16"),
            record(surface="fw:other", device="gpu:0"),
            crop_shift(dtype="float64", property="robustness",
                       fault={"case": "stride:zero", "fault": "stride", "value": [0], "expect": "refusal"})]
    t = table(recs)
    assert t.modes and t.columns == [("cpu", "eager"), ("cpu", "jit"), ("gpu:0", "eager"), ("gpu:0", "jit")]
    assert state(t, "float32") == "works" and state(t, "float32", mode="jit") == "works"
    assert state(t, "float16", mode="jit") == "refuses" and state(t, "float32", device="gpu:0") == "not run"
    assert state(t, "float64") == "not run", "a fault injection says nothing about the dtype"
    other = table(recs, "fw:other")
    assert not other.modes and other.columns == [("cpu", "eager"), ("gpu:0", "eager")]
    assert state(other, "float32", device="gpu:0") == "works" and state(other, "float32") == "not run"


def test_versions_get_a_table_each():
    tables = support.build([record(), record(version="2.0", dtype="float64")])
    assert [(t.label, t.version) for t in tables] == [(f"{SURFACE} [1.0]", "1.0"), (f"{SURFACE} [2.0]", "2.0")]
    assert state(tables[1], "float64") == "works" and state(tables[1], "float32") == "not run"


def test_the_page_shows_the_support_section(tmp_path):
    recs = [record(), refused(dtype="float16"), crop_shift(dtype="float64"), record(surface="fw:other", mode="jit")]
    page = build.build([write_jsonl(tmp_path / "r.jsonl", recs)], tmp_path / "p.html", expectations_path=None)
    html = page.read_text()
    section = html.split('<section id="support">')[1].split("</section>")[0]
    scan = Scan(section)
    tables = {a["id"]: a for a in scan.with_class("table", "support")}
    assert set(tables) == {"support-fw-fw-conv-transpose", "support-fw-other"}
    states = [a["data-state"] for a in scan.with_class("td", "support-cell")]
    # one column each: fw:fw.conv_transpose ran eager only, fw:other in jit only; 4 dtypes each
    assert len(states) == 4 + 4
    assert states[:4] == ["refuses", "not run", "works", "diverges"]
    assert "documented and works" in section and "<br>jit</th>" in section
    assert 'href="#support"' in html
