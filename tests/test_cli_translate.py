"""`python -m conformance translate`, framework-free: every target's parameters give, by its semantic model, the
window the translation claims; the emitted crop/pad/bias steps turn that window into the source's (run here on the
NumPy reference); the emitted weight conversions produce the arrays the targets' calls build; and translations
round-trip (A -> B -> A gives A's window, i.e. A's parameters or an equivalent set)."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conformance.core import reference
from conformance.core.spec import Window
from conformance.explain.translate import translate_to
from suites.strategies import HypothesisDrawer, convs
from tests.cli_helpers import by_name, call_args, cli, cli_json, spelling_ids

STEP = re.compile(r"^y = (np\.pad\(y|y\[|y \+ b\.reshape)")
WEIGHTS = re.compile(r"^(\w+_t = |assert np\.array_equal\()")


def _steps(code: str, pattern) -> str:
    return "\n".join(line for line in code.splitlines() if pattern.match(line))


def _drawn(data, spelling):
    surface = spelling.surface
    conv = data.draw(convs(surface), label="conv")
    params = surface.draw_params(HypothesisDrawer(data), conv)
    return conv, params, surface.semantics(params, conv)


@pytest.mark.parametrize("name", spelling_ids())
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
          derandomize=True)
@given(data=st.data())
def test_translate_agrees_with_the_models_and_round_trips(name, data):
    source = by_name(name)
    conv, params, documented = _drawn(data, source)
    if documented.window is None or min(documented.window.length) < 1:   # refused, left open, or empty
        status, got = cli_json(["translate", *call_args(source, conv, params)])
        assert status == 2 and "error" in got
    assume(documented.window is not None and min(documented.window.length) >= 1)
    want = documented.window
    status, got = cli_json(["translate", *call_args(source, conv, params)])
    assert status == 0, got
    assert (got["source"]["crop"], got["source"]["length"]) == (list(want.crop), list(want.length))
    rng = np.random.default_rng(0)
    x = rng.standard_normal(conv.input_shape)
    w = rng.standard_normal(conv.kernel_shape)
    b = rng.standard_normal(conv.c_out) if conv.bias else None
    full = reference.scatter_full(x, w, conv)
    expected = reference.add_bias(reference.crop_window(full, want), b)
    w_src = eval(source.weights(params, conv).to_native("w", conv), {"np": np, "w": w})  # noqa: S307
    assert {t["name"] for t in got["targets"]} | {t["name"] for t in got["skipped"]}, got
    for skipped in got["skipped"]:
        assert skipped["reason"]
    for t in got["targets"]:
        target = next(s for s in spelling_ids_and_spellings() if s.surface.id == t["surface"])
        adds_bias = "has no bias argument" in t["code"]
        call_conv = dataclasses.replace(conv, bias=False) if adds_bias else conv
        own = target.surface.semantics(t["params"], call_conv)
        assert not own.refused, t
        window = Window(tuple(t["crop"]), tuple(t["length"]))
        assert own.window == window, t
        if t["exact"]:
            assert window == want, t
        # the emitted steps after the call, run on the reference output of the target's window
        y = reference.crop_window(full, window)
        if conv.bias and not adds_bias:
            y = reference.add_bias(y, b)
        scope = {"np": np, "y": y, "b": b}
        exec(_steps(t["code"], STEP), scope)  # noqa: S102
        assert scope["y"].shape == expected.shape, t
        np.testing.assert_allclose(scope["y"], expected, rtol=1e-12, atol=1e-12, err_msg=t["name"])
        # the weight conversion, straight from the source's layout, builds the array the target's call builds
        exec(_steps(t["code"], WEIGHTS), {"np": np, "w": w, "w_src": w_src})  # noqa: S102
        # round trip: the target's call translated back to the source has the source's window
        if t["exact"]:
            back = translate_to(source, call_conv, window, "float32")
            assert back.skipped is None and back.exact and back.window == want, (t, back)
            assert source.surface.semantics(source.passed(back.params), call_conv).window == want


def spelling_ids_and_spellings():
    return [by_name(n) for n in spelling_ids()]


def test_keras_same_to_torch_needs_an_explicit_crop():
    # Keras 'same', k=3, s=2 on 5: L = 10 at crop 0; torch's padding crops both ends, so the closest torch call is
    # the full result (padding=0, L = 11) followed by y[..., 0:10, 0:10]
    status, got = cli_json(["translate", "keras.layers.Conv2DTranspose", "-i", "5x5", "-k", "3", "-s", "2",
                            "--padding", "same", "--to", "torch.nn.functional"])
    assert status == 0
    t, = got["targets"]
    assert not t["exact"] and t["params"] == {"padding": [0, 0], "output_padding": [0, 0]}
    assert "y = y[:, :, 0:10, 0:10]" in t["code"]


def test_torch_padding_to_keras_and_tf():
    # torch padding=1, output_padding=1, k=3, s=2 on 5: crop 1, L = 10 -- TF 'SAME' with output_shape 10 gives crop
    # 0 (the odd pad goes after), so tf.nn.conv2d_transpose needs explicit pads [1, 0]
    status, got = cli_json(["translate", "torch.nn.functional.conv_transpose2d", "-i", "5x5", "-k", "3", "-s", "2",
                            "-p", "1", "--output-padding", "1", "--to", "tf.nn.conv2d_transpose,keras"])
    assert status == 0
    by = {t["name"]: t for t in got["targets"]}
    assert by["tf.nn.conv2d_transpose"]["exact"]
    assert by["tf.nn.conv2d_transpose"]["params"]["padding"] == [[1, 0], [1, 0]]
    assert not by["keras.layers.Conv2DTranspose"]["exact"]


def test_code_flag_prints_only_the_script():
    status, out, _ = cli(["translate", "torch.conv_transpose1d", "-i", "4", "-k", "3", "-s", "2", "--code",
                          "--to", "jax"])
    assert status == 0 and out.startswith("# translate torch.nn.functional.conv_transpose1d(")
    compile(out, "<translate>", "exec")


def test_refused_source_is_bad_input():
    status, out, err = cli(["translate", "torch.conv_transpose1d", "-i", "4", "-k", "3", "-s", "2",
                            "--output-padding", "2"])
    assert status == 2 and "refused by its documentation" in err


def test_unknown_target():
    status, out, err = cli(["translate", "torch.conv_transpose1d", "-i", "4", "-k", "3", "--to", "mxnet"])
    assert status == 2 and "no target surface matches --to 'mxnet'" in err
