"""`python -m conformance solve`: every parameter set it lists gives the wanted window by the surface's semantic
model, and the window of any drawn call the model accepts is found again (the search bounds cover what the suite
draws). Framework-free."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suites.strategies import HypothesisDrawer, convs
from tests.cli_helpers import by_name, cli, cli_json, spelling_ids, x


def _geometry(conv):
    return ["--input", x(conv.in_size), "--kernel", x(conv.kernel), "--stride", x(conv.stride), "--dilation",
            x(conv.dilation), "--in-channels", str(conv.c_in), "--out-channels", str(conv.c_out), "--groups",
            str(conv.groups), "--batch", str(conv.batch), *(["--bias"] if conv.bias else [])]


def _fixed(spelling, params) -> list[str]:
    """The parameters solve does not search (layouts, transpose_kernel, precision) as they were drawn."""
    keep = {p.key: params[p.key] for p in spelling.params if not p.searched and p.key in params and not p.virtual}
    return ["--params", json.dumps(keep)] if keep else []


@pytest.mark.parametrize("name", spelling_ids())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(data=st.data())
def test_solve_finds_the_window_of_a_drawn_call(name, data):
    spelling = by_name(name)
    surface = spelling.surface
    conv = data.draw(convs(surface), label="conv")
    params = surface.draw_params(HypothesisDrawer(data), conv)
    documented = surface.semantics(params, conv)
    if documented.window is None or min(documented.window.length) < 1:
        return      # refused, or left open by the docs (no window to solve for), or empty
    window = documented.window
    surface_name = spelling.name(conv.rank) if spelling.ranked else spelling.names[0]
    status, got = cli_json(["solve", surface_name, *_geometry(conv), *_fixed(spelling, params),
                            f"--output={x(window.length)}", f"--crop={x(window.crop)}", "--max", "5"])
    assert status == 0, got
    assert got["solutions"], got
    for row in got["solutions"]:
        again = surface.semantics(row["params"], conv)
        assert not again.refused, row
        assert (list(again.window.crop), list(again.window.length)) == (row["crop"], row["length"])
        assert (row["crop"], row["length"]) == (list(window.crop), list(window.length))
    # without the crop: still found, and every listed set has the wanted length
    status, got = cli_json(["solve", surface_name, *_geometry(conv), *_fixed(spelling, params),
                            "--output", x(window.length), "--max", "5"])
    assert status == 0 and got["solutions"]
    for row in got["solutions"]:
        assert list(surface.semantics(row["params"], conv).window.length) == list(window.length)


def test_solve_lists_the_torch_ways_to_double_a_size():
    status, got = cli_json(["solve", "torch.nn.functional.conv_transpose2d", "-i", "5x5", "-k", "3", "-s", "2",
                            "-o", "10x10"])
    assert status == 0
    assert [r["params"] for r in got["solutions"]] == [{"padding": [1, 1], "output_padding": [1, 1]}]


def test_solve_keeps_given_parameters_fixed():
    status, got = cli_json(["solve", "tf.nn.conv2d_transpose", "-i", "5x5", "-k", "3", "-s", "2", "-o", "10x10",
                            "--padding", "VALID"])
    assert status == 2 and "closest" in got["error"]   # VALID gives 11..12, never 10
    assert got["closest"]["params"]["padding"] == "VALID"


def test_align_same_is_tensorflows_crop():
    # k=4, s=2, i=5, L=10: TF 'SAME' pads max(4-2, 0) = 2 in total, 1 before: crop 1
    status, got = cli_json(["solve", "jax.lax.conv_general_dilated", "-i", "5", "-k", "4", "-s", "2", "-o", "10",
                            "--align", "same"])
    assert status == 0 and got["wanted"]["crop"] == [1]
    assert got["solutions"][0]["params"]["padding"] == [[2, 2]]


def test_impossible_wanted_shape_says_what_is_closest():
    status, out, err = cli(["solve", "keras.layers.Conv2DTranspose", "-i", "5x5", "-k", "4", "-s", "2",
                            "-o", "11x11"])
    assert status == 2 and out == "" and err.count("\n") == 1
    assert "no parameters of keras.layers.Conv2DTranspose give output 11x11" in err and "closest:" in err
    status, got = cli_json(["solve", "keras.layers.Conv2DTranspose", "-i", "5x5", "-k", "4", "-s", "2",
                            "-o", "11x11"])
    assert status == 2 and got["closest"]["length"] in ([10, 10], [12, 12])


@pytest.mark.parametrize("argv, message", [
    (["-o", "-3x10"], "--output: size -3 is negative"),
    (["-o", "0x10"], "empty"),
    ([], "missing --output"),
    (["-o", "10x10", "--crop", "1", "--align", "same"], "not both"),
    (["-o", "7x7", "--align", "same"], "TensorFlow's 'SAME' cannot give output 7x7"),
])
def test_solve_bad_input(argv, message):
    status, out, err = cli(["solve", "torch.conv_transpose2d", "-i", "5x5", "-k", "3", "-s", "2", *argv])
    assert status == 2 and message in err, err
