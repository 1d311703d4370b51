"""Behavioural statements (conformance.harness.behaviour): validated on load, and each kind's statement holds for
exactly the
behaviour it names -- a divergence of the same kind that behaves otherwise does not match."""

from __future__ import annotations

import pytest

from conformance.core.compare import Comparison
from conformance.core.spec import Conv, Window
from conformance.harness import behaviour, expectations

CONV = Conv((3,), (2,), (2,), (1,), batch=2, c_in=2, c_out=3, bias=True)
NS = expectations.case_namespace(CONV, {"padding": [1], "output_padding": [0]}, "float32", "cpu",
                                 window=Window((1,), (4,)), prop="values")


def entry(kind: str, table: str, when: str = "True") -> expectations.Expectation:
    [e] = expectations.parse(f'[[divergence]]\nid = "e"\nsurface = "*"\nwhen = "{when}"\nkind = "{kind}"\n'
                             f'reason = "r"\nbehaviour = {table}\n')
    return e


@pytest.mark.parametrize("kind, table, message", [
    ("error-vs-result", '{ raises = "ValueError" }', "must state raises and message or returns"),
    ("error-vs-result", '{ raises = "ValueError", message = "(" }', "behaviour.message"),
    ("error-vs-result", '{ returns = "len(shape) ==" }', "behaviour.returns"),
    ("crash", '{ signal = "SIGABRT" }', "must state signal and stderr"),
    ("value", '{ model = "no-such-model" }', "no such model"),
    ("value", '{ err_over_bound = [2, 1] }', "low <= high"),
    ("nonfinite", '{ classes = ["finite->purple"] }', "not among"),
    ("gradient", '{ wrong = ["gx"], missing = [], adjoint = [] }', "misshapen"),
    ("mode", '{ differs_in = "colour", first = "a", second = "b" }', "one of verdict"),
    ("crop", '{ signal = "SIGABRT" }', "may state relation; not signal"),
    ("shape", '"not a table"', "must be a table"),
])
def test_a_malformed_statement_is_one_line_naming_the_entry(kind, table, message):
    with pytest.raises(expectations.ExpectationsError) as info:
        entry(kind, table)
    text = str(info.value)
    assert message in text and "(e)" in text and "\n" not in text, text


def raised(exception: str, message: str, stage: str = "call") -> dict:
    return behaviour.raised(exception, message, stage)


def test_a_refusal_statement_names_the_exception_and_the_message():
    e = entry("error-vs-result", '{ raises = "InvalidArgumentError", message = "^Current CPU implementations? do" }')
    assert e.states(raised("InvalidArgumentError", "Current CPU implementations do not yet support"), NS)[0]
    ok, why = e.states(raised("ValueError", "Current CPU implementations do not yet support"), NS)
    assert not ok and "raises" in why and "ValueError" in why
    assert not e.states(raised("InvalidArgumentError", "only supports NHWC"), NS)[0]
    assert not e.states(raised("InvalidArgumentErrorX", "Current CPU implementations do"), NS)[0]   # whole name
    assert not e.states(behaviour.returned((2, 3, 4)), NS)[0]    # it states a refusal: a result is another thing


def test_a_stage_tells_the_forward_call_from_the_gradient():
    e = entry("error-vs-result", '{ raises = "RuntimeError", message = "contiguous", stage = "gradient" }')
    assert e.states(raised("RuntimeError", "grad_weight needs to be contiguous", "gradient"), NS)[0]
    assert not e.states(raised("RuntimeError", "grad_weight needs to be contiguous", "forward"), NS)[0]


def test_a_returns_statement_is_an_expression_over_the_case_and_the_shape():
    e = entry("error-vs-result", '{ returns = "tuple(shape) == (batch, c_out, *[f - 2 * p + op for f, p, op in '
                                 'zip(full, padding, output_padding)])" }')
    assert CONV.full_size == (6,)
    assert e.states(behaviour.returned((2, 3, 4)), NS)[0]
    assert not e.states(behaviour.returned((2, 3, 5)), NS)[0]


def test_a_crash_statement_names_the_signal_and_the_stderr():
    e = entry("crash", '{ signal = "SIGABRT", stderr = "Window dimensions do not match" }')
    abort = behaviour.crash("killed by SIGABRT", "F ... Check failed: Window dimensions do not match RHS")
    assert e.states(abort, NS)[0]
    assert not e.states(behaviour.crash("killed by SIGSEGV", "Window dimensions do not match"), NS)[0]
    assert not e.states(behaviour.crash("killed by SIGABRT", "free(): invalid next size"), NS)[0]
    assert behaviour.crash("timed out after 300 s", "")["signal"] == "hang"
    assert behaviour.crash("exit status 3 without a result", "")["signal"] == "exit 3"


def test_a_relation_may_name_any_equally_near_shift():
    e = entry("crop", '{ relation = "(1,) in shifts" }')
    window = Window((1,), (4,))
    both = Comparison("crop", window, (2, 3, 4), 9.0, (0,), 0.0, ((0,), (2,)))   # a constant output matches twice
    assert e.states(behaviour.from_comparison(both), NS)[0]
    only_left = Comparison("crop", window, (2, 3, 4), 9.0, (0,), 0.0, ((0,),))
    assert not e.states(behaviour.from_comparison(only_left), NS)[0]


def test_a_value_statement_names_the_wrong_computation():
    e = entry("value", '{ model = "kernel-channels-swapped" }')
    window = Window((1,), (4,))
    comparison = Comparison("value", window, (2, 3, 4), 50.0)
    assert e.states(behaviour.from_comparison(comparison, 0.5, ("kernel-channels-swapped",), 12), NS)[0]
    assert not e.states(behaviour.from_comparison(comparison, 0.5, (), 12), NS)[0]
    counted = entry("value", '{ err_over_bound = [1, 1e300], wrong_elements = [1, 1] }')
    assert counted.states(behaviour.from_comparison(comparison, 0.01, (), 1), NS)[0]
    assert not counted.states(behaviour.from_comparison(comparison, 0.5, (), 12), NS)[0]


def test_a_nonfinite_statement_allows_a_subset_of_its_class_pairs():
    e = entry("nonfinite", '{ classes = ["finite->nan", "+inf->nan"] }')
    assert e.states(behaviour.nonfinite({"finite->nan"}, 3), NS)[0]
    assert not e.states(behaviour.nonfinite({"finite->nan", "nan->finite"}, 3), NS)[0]
    assert not e.states(behaviour.nonfinite(set(), 0), NS)[0]


def test_a_gradient_statement_is_exact_and_names_gb_only_where_a_bias_is():
    e = entry("gradient", '{ wrong = [], missing = ["gw", "gb"], misshapen = [], adjoint = [] }')
    assert e.states(behaviour.gradient([], ["gb", "gw"], [], [], None), NS)[0]
    assert not e.states(behaviour.gradient([], ["gw"], [], [], None), NS)[0]            # this case has a bias
    no_bias = dict(NS, bias=False)
    assert e.states(behaviour.gradient([], ["gw"], [], [], None), no_bias)[0]
    assert not e.states(behaviour.gradient(["gx"], ["gb", "gw"], [], [], 3.0), NS)[0]   # and gx wrong too: another


def test_a_gradient_statement_may_leave_the_adjoint_identities_out_but_not_the_arrays():
    e = entry("gradient", '{ wrong = ["gx"], missing = [], misshapen = [] }')
    assert e.states(behaviour.gradient(["gx"], [], [], ["adjoint-x"], 1e6), NS)[0]
    assert e.states(behaviour.gradient(["gx"], [], [], [], 1e6), NS)[0]        # the wrong rows cancelled in <x, gx>
    assert not e.states(behaviour.gradient(["gw", "gx"], [], [], ["adjoint-x"], 1e6), NS)[0]
    with pytest.raises(expectations.ExpectationsError, match="misshapen"):
        entry("gradient", '{ wrong = ["gx"], missing = [] }')


def test_machine_facts_follow_tensorflows_intra_op_pool(monkeypatch):
    expectations.machine_facts.cache_clear()
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "8")
    assert expectations.machine_facts()["cpu_threads"] == 8
    expectations.machine_facts.cache_clear()
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS")
    import os
    assert expectations.machine_facts()["cpu_threads"] == len(os.sched_getaffinity(0))
    expectations.machine_facts.cache_clear()


def test_a_mode_statement_names_both_runs():
    e = entry("mode", '{ differs_in = "verdict", first = "^pass", second = "^divergence error-vs-result: raised '
                      'InvalidArgumentError" }')
    good = behaviour.disagree("verdict", "pass: shape (..., 4)", "divergence error-vs-result: raised "
                                                                  "InvalidArgumentError: only supports NHWC")
    assert e.states(good, NS)[0]
    assert not e.states(behaviour.disagree("values", good["first"], good["second"]), NS)[0]
    assert not e.states(behaviour.disagree("verdict", good["second"], good["first"]), NS)[0]


def test_the_key_of_a_behaviour_ignores_numbers_but_not_the_exception_or_the_arrays():
    a = raised("InvalidArgumentError", "Size of out_backprop doesn't match computed: actual = 4, computed = 5")
    b = raised("InvalidArgumentError", "Size of out_backprop doesn't match computed: actual = 9, computed = 7")
    c = raised("ValueError", "Size of out_backprop doesn't match computed: actual = 9, computed = 7")
    assert behaviour.key(a) == behaviour.key(b) != behaviour.key(c)
    assert behaviour.key(behaviour.gradient(["gx"], [], [], [], 2.0)) != behaviour.key(
        behaviour.gradient(["gw"], [], [], [], 2.0))
