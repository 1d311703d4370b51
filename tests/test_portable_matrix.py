"""Portable configurations and the alignment matrix.

The intents' intended windows and the adapters' spellings are checked against hand-computed values (the
formulas in their docstrings, worked by hand), each framework's native idioms against its own documented
semantics over the whole grid, and the matrix against records whose answers are known: synthetic ones, and
a real plugin run on the fake adapter, correct and with its crop off by one.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from adapters import jax as jax_adapter
from adapters import keras as keras_adapter
from adapters import tensorflow as tf_adapter
from adapters import torch as torch_adapter
from conformance.core.spec import Conv
from conformance.harness import records
from conformance.harness.portable import GRID, INTENTS, GridPoint
from conformance.harness.surface import Unexpressible
from conformance.views import matrix
from tests.plugin_runs import ROOT, run_plugin
from tests.strategies import FirstDrawer

SURFACES = {
    "torch-functional": torch_adapter.Functional(framework="torch", name="F", doc=""),
    "torch-module": torch_adapter.Module(framework="torch", name="M", doc=""),
    "tf-generic": tf_adapter.Generic(framework="tensorflow", name="G", doc=""),
    "tf-ranked": tf_adapter.Ranked(framework="tensorflow", name="R", doc=""),
    "keras": keras_adapter.ConvTranspose(framework="keras-x", name="K", doc=""),
    "jax-transpose": jax_adapter.ConvTranspose(framework="jax", name="T", doc="",
                                               extra={"use_consistent_padding": True}),
    "jax-general": jax_adapter.ConvGeneralDilated(framework="jax", name="D", doc=""),
}


def conv1(k, s, d, i) -> Conv:
    return Conv((i,), (k,), (s,), (d,))


@pytest.mark.parametrize("intent, k, s, d, i, crop, length", [
    ("same", 3, 2, 1, 4, 0, 8),                       # c = max(3-2,0)//2 = 0, L = 4*2
    ("same", 5, 2, 1, 4, 1, 8),                       # c = (5-2)//2 = 1
    ("same", 3, 1, 2, 4, 2, 4),                       # k' = 5: c = (5-1)//2 = 2, L = 4
    ("valid", 3, 2, 1, 4, 0, 9),                      # F = 3*2 + 3
    ("exact-size", 3, 2, 1, 7, 1, 13),                # O = 13; forward SAME pad 6*2+3-13 = 2 -> left 1
    ("same-output-padding", 4, 2, 1, 4, 1, 7),        # L = 6 + 4 - 2*2 + 1 = 7; c = (6 + 4 - 7)//2 = 1
    ("torch-half-pad-output-padding", 3, 2, 1, 4, 1, 8),   # p = 1; L = 9 - 2 + 1
    ("torch-half-pad", 4, 1, 1, 5, 2, 4),             # p = 2; F = 8; L = 8 - 4
    ("explicit-asymmetric", 4, 1, 1, 5, 2, 5),        # lo = 2, hi = 1; F = 8; L = 5
])
def test_intended_windows_by_hand(intent, k, s, d, i, crop, length):
    got = INTENTS[intent].window(conv1(k, s, d, i))
    assert got == ((crop,), (length,)), f"{intent} at k={k} s={s} d={d} i={i}"


@pytest.mark.parametrize("surface, intent, k, s, i, params", [
    # the DCGAN generator block: ConvTranspose2d(k=4, s=2, padding=1) doubles the size
    ("torch-functional", "same", 4, 2, 4, {"padding": [1], "output_padding": [0]}),
    # the common k=3 s=2 upsampler: padding=1, output_padding=1
    ("torch-functional", "same", 3, 2, 4, {"padding": [1], "output_padding": [1]}),
    ("torch-module", "exact-size", 3, 2, 7, {"padding": [1], "output_size": [13]}),
    ("keras", "exact-size", 3, 2, 7, {"padding": "same", "output_padding": [0], "data_format": "channels_last",
                                      "device_scope": None}),
    ("keras", "valid", 3, 2, 7, {"padding": "valid", "output_padding": None, "data_format": "channels_last",
                                 "device_scope": None}),
    # conv1d_transpose documents no explicit pads: the port falls back to 'SAME' with the wanted size
    ("tf-ranked", "torch-half-pad", 3, 1, 5, {"padding": "SAME", "output_shape": [5], "data_format": "NWC"}),
    ("tf-generic", "torch-half-pad", 3, 1, 5, {"padding": "SAME", "output_shape": [5], "data_format": "NWC",
                                               "filters_layout": "op"}),
    # jax.lax.conv_transpose's own SAME pads for k=3 s=2: pad_len 3, pad_a = ceil(3/2) = 2
    ("jax-general", "same", 3, 2, 4, {"padding": [[2, 1]], "layout": "channels_last", "precision": None}),
    ("jax-general", "torch-half-pad-output-padding", 3, 2, 4,
     {"padding": [[1, 2]], "layout": "channels_last", "precision": None}),
])
def test_spellings_by_hand(surface, intent, k, s, i, params):
    assert SURFACES[surface].spell(intent, conv1(k, s, 1, i)) == params


def test_tf_conv2d_transpose_takes_a_pytorch_padding_as_explicit_pads():
    conv = Conv((5, 5), (3, 3), (1, 1), (1, 1))
    assert SURFACES["tf-ranked"].spell("torch-half-pad", conv) == {
        "padding": [[1, 1], [1, 1]], "output_shape": [5, 5], "data_format": "NHWC"}


def test_keras_cannot_express_an_explicit_crop():
    with pytest.raises(Unexpressible, match="Cropping"):
        SURFACES["keras"].spell("explicit-asymmetric", conv1(3, 2, 1, 4))


@pytest.mark.parametrize("name", SURFACES)
def test_spellings_use_the_parameter_names_the_strategies_draw(name):
    """Expected-divergence predicates name a surface's parameters: a spelling must use the same keys."""
    surface = SURFACES[name]
    conv = GRID[0].conv()
    drawn = set(surface.draw_params(FirstDrawer(), conv))
    for intent in INTENTS:
        try:
            assert set(surface.spell(intent, conv)) == drawn, intent
        except Unexpressible:
            pass


NATIVE = [   # (surface, intent): the surface documents the intent itself, so its documented window IS the intent
    ("torch-functional", "torch-half-pad"), ("torch-functional", "torch-half-pad-output-padding"),
    ("torch-functional", "valid"), ("torch-module", "torch-half-pad"),
    ("tf-ranked", "same"), ("tf-generic", "same"), ("tf-ranked", "exact-size"), ("tf-ranked", "explicit-asymmetric"),
    ("tf-ranked", "valid"), ("keras", "same"), ("keras", "same-output-padding"),
    ("jax-transpose", "same"), ("jax-general", "torch-half-pad"),
]


@pytest.mark.parametrize("surface, intent", NATIVE)
def test_native_spellings_document_the_intended_window_on_the_whole_grid(surface, intent):
    s = SURFACES[surface]
    accepted = 0
    for point in GRID:
        conv = point.conv()
        documented = s.semantics(s.spell(intent, conv), conv)
        if documented.refused:
            continue
        accepted += 1
        assert (documented.window.crop, documented.window.length) == INTENTS[intent].window(conv), point
    assert accepted >= len(GRID) // 2


# -- the matrix, on records whose answers are known ------------------------------------------------------------
def record(surface, intent, point: GridPoint, *, crop=None, length=None, error=None, verdict="pass",
           version="1.0", kind=None):
    conv = point.conv()
    c, n = INTENTS[intent].window(conv)
    actual = {"error": error} if error else {"shape": [1, 1, *(length or n)], "found_crop": crop}
    return {"property": "portable", "intent": intent, "surface": surface, "version": version, "final": True,
            "config": {"in_size": list(conv.in_size), "kernel": list(conv.kernel), "stride": list(conv.stride),
                       "dilation": list(conv.dilation)},
            "actual": actual, "expected": {"crop": list(c), "length": list(n)}, "verdict": verdict, "kind": kind}


P1, P2 = GridPoint(3, 2, 1, 4), GridPoint(4, 2, 1, 4)


def test_matrix_relations_and_groups():
    recs = [record("a:x", "same", P1), record("a:x", "same", P2),
            record("b:y", "same", P1), record("b:y", "same", P2),
            record("c:z", "same", P1, crop=[1, 1], verdict="divergence", kind="crop"),
            record("c:z", "same", P2, length=[9, 9], verdict="divergence", kind="shape"),
            record("d:w", "same", P1, error="ValueError: no"), record("d:w", "same", P2, error="ValueError: no")]
    m = matrix.build(recs)
    rel = {col: {p: r for p, (_, r) in cell.points.items()} for col, cell in m.cells["same"].items()}
    assert rel["a:x"] == {P1: "agrees", P2: "agrees"}
    assert rel["c:z"] == {P1: "shifted +1", P2: "length +1"}
    assert rel["d:w"] == {P1: "refuses", P2: "refuses"}
    assert m.groups("same")[0] == ["a:x", "b:y"]
    text = matrix.render_text(m)
    assert "c:z" in text and "shifted +1 1" in text and "length +1 1" in text and "refuses 2" in text
    assert "identical at every grid point: a:x, b:y" in text


def test_matrix_says_where_a_conversion_surface_changes_what_its_source_does():
    def converted(point, **kw):
        return {**record("conv:x -> exporter", "same", point, **kw), "converts": "a:x"}
    recs = [record("a:x", "same", P1), record("a:x", "same", P2),
            converted(P1), converted(P2, crop=[2, 2], verdict="divergence", kind="crop"),   # intended: crop 1
            {**record("lost:y -> exporter", "same", P1), "converts": "absent:y"}]
    m = matrix.build(recs)
    got = m.converted("same")
    assert got["conv:x -> exporter"]["kept"] == 1
    (point, before, after), = got["conv:x -> exporter"]["changed"]
    assert point == P2 and before.crop == (1, 1) and after.crop == (2, 2)
    assert got["lost:y -> exporter"]["source"] is None
    text = matrix.render_text(m)
    assert "converted: conv:x -> exporter keeps what a:x does at 1 of 2 points; changes it at 1" in text
    assert "source c=1x1, L=8x8, converted c=2x2, L=8x8" in text
    assert "its source absent:y has no records of this intent" in text
    changed = matrix.to_json(m)["intents"]["same"]["converted"]["conv:x -> exporter"]
    assert changed["kept"] == 1 and changed["changed"][0]["converted"] == "c=2x2, L=8x8"


def test_matrix_keeps_two_versions_of_a_surface_apart():
    m = matrix.build([record("a:x", "valid", P1, version="1.0"),
                      record("a:x", "valid", P1, version="2.0", crop=[1, 1], verdict="divergence", kind="crop")])
    assert set(m.cells["valid"]) == {"a:x [1.0]", "a:x [2.0]"}


def test_matrix_cli_merges_files_reads_damaged_ones_and_refuses_missing(tmp_path):
    (tmp_path / "a.jsonl").write_text(json.dumps({"schema": 1, **record("a:x", "same", P1)}) + "\n")
    (tmp_path / "b.jsonl").write_text(json.dumps({"schema": 1, **record("b:y", "same", P1)}) + "\n{\"sche")
    cmd = [sys.executable, "-m", "conformance", "matrix"]
    run = subprocess.run([*cmd, str(tmp_path), "--json"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert set(json.loads(run.stdout)["intents"]["same"]["surfaces"]) == {"a:x", "b:y"}
    assert "damaged record" in run.stderr
    run = subprocess.run([*cmd, str(tmp_path / "nope.jsonl")], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 2 and "no records file" in run.stderr


@pytest.fixture(scope="module")
def fake_matrices(tmp_path_factory):
    """The matrix of a real plugin run on the fake adapter (PyTorch semantics), correct and mutated."""
    out = {}
    for mutation in ("none", "crop-off-by-one"):
        run = run_plugin(tmp_path_factory.mktemp(mutation), "-k", "portable", mutation=mutation, profile="dev",
                         env={"CONFORMANCE_ADAPTERS": "fake=tests.fake_portable_adapter"})
        out[mutation] = (run, matrix.build(records.read(run.records)))
    return out


def test_a_correct_surface_with_torch_semantics_shows_torch_alignment(fake_matrices):
    run, m = fake_matrices["none"]
    assert run.returncode == 0, run.output
    (cell,) = m.cells["torch-half-pad-output-padding"].values()
    assert set(cell.counts()) == {"agrees"} and len(cell.points) == len(GRID)
    (cell,) = m.cells["same"].values()
    # PyTorch's 'same' spelling puts the window ceil((k'-s)/2) in: one later than TF when k'-s is odd
    for point, (obs, rel) in cell.points.items():
        kd = point.d * (point.k - 1) + 1
        if rel != "refuses":
            assert rel == ("shifted +1" if kd > point.s and (kd - point.s) % 2 else "agrees"), point


def test_the_matrix_shows_what_the_surface_did_not_what_it_documents(fake_matrices):
    run, m = fake_matrices["crop-off-by-one"]
    assert run.returncode == 1 and "grid points diverge" in run.output
    (cell,) = m.cells["valid"].values()
    # the mutant starts the last dimension's window one late: a crop shift the matrix must show
    assert cell.counts()["shifted +1"] > 0, cell.counts()
