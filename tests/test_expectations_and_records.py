"""The expected-divergences file is validated on load; records survive truncation and refuse unknown schemas."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from conformance.core.spec import Conv
from conformance.harness import expectations, records

ROOT = Path(__file__).resolve().parents[1]
CONV = Conv((3,), (2,), (2,), (1,), batch=2, c_in=2, c_out=4, groups=2)

ENTRY = '''
[[divergence]]
id = "{id}"
surface = "torch:*"
when = "{when}"
kind = "{kind}"
reason = "because"
behaviour = {behaviour}
'''
# a valid statement of each kind used below
BEHAVIOURS = {"crop": '{ relation = "True" }', "crash": '{ signal = "SIGABRT", stderr = "Aborted" }',
              "wobble": "{}"}


def entry_text(id: str, when: str, kind: str, behaviour: str | None = None) -> str:
    return ENTRY.format(id=id, when=when, kind=kind, behaviour=behaviour or BEHAVIOURS[kind])


def test_the_shipped_file_loads_and_every_entry_has_a_reason_and_first_seen():
    entries = expectations.load(ROOT / "suites" / "expected_divergences.toml")
    assert entries, "no expected divergences: every framework matches its docs?"
    for e in entries:
        assert len(e.reason) > 40 and e.first_seen, e.id
        assert e.link == "" or e.link.startswith("https://"), e.id


def test_the_shipped_entries_carry_their_status():
    entries = expectations.load(ROOT / "suites" / "expected_divergences.toml")
    for e in entries:
        assert e.detected >= "2026-11-25", e.id          # the file's first commit: every entry was dated from git
        assert e.reported == "" or (e.reported.startswith("https://github.com/") and e.reported != e.link), e.id
    assert sum(1 for e in entries if e.reported) >= 1


STATUS_ENTRY = entry_text(id="x", when="True", kind="crop")


@pytest.mark.parametrize("fields, message", [
    ('detected = "2026-13-01"', "`detected` must be a date written YYYY-MM-DD"),
    ('detected = "2026-02-30"', "`detected` must be a date written YYYY-MM-DD"),
    ('detected = "25/11/2026"', "`detected` must be a date written YYYY-MM-DD"),
    ('detected = "2026-1-5"', "`detected` must be a date written YYYY-MM-DD"),
    ("detected = 2026-11-25T10:00:00", "`detected` must be a date written YYYY-MM-DD"),
    ("detected = 20261125", "`detected` must be a date written YYYY-MM-DD"),
    ('reported = "github.com/org/repo/issues/1"', "`reported` must be the http(s) address"),
    ('reported = "javascript:alert(1)"', "`reported` must be the http(s) address"),
    ('reported = "ftp://example.org/issue/1"', "`reported` must be the http(s) address"),
    ('reported = "https://example.org/a b"', "`reported` must be the http(s) address"),
    ("reported = 7", "must be strings"),
    ('fixed_in = ""', "`fixed_in` must be the framework version"),
    ('fixed_in = "2.1\\n2.2"', "`fixed_in` must be the framework version"),
])
def test_bad_status_fields_are_a_load_error_naming_the_entry(fields, message):
    with pytest.raises(expectations.ExpectationsError) as info:
        expectations.parse(STATUS_ENTRY + fields + "\n", "expected.toml")
    assert message in str(info.value) and "divergence #1 (x)" in str(info.value), str(info.value)


def test_status_fields_are_read_and_a_bare_toml_date_is_a_date():
    (e,) = expectations.parse(STATUS_ENTRY + 'detected = 2026-11-25\nreported = "https://github.com/o/r/issues/3"\n'
                              'fixed_in = "fw 2.1"\n')
    assert (e.detected, e.reported, e.fixed_in) == ("2026-11-25", "https://github.com/o/r/issues/3", "fw 2.1")
    (bare,) = expectations.parse(STATUS_ENTRY)
    assert (bare.detected, bare.reported, bare.fixed_in) == ("", "", "")


@pytest.mark.parametrize("text, message", [
    ("[[divergence]]\nid = 'x'\n", "missing field(s)"),
    (entry_text(id="x", when="True", kind="crop") + "colour = 'red'\n", "unknown field(s) ['colour']"),
    (entry_text(id="x", when="True", kind="wobble"), "kind 'wobble' not one of"),
    (entry_text(id="x", when="True", kind="crop") + entry_text(id="x", when="True", kind="crop"),
     "duplicate id"),
    (entry_text(id="x", when="stride[0] ==", kind="crop"), "`when` is not an expression"),
    (entry_text(id="x", when="__import__('os')", kind="crop"), "may only call"),
    (entry_text(id="x", when="stride.count(1)", kind="crop"), "may only call any, all"),
    (entry_text(id="x", when="lambda: 1", kind="crop"), "may not use Lambda"),
    ("[[divergence]\n", "not valid TOML"),
    ("[other]\nx = 1\n", "unknown top-level key"),
])
def test_malformed_entries_are_refused_with_the_entry_named(text, message):
    with pytest.raises(expectations.ExpectationsError, match=None) as info:
        expectations.parse(text, "expected.toml")
    assert message in str(info.value), str(info.value)


def test_predicates_see_the_case_and_the_surface_parameters():
    [entry] = expectations.parse(entry_text(
        id="x", kind="crop", when="groups == 2 and all(op < s for op, s in zip(output_padding, stride)) "
                                   "and full == (6,) and kd == (2,)"))
    ns = expectations.case_namespace(CONV, {"output_padding": [1]}, "float32", "cpu")
    assert entry.matches(ns)
    assert not entry.matches(expectations.case_namespace(CONV, {"output_padding": [2]}, "float32", "cpu"))
    assert entry.applies_to("torch:anything") and not entry.applies_to("jax:x")


def test_a_predicate_naming_a_missing_parameter_is_an_error_not_a_silent_miss():
    [entry] = expectations.parse(entry_text(id="typo", kind="crop", when="output_pading[0] == 1"))
    with pytest.raises(expectations.ExpectationsError, match="'output_pading'"):
        entry.matches(expectations.case_namespace(CONV, {"output_padding": [1]}, "float32", "cpu"))


def test_records_round_trip_and_a_truncated_last_line_keeps_the_rest(tmp_path):
    path = tmp_path / "r.jsonl"
    writer = records.RecordWriter(path)
    for n in range(3):
        writer.write({"n": n})
    writer.close()
    with path.open("a") as fh:
        fh.write('{"schema": 1, "n": 3, "tru')        # a run killed mid-line
    with pytest.warns(UserWarning, match="damaged record"):
        got = records.read(path)
    assert [r["n"] for r in got] == [0, 1, 2]


def test_records_of_an_unknown_schema_are_refused(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"schema": 99}) + "\n")
    with pytest.raises(records.RecordsError, match="schema 99"):
        records.read(path)


def test_a_fresh_writer_replaces_the_old_file_and_creates_it_lazily(tmp_path):
    path = tmp_path / "sub" / "r.jsonl"
    records.RecordWriter(path).write({"old": True})
    writer = records.RecordWriter(path, fresh=True)
    assert not path.exists()
    writer.write({"new": True})
    assert [r.get("new") for r in records.read(path)] == [True]


def _write_many(args):
    path, worker = args
    writer = records.RecordWriter(path)
    for n in range(300):
        writer.write({"worker": worker, "n": n, "pad": "x" * 3000})
    writer.close()


def test_concurrent_writers_never_interleave_lines(tmp_path):
    path = tmp_path / "r.jsonl"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        pool.map(_write_many, [(str(path), w) for w in range(4)])
    got = records.read(path)
    assert len(got) == 1200
    assert {(r["worker"], r["n"]) for r in got} == {(w, n) for w in range(4) for n in range(300)}


def test_overlapping_entries_of_one_kind_are_both_seen_not_xpass():
    from conformance.views.summary import xpassed
    text = "".join(entry_text(id=i, when="True", kind="crash") for i in ("first", "second", "unrelated"))
    entries = expectations.parse(text)
    recs = [{"status": "expected", "verdict": "divergence", "kind": "crash", "expected_divergence": "first",
             "expectations_matched": ["first", "second"]},
            {"status": "pass", "verdict": "pass", "kind": None, "expected_divergence": None,
             "expectations_matched": ["first", "second", "unrelated"]}]
    assert [e.id for e in xpassed(recs, entries)] == ["unrelated"]


CONDITIONS = '''
[conditions]
strided = "max(stride) > 1"
strided_f64 = "strided and dtype == 'float64'"

[[divergence]]
id = "uses-a-condition"
surface = "*"
when = "strided_f64 and groups == 2"
kind = "crop"
reason = "r"
behaviour = { relation = "True" }
'''


def test_named_conditions_are_shared_by_predicates_and_evaluated_on_the_case():
    [entry] = expectations.parse(CONDITIONS)
    assert entry.matches(expectations.case_namespace(CONV, {}, "float64", "cpu"))
    assert not entry.matches(expectations.case_namespace(CONV, {}, "float32", "cpu"))


@pytest.mark.parametrize("table, message", [
    ('[conditions]\na = "b"\nb = "a"\n', "refers to itself"),
    ('[conditions]\nstride = "True"\n', "not a usable name"),
    ('[conditions]\na = "lambda: 1"\n', "may not use Lambda"),
    ('[conditions]\na = 3\n', "must be an expression"),
])
def test_a_bad_condition_is_one_line(table, message):
    with pytest.raises(expectations.ExpectationsError, match=None) as info:
        expectations.parse(table)
    assert message in str(info.value) and "\n" not in str(info.value), str(info.value)


def test_differs_names_a_model_and_sees_the_case_inputs():
    from conformance.core.spec import Window
    [entry] = expectations.parse(entry_text(id="m", kind="crop", when="differs('zero-stuffed-correlation')"))
    conv = Conv((3,), (2,), (2,), (1,))
    window = Window((0,), conv.full_size)
    poisoned = expectations.case_namespace(conv, {}, "float32", "cpu", window=window, poison=(("w", 1, "inf"),), seed=3)
    assert entry.matches(poisoned), "an Inf tap meets the stuffed zeros: the model predicts NaN the scatter lacks"
    clean = expectations.case_namespace(conv, {}, "float32", "cpu", window=window, seed=3)
    assert not entry.matches(clean), "finite inputs: the correlation is the scatter"
    with pytest.raises(expectations.ExpectationsError, match="differs"):
        entry.matches(expectations.case_namespace(conv, {}, "float32", "cpu", window=window))   # no seed, no inputs


@pytest.mark.parametrize("flags, environ, on", [
    (["avx", "avx2", "fma"], {}, False),                         # AVX2 only (this machine on 2026-12-04)
    (["avx2", "avx512f", "avx512bw"], {}, False),                # AVX-512 without the neural-network features
    (["avx512f", "avx512_vnni"], {}, True),
    (["avx512_bf16"], {}, True), (["avx_vnni"], {}, True), (["amx_tile", "amx_int8"], {}, True),
    (["avx2"], {"TF_ENABLE_ONEDNN_OPTS": "1"}, True),
    (["avx512_vnni"], {"TF_ENABLE_ONEDNN_OPTS": "0"}, False),
    (["avx512_vnni"], {"TF_ENABLE_ONEDNN_OPTS": "False"}, False),
    (["avx512_vnni"], {"TF_ENABLE_ONEDNN_OPTS": "maybe"}, True),  # not a bool: TensorFlow keeps its default
])
def test_tensorflow_onednn_default_follows_the_cpu_and_its_variable(flags, environ, on):
    """tf_onednn (the predicates' machine fact) is TensorFlow's DefaultOneDnnPolicy on Linux x86 and its
    TF_ENABLE_ONEDNN_OPTS override (tensorflow/core/util/port.cc)."""
    from conformance.harness.expectations import machine_facts, tf_onednn_default
    assert tf_onednn_default(flags, environ) is on
    assert isinstance(machine_facts()["tf_onednn"], bool)


def test_the_onednn_fact_agrees_with_the_installed_tensorflow():
    """Where TensorFlow is installed (the tf envs), the fact the entries read is what TensorFlow itself decided."""
    pytest.importorskip("tensorflow")
    from tensorflow.python.util import _pywrap_util_port

    from conformance.harness.expectations import machine_facts
    assert machine_facts()["tf_onednn"] is bool(_pywrap_util_port.IsMklEnabled())


def test_a_condition_is_evaluated_after_the_conditions_it_uses_whatever_their_order():
    # with_conditions once evaluated a condition before one it uses when both were pending (an order that depended on
    # set iteration): every order of three chained conditions must work
    import itertools

    from conformance.harness.expectations import with_conditions
    chain = {"a": "b and c", "b": "c or rank == 2", "c": "rank >= 1"}
    for order in itertools.permutations(chain):
        conditions = {name: chain[name] for name in order}
        for text in ("a", "b and a", "c and b and a", "a or c"):
            out = with_conditions(text, {"rank": 2}, conditions)
            assert out["a"] is True and out["b"] is True and out["c"] is True, (order, text, out)
