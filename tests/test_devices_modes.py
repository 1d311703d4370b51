"""Devices, execution modes, dtypes and determinism, without a framework or a GPU: device discovery, selection and
skips; an absent device stops the run with one line; the cross-device, mode and dtype properties on a fake with a
fake GPU (tests/fake_device_adapter.py) and its device- and mode-specific bugs; the dtype bounds themselves."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.core import bounds, reference
from conformance.core.compare import compare
from conformance.core.spec import Conv, Problem, Window
from conformance.harness import agreement
from conformance.harness import records as records_mod
from conformance.harness.check import Case, Outcome, dtype_unavailable, make_inputs, run_case
from conformance.harness.reproducer import reproducer
from conformance.harness.surface import EAGER, Adapter, Device, Documented, Mode
from tests.fake_device_adapter import FakeDeviceSurface, fake_device_call
from tests.plugin_runs import run_plugin

FAKE_GPU = {"CONFORMANCE_ADAPTERS": "fake=tests.fake_device_adapter"}
PROPS = ("suites/test_devices.py", "suites/test_modes.py", "suites/test_dtypes.py")
CONV = Conv((4, 3), (3, 2), (2, 1), (1, 2), batch=2, c_in=4, c_out=6, groups=2, bias=True)
WINDOW = Window((1, 0), (CONV.full_size[0] - 2, CONV.full_size[1]))


# -- device discovery and selection -----------------------------------------------------------------------------
def test_device_selection_by_kind_and_name():
    import conftest
    adapter = Adapter("fw", "1", [Device("cpu", "cpu", "A CPU"), Device("gpu:0", "gpu", "G0"),
                                  Device("gpu:1", "gpu", "G1")], [])
    assert conftest._device_names(adapter, "cpu") == ["cpu"]
    assert conftest._device_names(adapter, "gpu") == ["gpu:0", "gpu:1"]
    assert conftest._device_names(adapter, "all") == ["cpu", "gpu:0", "gpu:1"]
    assert conftest._device_names(adapter, "gpu:1") == ["gpu:1"]
    assert conftest._device_names(adapter, "gpu:7") == []
    assert adapter.devices[1].description == "gpu:0 (G0)"


@pytest.mark.parametrize("device, line", [
    ("gpu:3", "--device gpu:3: no selected framework has a device named gpu:3; found: fake: cpu (NumPy), "
              "gpu:0 (Fake GPU 9000)"),
    ("tpu", "--device tpu: no selected framework has a device named tpu; found: fake: cpu (NumPy), gpu:0"),
])
def test_an_absent_device_is_one_line_listing_the_devices_found(tmp_path, device, line):
    run = run_plugin(tmp_path, "--device", device, env=FAKE_GPU, profile="dev", paths=PROPS)
    assert run.returncode not in (0, 1), run.output
    assert line in run.output and "Traceback" not in run.output, run.output


def test_a_framework_without_the_device_is_a_skip_while_another_has_it(tmp_path):
    env = {"CONFORMANCE_ADAPTERS": "fake=tests.fake_device_adapter,cpuonly=tests.fake_adapter"}
    run = run_plugin(tmp_path, "--framework", "fake,cpuonly", "--device", "gpu", "-rs", env=env, profile="dev",
                     paths=("suites/test_conformance.py",))
    assert run.returncode == 0, run.output[-3000:]
    assert "--device gpu: fake has no such device (found: cpu (NumPy))" in run.output, run.output[-3000:]
    devices = {r["device"] for r in records_mod.read(run.records)}
    assert devices == {"gpu:0"}, devices


# -- the cross-device, mode and dtype properties on the fake GPU --------------------------------------------------
@pytest.fixture(scope="module")
def correct_run(tmp_path_factory):
    """The three properties on the correct fake, every device (cpu and the fake gpu:0)."""
    tmp = tmp_path_factory.mktemp("correct")
    return run_plugin(tmp, "--device", "all", "-rs", env=FAKE_GPU, profile="dev", paths=PROPS)


def test_the_properties_run_on_every_device_and_mode(correct_run):
    run = correct_run
    assert run.returncode == 0, run.output[-3000:]
    recs = records_mod.read(run.records)
    props = {(r["property"], r["device"], r["mode"]) for r in recs}
    assert {("devices", "gpu:0", "eager"), ("device-agreement", "gpu:0", "eager"),
            ("determinism", "gpu:0", "eager"), ("modes", "cpu", "jit"), ("modes", "gpu:0", "jit"),
            ("mode-agreement", "cpu", "jit"), ("determinism", "cpu", "jit"), ("determinism", "cpu", "eager"),
            ("dtypes", "cpu", "eager"), ("dtypes", "gpu:0", "eager")} <= props, props
    models = {(r["device"], r["device_model"]) for r in recs}
    assert models == {("cpu", "NumPy"), ("gpu:0", "Fake GPU 9000")}, models
    assert {r["dtype"] for r in recs if r["property"] == "dtypes"} == {"float16"}
    assert all(r["status"] == "pass" for r in recs), [r["detail"] for r in recs if r["status"] != "pass"][:3]
    # the CPU target of the cross-device property skips, saying why; bfloat16 skips: the fake does not take it
    assert "cross-device runs on GPU targets, each against the CPU" in run.output, run.output[-3000:]
    assert "fake:fake.conv_transpose does not take bfloat16" in run.output, run.output[-3000:]


def test_the_mode_and_device_records_carry_reproducers_of_that_mode_and_device(correct_run):
    recs = records_mod.read(correct_run.records)
    jit = next(r for r in recs if r["property"] == "modes" and r["device"] == "gpu:0")
    assert ", mode jit;" in jit["reproducer"] and "device='gpu:0'" in jit["reproducer"] \
        and "mode='jit'" in jit["reproducer"], jit["reproducer"]


def test_without_a_gpu_the_cross_device_property_skips_with_the_reason(tmp_path):
    run = run_plugin(tmp_path, "-rs", env={**FAKE_GPU, "FAKE_GPUS": "0"}, profile="dev", paths=PROPS)
    assert run.returncode == 0, run.output[-3000:]
    assert "cross-device: fake found no GPU (devices: cpu (NumPy))" in run.output, run.output[-3000:]


def test_a_surface_with_only_eager_calls_skips_the_mode_property(tmp_path):
    run = run_plugin(tmp_path, "-rs", profile="dev", paths=("suites/test_modes.py",))
    assert run.returncode == 0, run.output[-3000:]
    assert "fake:fake.conv_transpose has only eager calls" in run.output, run.output[-3000:]


GPU_REFUSAL = '''
[[divergence]]
id = "fake-gpu-refuses-stride-3"
surface = "fake:*"
when = "device != 'cpu' and 3 in stride"
kind = "error-vs-result"
reason = "the fake GPU raises on stride 3"
behaviour = { raises = "ValueError", message = "^fake: stride 3 is not implemented on the GPU" }
'''


def test_a_gpu_only_refusal_is_a_device_divergence(tmp_path):
    """Listed as an expected refusal on the GPU, the call still disagrees with the CPU's result: kind device."""
    expectations = tmp_path / "expected.toml"
    expectations.write_text(GPU_REFUSAL)
    run = run_plugin(tmp_path, "--device", "gpu", "--expectations", str(expectations), profile="ci",
                     env={**FAKE_GPU, "FAKE_DEVICE_MUTATION": "gpu-refuses-stride-3"},
                     paths=("suites/test_devices.py",))
    assert run.returncode == 1, run.output[-3000:]
    assert "NEW device on fake:fake.conv_transpose (device-agreement)" in run.output, run.output[-3000:]
    failing = [r for r in records_mod.read(run.records) if r["status"] == "divergence" and r["final"]]
    assert failing and failing[0]["kind"] == "device" and "verdict" in failing[0]["detail"], failing[:1]
    expectations.write_text(GPU_REFUSAL + GPU_REFUSAL.replace('"error-vs-result"', '"device"')
                            .replace("fake-gpu-refuses-stride-3", "fake-gpu-refuses-stride-3-device")
                            .replace('raises = "ValueError", message = "^fake: stride 3 is not implemented on the GPU"',
                                     'differs_in = "verdict", first = "^pass", second = "^divergence error-vs-result: '
                                     'raised ValueError: fake: stride 3"'))
    again = run_plugin(tmp_path, "--device", "gpu", "--expectations", str(expectations), profile="ci",
                       env={**FAKE_GPU, "FAKE_DEVICE_MUTATION": "gpu-refuses-stride-3"},
                       paths=("suites/test_devices.py",))
    assert again.returncode == 0, again.output[-3000:]


def test_a_nondeterministic_gpu_is_caught_with_the_largest_difference(tmp_path):
    run = run_plugin(tmp_path, "--device", "gpu", profile="ci",
                     env={**FAKE_GPU, "FAKE_DEVICE_MUTATION": "gpu-nondeterministic"},
                     paths=("suites/test_devices.py",))
    assert run.returncode == 1, run.output[-3000:]
    failing = [r for r in records_mod.read(run.records) if r["status"] == "divergence" and r["final"]]
    assert failing and failing[0]["kind"] == "nondeterminism", failing[:1]
    assert "max |difference|" in failing[0]["detail"], failing[0]["detail"]
    # the values are within the bound: the property against the reference and the CPU agreement pass
    assert all(r["status"] == "pass" for r in records_mod.read(run.records) if r["property"] != "determinism")


def test_documented_nondeterminism_is_recorded_not_failed(tmp_path):
    run = run_plugin(tmp_path, "--device", "gpu", profile="ci",
                     env={**FAKE_GPU, "FAKE_DEVICE_MUTATION": "gpu-nondeterministic", "FAKE_ND_DOC": "1"},
                     paths=("suites/test_devices.py",))
    assert run.returncode == 0, run.output[-3000:]
    noted = [r for r in records_mod.read(run.records)
             if r["property"] == "determinism" and "documented:" in r["detail"]]
    assert noted and "max |difference|" in noted[0]["detail"], noted[:1]


def test_a_jit_only_value_error_is_a_mode_divergence(tmp_path):
    run = run_plugin(tmp_path, profile="ci", env={**FAKE_GPU, "FAKE_DEVICE_MUTATION": "jit-wrong-values"},
                     paths=("suites/test_modes.py",))
    assert run.returncode == 1, run.output[-3000:]
    assert "NEW value on fake:fake.conv_transpose (modes)" in run.output, run.output[-3000:]
    expectations = tmp_path / "expected.toml"
    expectations.write_text('[[divergence]]\nid = "fake-jit-values"\nsurface = "fake:*"\nwhen = "mode == \'jit\'"\n'
                            'kind = "value"\nreason = "the fake jit adds 1e-3"\n'
                            'behaviour = { err_over_bound = [1.0, 1e300], wrong_elements = [1, 1] }\n')
    again = run_plugin(tmp_path, "--expectations", str(expectations), profile="ci",
                       env={**FAKE_GPU, "FAKE_DEVICE_MUTATION": "jit-wrong-values"}, paths=("suites/test_modes.py",))
    assert again.returncode == 1, again.output[-3000:]
    assert "NEW mode on fake:fake.conv_transpose (mode-agreement)" in again.output, again.output[-3000:]
    recs = records_mod.read(again.records)
    assert {r["mode"] for r in recs if r["property"] == "modes"} == {"jit"}
    assert any(r["status"] == "expected" and r["expected_divergence"] == "fake-jit-values" for r in recs)


# -- mode switching, in-process --------------------------------------------------------------------------------
def test_the_case_mode_reaches_the_call_and_the_reproducer(monkeypatch):
    monkeypatch.setenv("FAKE_DEVICE_MUTATION", "jit-refuses-stride-3")
    surface = FakeDeviceSurface(framework="fake", name="fake.conv_transpose", doc="", groups=True, bias=True,
                                modes=(EAGER, Mode("jit")), call=fake_device_call)
    conv = Conv((3,), (2,), (3,), (1,), batch=1, c_in=1, c_out=1)
    case = Case(conv, {"padding": [0], "output_padding": [0]}, "float32", "cpu", seed=3)
    assert run_case(surface, case).verdict == "pass"
    jit = agreement.in_mode(case, "jit")
    assert run_case(surface, jit).kind == "error-vs-result"
    assert "mode='jit'" in reproducer(surface, jit) and ", mode jit;" in reproducer(surface, jit)
    assert "mode=jit" in jit.describe() and "mode=" not in case.describe()
    out = agreement.agree("mode", surface, agreement.run(surface, case), agreement.run(surface, jit))
    assert out.verdict == "divergence" and out.kind == "mode" and "verdict" in out.detail


def test_agreement_within_both_bounds_passes_and_beyond_them_fails():
    surface = FakeDeviceSurface(framework="fake", name="fake.conv_transpose", doc="", groups=True, bias=True,
                                call=fake_device_call)
    case = Case(CONV, {"padding": [1, 0], "output_padding": [1, 0]}, "float32", "cpu", seed=5)
    a = agreement.run(surface, case)
    assert a.outcome.verdict == "pass"
    x, w, b = make_inputs(CONV, "float32", 5)
    bound = bounds.error_bound(x, w, b, Problem(CONV, a.outcome.documented.window, "float32"))
    near = agreement.Run(case, a.outcome, (a.y + 0.9 * bound).astype(np.float32))
    assert agreement.agree("device", surface, a, near).verdict == "pass"
    far = agreement.Run(case, a.outcome, a.y + 3 * bound)     # both passing outcomes, values 1.5 bounds apart
    out = agreement.agree("device", surface, a, far)
    assert out.kind == "device" and out.comparison.ratio == pytest.approx(1.5, rel=0.01), out


def test_determinism_of_equal_and_unequal_pairs():
    surface = FakeDeviceSurface(framework="fake", name="fake.conv_transpose", doc="", groups=True, bias=True,
                                call=fake_device_call)
    case = Case(CONV, {"padding": [1, 0], "output_padding": [1, 0]}, "float32", "cpu", seed=5)
    one, two = agreement.twice(surface, case)
    assert agreement.determinism(surface, one, two).verdict == "pass"
    nan = one.y.copy()
    nan.flat[0] = np.nan
    assert agreement.determinism(surface, agreement.Run(case, one.outcome, nan),
                                 agreement.Run(case, one.outcome, nan.copy())).verdict == "pass"
    off = one.y.copy()
    off.flat[3] += 2.0 ** -10
    out = agreement.determinism(surface, one, agreement.Run(case, one.outcome, off))
    assert out.kind == "nondeterminism" and "max |difference| 0.000977 in 1 of" in out.detail, out.detail


# -- dtypes ---------------------------------------------------------------------------------------------------
def _rounded(dtype: str):
    x, w, b = make_inputs(CONV, dtype, 11)
    problem = Problem(CONV, WINDOW, dtype)
    exact = reference.conv_transpose(x, w, b, problem)
    return x, w, b, problem, exact


def test_a_float16_result_beyond_its_bound_is_caught_and_one_within_is_not():
    x, w, b, problem, exact = _rounded("float16")
    bound = bounds.error_bound(x, w, b, problem)
    within = (exact + 0.5 * bound).astype(np.float16)          # plus float16's own final rounding: still < 1
    assert compare(within, x, w, b, problem).kind == "pass"
    beyond = exact.astype(np.float16)
    beyond[1, 2, 3, 1] = np.float16(exact[1, 2, 3, 1] + 3 * bound[1, 2, 3, 1])
    got = compare(beyond, x, w, b, problem)
    assert got.kind == "value" and 2.0 < got.ratio < 4.0, got


def test_a_documented_float32_accumulation_tightens_the_float16_bound():
    x, w, b, problem, exact = _rounded("float16")
    own = bounds.error_bound(x, w, b, problem)
    f32 = bounds.error_bound(x, w, b, problem, accumulate="float32")
    assert np.all(f32 < own) and np.median(own / f32) > 5      # the shared underflow term aside
    assert np.all(f32 >= bounds.UNIT_ROUNDOFF["float16"] * np.abs(exact))    # one rounding to float16 always fits
    rounded = exact.astype(np.float16)                                         # float32 sums, rounded once: passes
    assert compare(rounded, x, w, b, problem, accumulate="float32").kind == "pass"
    sloppy = exact.astype(np.float16)
    sloppy[0, 0, 0, 0] = np.float16(exact[0, 0, 0, 0] + 0.5 * own[0, 0, 0, 0])  # fine for float16 sums, not float32
    assert compare(sloppy, x, w, b, problem).kind == "pass"
    assert compare(sloppy, x, w, b, problem, accumulate="float32").kind == "value"


def test_tensorfloat32_inputs_pass_the_tf32_bound_and_fail_the_float32_one():
    x, w, b = make_inputs(CONV, "float32", 4)
    problem = Problem(CONV, WINDOW, "float32")

    def tf32(a):   # keep 10 mantissa bits (round to nearest), as TF32 tensor cores read float32 inputs
        bits = np.asarray(a, np.float32).view(np.uint32)
        return ((bits + 0x1000) & np.uint32(0xFFFFE000)).view(np.float32)
    y = reference.conv_transpose(tf32(x), tf32(w), b, problem).astype(np.float32)
    assert compare(y, x, w, b, problem).kind == "value"
    assert compare(y, x, w, b, problem, accumulate="tfloat32").kind == "pass"


def test_bfloat16_inputs_are_rounded_or_skipped_with_the_reason():
    reason = dtype_unavailable("bfloat16")
    if reason is not None:
        assert "ml_dtypes" in reason
        with pytest.raises(Exception, match="ml_dtypes"):
            make_inputs(CONV, "bfloat16", 0)
        return
    x, w, b = make_inputs(CONV, "bfloat16", 0)
    assert x.dtype.name == "bfloat16"
    x64 = np.asarray(x, np.float64)
    assert np.array_equal(x64, np.asarray(np.asarray(x64, np.float32).astype(x.dtype), np.float64))
    assert np.max(np.abs(x64 - np.random.default_rng(0).standard_normal(CONV.input_shape)) / np.abs(x64)) <= 2 ** -8


def test_an_unsupported_dtype_is_a_skip_with_the_reason(tmp_path):
    run = run_plugin(tmp_path, "-rs", env=FAKE_GPU, profile="dev", paths=("suites/test_dtypes.py",))
    assert run.returncode == 0, run.output[-3000:]
    assert "does not take bfloat16 (its dtypes: float16, float32, float64)" in run.output, run.output[-3000:]


def test_outcome_of_agreement_serialises_like_any_other():
    """An agreement outcome that holds no comparison still says what came out (the record's `actual`)."""
    out = Outcome("divergence", "mode", Documented(), detail="x", observed="y", shape=(1, 2, 3))
    assert out.shape == (1, 2, 3) and not out.ok
