"""Crash signatures (conformance.harness.crashkey): one string per distinct death, the same for one bug hit with other
numbers; the fresh-process check of a crash (Judge._reproduce, isolate.run_fresh); a hang recorded as `hang`."""

from __future__ import annotations

from conformance.harness import behaviour, crashkey, isolate, robustness
from conformance.harness.check import Case
from tests.fake_adapter import load

# stderr as TensorFlow (glog/absl), glibc, a C++ terminate and faulthandler print them
TF_ABORT = ("2026-12-03 10:00:01.123: I tensorflow/core/util/port.cc:153] oneDNN custom operations are on.\n"
            "F0000 00:00:1733220001.123456   4242 mkl_conv_grad_input_ops.cc:610] Check failed: "
            "tensor::MakeShape(input_tensor, &input_tf_shape) is OK (INVALID_ARGUMENT: Dimension -2147483648 "
            "must be >= 0)\n*** Check failure stack trace: ***\nFatal Python error: Aborted\n")
TF_ABORT_OTHER_NUMBERS = TF_ABORT.replace("610]", "612]").replace("-2147483648", "-4294967296").replace(
    "4242", "77").replace("1733220001.123456", "1733229999.5")
SEGV = ('Fatal Python error: Segmentation fault\n\nCurrent thread 0x00007f (most recent call first):\n'
        '  File "/venv/lib/python3.11/site-packages/torch/nn/functional.py", line 1234 in conv_transpose2d\n'
        '  File "<reproducer>", line 9 in <module>\n')


def test_one_bug_with_other_numbers_has_one_signature():
    key = crashkey.signature("SIGABRT", TF_ABORT)
    assert key == ("SIGABRT: mkl_conv_grad_input_ops.cc] Check failed: tensor::MakeShape(input_tensor, "
                   "&input_tf_shape) is OK (INVALID_ARGUMENT: Dimension N must be >= N)")
    assert crashkey.signature("SIGABRT", TF_ABORT_OTHER_NUMBERS) == key


def test_other_deaths_have_other_signatures():
    keys = {crashkey.signature("SIGABRT", TF_ABORT),
            crashkey.signature("SIGSEGV", TF_ABORT),                      # the signal is part of it
            crashkey.signature("SIGABRT", TF_ABORT.replace("MakeShape", "GetNodeAttr")),
            crashkey.signature("SIGSEGV", SEGV),
            crashkey.signature("SIGABRT", "free(): invalid pointer\nFatal Python error: Aborted"),
            crashkey.signature("SIGABRT", "terminate called after throwing an instance of 'std::bad_alloc'\n"
                                          "  what():  std::bad_alloc\n")}
    assert len(keys) == 6, keys


def test_the_key_names_the_innermost_library_frame_of_a_python_fatal_error():
    assert crashkey.key_line(SEGV) == "Fatal Python error: Segmentation fault in conv_transpose2d (nn/functional.py)"
    assert crashkey.key_line("free(): invalid next size (fast)\nFatal Python error: Aborted") == \
        "free(): invalid next size (fast)"
    assert crashkey.key_line("") == "no stderr"


def test_a_hang_is_recorded_as_hang_with_its_own_signature():
    seen = behaviour.crash("timed out after 30 s", "anything")
    assert seen["signal"] == "hang" and seen["key"] == "hang: no reply within the worker's timeout"


def test_a_fresh_process_reports_a_death_an_exception_and_a_result():
    died = isolate.run_fresh("import os\nos.abort()", timeout=60)
    assert died.crash == "killed by SIGABRT"
    raised = isolate.run_fresh("raise ValueError('stride must be positive')", timeout=60)
    assert (raised.crash, raised.error_type, raised.error_message) == (None, "ValueError", "stride must be positive")
    returned = isolate.run_fresh("y = 1", timeout=60)
    assert (returned.crash, returned.error_type) == (None, None)
    hung = isolate.run_fresh("import time\ntime.sleep(60)", timeout=1)
    assert hung.crash == "timed out after 1 s"


def test_the_fresh_process_text_says_whether_the_death_reproduces_alone():
    same = {"outcome": "crash", "signal": "SIGABRT", "key": "SIGABRT: x", "same_signature": True, "data_limit": None}
    assert crashkey.fresh_text(same) == "reproduced in a fresh process: SIGABRT, the same signature"
    alone = {**same, "outcome": "returned", "signal": None, "key": None, "same_signature": False}
    assert "needs what ran before it in the worker" in crashkey.fresh_text(alone)


def _faulty_case(surface):
    from conformance.core.spec import Conv
    conv = Conv((4,), (3,), (2,), (1,))
    case = Case(conv, {"padding": [1], "output_padding": [0]}, "float32", "cpu", 0, fault="stride:none")
    fault = next(f for f in robustness.faults(surface, surface.arguments(case.params, conv, "float32", "cpu"))
                 if f.label == "stride:none")
    return case, fault


def test_a_call_that_hangs_is_killed_after_the_timeout_and_recorded_as_hang(monkeypatch):
    monkeypatch.setenv("FAKE_MUTATION", "hang-on-malformed-stride")
    surface, = load().surfaces
    case, fault = _faulty_case(surface)
    monkeypatch.setattr(robustness, "_worker", isolate.Worker(timeout=3))
    try:
        out = robustness.run(surface, case, fault)
    finally:
        robustness._worker.close()
    assert out.kind == "crash" and out.behaviour["signal"] == "hang", out
    assert out.behaviour["key"] == "hang: no reply within the worker's timeout"
