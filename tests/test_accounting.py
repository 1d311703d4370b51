"""Entry accounting (conformance.views.accounting, `python -m conformance entries`): per entry covered, as stated,
conforming, otherwise and precision, counted from records; wide entries flagged with the features that separate their
diverging cases; nondeterministic entries judged against their stated rate; the share of cases judged on merits."""

from __future__ import annotations

import json

from conformance.harness import expectations
from conformance.views import accounting
from tests.cli_helpers import cli
from tests.report_records import record

ENTRIES = expectations.parse('''
[[divergence]]
id = "wide"
surface = "fw:*"
when = "True"
kind = "error-vs-result"
reason = "covers every case; only float64 ones raise"
behaviour = { raises = "ValueError", message = "float64" }

[[divergence]]
id = "flaky"
surface = "fw:*"
when = "True"
kind = "crash"
reason = "kills a later call, not the one at fault"
behaviour = { signal = "SIGSEGV", stderr = "corrupted" }
nondeterministic = { rate = 0.1, measured = "3 of 30 cases, synthetic" }
''')


def case(dtype: str, verdict: str, entries: dict, status: str = "pass") -> dict:
    return record(dtype=dtype, verdict=verdict, status=status, entries=entries,
                  expectations_matched=list(entries), kind="error-vs-result" if verdict == "divergence" else None)


def synthetic() -> list[dict]:
    recs = [case("float64", "divergence", {"wide": "as-stated", "flaky": "conforming"}, "expected")
            for _ in range(10)]
    recs += [case("float32", "pass", {"wide": "conforming", "flaky": "conforming"}) for _ in range(20)]
    return recs


def test_counts_precision_and_the_wide_flag_with_what_separates_the_cases():
    counts = {c.entry.id: c for c in accounting.account(synthetic(), ENTRIES)}
    wide = counts["wide"]
    assert (wide.covered, wide.as_stated, wide.conforming, wide.otherwise) == (30, 10, 20, 0)
    assert abs(wide.precision - 1 / 3) < 1e-9 and wide.wide
    separating = accounting.separating(wide.records, "wide")
    assert separating and separating[0].startswith("dtype: "), separating
    assert "'float64' 10/10 diverge" in separating[0] and "'float32' 0/20 diverge" in separating[0], separating


def test_a_nondeterministic_entry_is_judged_against_its_rate():
    flaky = {c.entry.id: c for c in accounting.account(synthetic(), ENTRIES)}["flaky"]
    assert flaky.as_stated == 0 and flaky.covered == 30
    assert flaky.wide, "stated rate 0.1, measured 0 over 30 cases: below half the stated rate"
    recs = synthetic() + [case("float32", "divergence", {"flaky": "as-stated"}, "expected") for _ in range(3)]
    flaky = {c.entry.id: c for c in accounting.account(recs, ENTRIES)}["flaky"]
    assert not flaky.wide, (flaky.as_stated, flaky.covered)


def test_merits_count_every_case_but_the_expected_ones():
    recs = synthetic() + [record(surface="fw:other")]
    assert accounting.merits(recs) == {"fw:fw.conv_transpose": (20, 30), "fw:other": (1, 1)}


def test_the_entries_verb_prints_the_table_and_exits_1_on_a_wide_entry(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in synthetic()))
    exp = tmp_path / "e.toml"
    exp.write_text('''
[[divergence]]
id = "wide"
surface = "fw:*"
when = "True"
kind = "error-vs-result"
reason = "covers every case; only float64 ones raise"
behaviour = { raises = "ValueError", message = "float64" }
''')
    status, out, err = cli(["entries", str(path), "--expectations", str(exp), "--out", str(tmp_path / "e.txt")])
    assert status == 1, out + err
    assert "WIDE" in out and "wide is wide" in out and "20/30 = 66.7% judged on their merits" in out, out
    assert (tmp_path / "e.txt").read_text().startswith("expected-divergence entries")
    status, _, err = cli(["entries", str(tmp_path / "missing.jsonl"), "--expectations", str(exp)])
    assert status == 2 and "no records file" in err


def test_a_partial_entry_unseen_in_few_cases_is_not_called_gone():
    counts = {c.entry.id: c for c in accounting.account(synthetic(), ENTRIES)}
    flaky = counts["flaky"]
    assert not flaky.gone and flaky.unseen_at_rate, "0.9 ** 30 = 4 %: thirty quiet cases are plausible at rate 0.1"
    many = synthetic() * 2                               # 0.9 ** 60 < 1 %: the behaviour has likely stopped
    assert {c.entry.id: c for c in accounting.account(many, ENTRIES)}["flaky"].gone
    assert counts["wide"].covered and not counts["wide"].gone      # it diverged as stated: not gone
