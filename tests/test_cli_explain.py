"""`python -m conformance explain`: from a command line, it reports exactly what the surfaces' semantic models say,
and the formulas it fills in are the models' own rules (conformance.core.rules) worked with the numbers, over
Hypothesis-drawn configurations of every surface. Framework-free: the frameworks are never imported here (the --verify
tests are in test_cli_verify.py)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suites.strategies import HypothesisDrawer, convs
from tests.cli_helpers import by_name, call_args, cli, cli_json, spelling_ids


@pytest.mark.parametrize("name", spelling_ids())
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(data=st.data())
def test_explain_agrees_with_the_semantic_model(name, data):
    spelling = by_name(name)
    surface = spelling.surface
    conv = data.draw(convs(surface), label="conv")
    params = surface.draw_params(HypothesisDrawer(data), conv)
    documented = surface.semantics(params, conv)
    status, got = cli_json(["explain", *call_args(spelling, conv, params)])
    assert status == 0, got
    assert got["surface"] == surface.id
    assert got["params"] == json.loads(json.dumps(params))
    assert [d["F"] for d in got["dims"]] == list(conv.full_size)
    assert got["formula_disagreements"] == []
    left_open = documented.window is None and not documented.refused
    if documented.refused:
        assert got["refused"] == {"reason": documented.refusal.reason, "doc": documented.refusal.doc}
        assert got["window"] is None and got["output_shape"] is None
    elif left_open:      # an edge the docs leave open (rules: open checks): no window, no refusal, the reason shown
        assert got["refused"] is None and got["window"] is None and got["output_shape"] is None
        assert got["open"] == {"reason": documented.rule, "doc": documented.doc}
    else:
        assert got["refused"] is None
        assert got["window"] == {"crop": list(documented.window.crop), "length": list(documented.window.length)}
        assert got["output_shape"][0] == conv.batch and conv.c_out in got["output_shape"]
    for axis, dim in enumerate(got["dims"]):
        formula = dim["formula"]
        if not documented.refused and not left_open:
            # the filled-in formula computes the model's c and L, and none of the documented conditions fails
            assert formula["lines"], f"{name}: no documented formula for accepted params {params}"
            assert (formula["c"], formula["L"]) == (dim["c"], dim["L"])
            assert all(ch["ok"] for ch in formula["checks"]), formula
            assert formula["source"]
    if any(not ch["ok"] for ch in got["call_checks"]) or \
            any(not ch["ok"] for d in got["dims"] for ch in d["formula"]["checks"]):
        assert documented.refused or left_open, f"{name}: a documented condition fails, yet the model accepts {params}"
    if left_open:        # only conditions the docs leave open fail
        assert all(ch["ok"] for ch in got["call_checks"])


def test_explain_text_fills_in_the_numbers():
    status, out, _ = cli(["explain", "torch.conv_transpose2d", "--input", "7x7", "-k", "4", "-s", "2", "-p", "1"])
    assert status == 0
    assert "L = (i-1)*s - 2*padding + d*(k-1) + output_padding + 1 = (7 - 1) * 2 - 2 * 1 + 1 * (4 - 1) + 0 + 1 = 14" \
        in out
    assert "-> output (1, 1, 14, 14)" in out and "c = 1x1, L = 14x14" in out
    assert "https://pytorch.org/docs/stable/generated/torch.nn.functional.conv_transpose2d.html" in out


@pytest.mark.parametrize("argv, window", [
    # Keras 'same', k=4, s=2, output_padding=1: (5-1)*2 + 4 - 2*2 + 1 = 9, crop (8 + 4 - 9)//2 = 1
    (["keras.layers.Conv2DTranspose", "--input", "5x5", "-k", "4", "--strides", "2", "--padding", "same",
      "--output-padding", "1"], ([1, 1], [9, 9])),
    # a whole channels-last input shape, per-dimension output_shape, TF 'SAME' puts the odd pad at the end
    (["tf.nn.conv2d_transpose", "--input", "2x5x5x3", "-k", "3", "-s", "2", "--output-shape", "9x10",
      "--out-channels", "4"], ([1, 0], [9, 10])),
    # channels-first via --data-format: the whole shape is read as NCHW
    (["tf.nn.conv2d_transpose", "--input", "2x3x5x5", "-k", "3", "-s", "2", "--output-shape", "10",
      "--data-format", "NCHW"], ([0, 0], [10, 10])),
    # per-dimension parameters, rank 3
    (["torch.nn.ConvTranspose3d", "--input", "3x4x5", "-k", "3,2,1", "-s", "1,2,3", "-p", "1,0,0",
      "--output-size", "3x8x13"], ([1, 0, 0], [3, 8, 13])),
    # jax explicit pairs, PyTorch-style
    (["jax.lax.conv_transpose", "--input", "5", "-k", "3", "-s", "2", "-p", "2:0", "--use-consistent-padding"],
     ([2], [9])),
    (["lax.conv_general_dilated", "--input", "5", "-k", "4", "-p", "SAME_LOWER"], ([1], [5])),
])
def test_explain_worked_examples(argv, window):
    status, got = cli_json(["explain", *argv])
    assert status == 0, got
    assert (got["window"]["crop"], got["window"]["length"]) == window


def test_explain_whole_shape_sets_batch_and_channels():
    status, got = cli_json(["explain", "keras.Conv1DTranspose", "--input", "2x7x3", "-k", "3", "-s", "2",
                            "--filters", "5"])
    assert status == 0, got
    assert got["input_shape"] == [2, 7, 3] and got["output_shape"] == [2, 15, 5]
    assert got["conv"]["c_in"] == 3 and got["conv"]["batch"] == 2


def test_explain_refusal_names_the_reason_and_the_doc():
    status, got = cli_json(["explain", "torch.nn.functional.conv_transpose1d", "--input", "6", "-k", "3", "-s", "2",
                            "--output-padding", "2"])
    assert status == 0
    assert "output_padding only resolves the stride ambiguity" in got["refused"]["reason"]
    assert "0 <= output_padding < s fails with output_padding=2, s=2" in got["refused"]["reason"]
    assert got["refused"]["doc"].startswith("https://pytorch.org/")
    assert not got["dims"][0]["formula"]["checks"][1]["ok"]


def test_list_names_every_surface_of_every_adapter():
    status, out, _ = cli(["explain", "--list"])
    assert status == 0
    for surface in ("tensorflow:tf.nn.conv_transpose", "tensorflow:tf.nn.conv{1,2,3}d_transpose",
                    "keras-tensorflow:keras.layers.ConvTranspose", "torch:torch.nn.functional.conv_transpose",
                    "torch:torch.nn.ConvTranspose(output_size=)", "jax:jax.lax.conv_transpose",
                    "jax:jax.lax.conv_general_dilated", "onnxruntime:onnx.ConvTranspose"):
        assert surface in out
    status, got = cli_json(["explain", "--list"])
    assert status == 0 and len(got["surfaces"]) == 8


def test_keras_backend_picks_the_surface():
    status, got = cli_json(["explain", "keras.Conv2DTranspose", "-i", "4x4", "-k", "3", "--backend", "jax"])
    assert status == 0 and got["surface"] == "keras-jax:keras.layers.ConvTranspose"


@pytest.mark.parametrize("verb", ["explain", "solve", "translate"])
@pytest.mark.parametrize("argv, message", [
    (["keras.Conv2DTransposed", "-i", "5x5", "-k", "3"], "unknown surface 'keras.Conv2DTransposed'; did you mean"),
    (["conv_transpose", "-i", "5", "-k", "3"], "is ambiguous"),
    (["torch.conv_transpose2d", "-k", "3"], "missing --input"),
    (["torch.conv_transpose2d", "-i", "5x5"], "missing --kernel"),
    (["torch.conv_transpose2d", "-i", "5x-5", "-k", "3"], "negative"),
    (["torch.conv_transpose2d", "-i", "5x5", "-k", "3", "-s", "0"], "--stride: 0 is zero"),
    (["torch.conv_transpose2d", "-i", "5x5", "-k", "-3"], "--kernel: -3 is negative"),
    (["torch.conv_transpose2d", "-i", "5x5", "-k", "5000"], "larger than this tool handles"),
    (["torch.conv_transpose2d", "-i", "5x5x5", "-k", "3"], "takes 2 spatial sizes"),
    (["torch.conv_transpose2d", "-i", "5x5", "-k", "3", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["tf.nn.conv2d_transpose", "-i", "5x5", "-k", "3", "-p", "sideways", "--output-shape", "9"],
     "'sideways' is not one of 'SAME', 'VALID'"),
    (["-k", "3"], "name the surface first"),
])
def test_bad_input_is_one_line_and_exit_2(verb, argv, message):
    status, out, err = cli([verb, *argv])
    assert status == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    status, out, err = cli([verb, *argv, "--json"])
    assert status == 2 and err == ""
    got = json.loads(out)
    assert message in got["error"] and got["verb"] == verb


def test_missing_required_parameter_points_at_solve():
    status, out, err = cli(["explain", "tf.nn.conv2d_transpose", "-i", "5x5", "-k", "3", "-s", "2"])
    assert status == 2 and "missing --output-shape" in err and "solve" in err
