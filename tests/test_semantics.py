"""Each adapter's documented semantics on worked examples, computed by hand from the frameworks' docs.

The semantic models are data evaluated by pure functions (conformance.core.rules; no framework import), so these
run in the framework-free selftest env.
Each case: (surface function, params, conv) -> expected (crop, length) per dimension or a refusal.
"""

from __future__ import annotations

import pytest

from adapters import jax as jax_adapter
from adapters import keras as keras_adapter
from adapters import onnxruntime as onnx_adapter
from adapters import tensorflow as tf_adapter
from adapters import torch as torch_adapter
from conformance.core.spec import Conv
from conformance.harness import registry


def conv1(i, k, s, d=1) -> Conv:
    return Conv((i,), (k,), (s,), (d,))


REFUSED = "refused"
OPEN = "open"          # the docs leave the call open: neither a window nor a refusal

# each surface's semantic model: its documented rules (conformance.core.rules), evaluated as the judge evaluates them
TORCH_FUNCTIONAL, TORCH_MODULE = (s.semantics for s in torch_adapter.surfaces())
TF_GENERIC, TF_RANKED = (s.semantics for s in tf_adapter.surfaces())
KERAS, = (s.semantics for s in keras_adapter.surfaces())
JAX_TRANSPOSE, JAX_GENERAL = (s.semantics for s in jax_adapter.surfaces())
ONNX, = (s.semantics for s in onnx_adapter.surfaces())


def onnx(auto_pad=None, pads=None, output_padding=None, output_shape=None) -> dict:
    return {"auto_pad": auto_pad, "pads": pads, "output_padding": output_padding, "output_shape": output_shape}

CASES = [
    # PyTorch ConvTranspose2d docs example: Conv2d(16, 16, 3, stride=2, padding=1) takes 12 -> 6; the
    # ConvTranspose2d with the same arguments and output_size=12 gives 12 back. F = 5*2 + 3 = 13, c = padding = 1.
    ("torch-module-docs-example", TORCH_MODULE, {"padding": [1], "output_size": [12]},
     conv1(6, 3, 2), ((1,), (12,))),
    ("torch-module-smallest", TORCH_MODULE, {"padding": [1], "output_size": [11]},
     conv1(6, 3, 2), ((1,), (11,))),
    ("torch-module-too-big", TORCH_MODULE, {"padding": [1], "output_size": [13]},
     conv1(6, 3, 2), REFUSED),
    # H_out = (6-1)*2 - 2*1 + 1*(3-1) + 1 + 1 = 12
    ("torch-functional-h-out", TORCH_FUNCTIONAL, {"padding": [1], "output_padding": [1]},
     conv1(6, 3, 2), ((1,), (12,))),
    # dilation 2: k' = 5, F = 5*2 + 5 = 15, L = 15 - 4 + 0 = 11
    ("torch-functional-dilated", TORCH_FUNCTIONAL, {"padding": [2], "output_padding": [0]},
     conv1(6, 3, 2, 2), ((2,), (11,))),
    ("torch-output-padding-equal-stride", TORCH_FUNCTIONAL,
     {"padding": [0], "output_padding": [2]}, conv1(6, 3, 2), REFUSED),
    ("torch-negative-padding", TORCH_FUNCTIONAL, {"padding": [-1], "output_padding": [0]},
     conv1(6, 3, 2), REFUSED),
    # tf.nn.conv2d_transpose, 'SAME', i = 3, k = 3, s = 2: forward SAME maps O to ceil(O/2) = 3 for O in 5..6.
    # O = 6: 6 % 2 == 0 -> total pad max(3-2, 0) = 1, pad_top 0.  O = 5: total max(3-1, 0) = 2, pad_top 1.
    ("tf-same-even", TF_RANKED, {"padding": "SAME", "output_shape": [6], "data_format": "NWC"},
     conv1(3, 3, 2), ((0,), (6,))),
    ("tf-same-odd", TF_RANKED, {"padding": "SAME", "output_shape": [5], "data_format": "NWC"},
     conv1(3, 3, 2), ((1,), (5,))),
    ("tf-same-inconsistent", TF_RANKED,
     {"padding": "SAME", "output_shape": [7], "data_format": "NWC"}, conv1(3, 3, 2), REFUSED),
    # 'VALID': forward maps O to floor((O-3)/2)+1 = 3 for O in 7..8 (F = 7)
    ("tf-valid-f", TF_GENERIC, {"padding": "VALID", "output_shape": [7], "data_format": "NWC"},
     conv1(3, 3, 2), ((0,), (7,))),
    ("tf-valid-f-plus-1", TF_GENERIC,
     {"padding": "VALID", "output_shape": [8], "data_format": "NWC"}, conv1(3, 3, 2), ((0,), (8,))),
    ("tf-valid-inconsistent", TF_GENERIC,
     {"padding": "VALID", "output_shape": [9], "data_format": "NWC"}, conv1(3, 3, 2), REFUSED),
    # explicit [[0,0],[2,1],[0,0],[0,0]]-style pads, conv2d_transpose only: O = 7 - 3 = 4 .. 5; c = pad_before
    ("tf-explicit", TF_RANKED,
     {"padding": [[2, 1], [0, 0]], "output_shape": [4, 3], "data_format": "NHWC"},
     Conv((3, 3), (3, 1), (2, 1), (1, 1)), ((2, 0), (4, 3))),
    ("tf-explicit-only-2d", TF_RANKED,
     {"padding": [[2, 1]], "output_shape": [4], "data_format": "NWC"}, conv1(3, 3, 2), REFUSED),
    ("tf-generic-no-explicit", TF_GENERIC,
     {"padding": [[2, 1], [0, 0]], "output_shape": [4, 3], "data_format": "NHWC"},
     Conv((3, 3), (3, 1), (2, 1), (1, 1)), REFUSED),
    # Keras Conv1DTranspose(k=3, s=2): 'same' -> i*s = 10, the forward 'same' conv of 10 pads max(8+3-10, 0) = 1
    # in total, 0 on the left. 'valid' -> F = 11.
    ("keras-same", KERAS,
     {"padding": "same", "output_padding": None, "data_format": "channels_last"}, conv1(5, 3, 2), ((0,), (10,))),
    ("keras-valid", KERAS,
     {"padding": "valid", "output_padding": None, "data_format": "channels_last"}, conv1(5, 3, 2), ((0,), (11,))),
    # k' = 1 < s = 2: inferred i*s + max(k'-s, 0) = 6, one trailing zero past F = 5
    ("keras-valid-small-kernel", KERAS,
     {"padding": "valid", "output_padding": None, "data_format": "channels_last"}, conv1(3, 1, 2), ((0,), (6,))),
    # 'same', output_padding 1: (5-1)*2 + 3 - 2*(3//2) + 1 = 10; crop max(8+3-10, 0)//2 = 0
    ("keras-same-output-padding", KERAS,
     {"padding": "same", "output_padding": [1], "data_format": "channels_last"}, conv1(5, 3, 2), ((0,), (10,))),
    # even kernel: (5-1)*2 + 4 - 2*2 + 1 = 9, crop (8+4-9)//2 = 1
    ("keras-same-even-kernel", KERAS,
     {"padding": "same", "output_padding": [1], "data_format": "channels_last"}, conv1(5, 4, 2), ((1,), (9,))),
    ("keras-output-padding-too-big", KERAS,
     {"padding": "same", "output_padding": [2], "data_format": "channels_last"}, conv1(5, 3, 2), REFUSED),
    ("keras-stride-and-dilation", KERAS,
     {"padding": "same", "output_padding": None, "data_format": "channels_last"},
     Conv((5, 5), (3, 3), (2, 1), (1, 2)), REFUSED),
    # jax.lax.conv_transpose, k = 3, s = 2, i = 5: SAME -> L = 10, c = max(3-2, 0)//2 = 0; VALID -> L = 10 + 1
    ("jax-same", JAX_TRANSPOSE, {"padding": "SAME"}, conv1(5, 3, 2), ((0,), (10,))),
    ("jax-valid", JAX_TRANSPOSE, {"padding": "VALID"}, conv1(5, 3, 2), ((0,), (11,))),
    # explicit pads of the dilated input D = 9: (2, 0) -> c = k'-1-2 = 0, L = 9 + 2 - 3 + 1 = 9
    ("jax-explicit", JAX_TRANSPOSE,
     {"padding": [[2, 0]], "use_consistent_padding": False}, conv1(5, 3, 2), ((0,), (9,))),
    # the same pairs as forward-conv pads (PyTorch style): c = 2, L = F - 2 = 9
    ("jax-explicit-consistent", JAX_TRANSPOSE,
     {"padding": [[2, 0]], "use_consistent_padding": True}, conv1(5, 3, 2), ((2,), (9,))),
    ("jax-unknown-string", JAX_TRANSPOSE, {"padding": "SAME_LOWER"}, conv1(5, 3, 2), REFUSED),
    # a window larger than the padded input: zero positions, an empty dimension (not an error)
    ("jax-empty", JAX_TRANSPOSE, {"padding": [[0, 0]]}, conv1(1, 3, 1, 2), ((4,), (0,))),
    # conv_general_dilated(lhs_dilation=2): pads (k'-1, k'-1) = full correlation -> the whole F = 11
    ("jax-general-full", JAX_GENERAL, {"padding": [[2, 2]]}, conv1(5, 3, 2),
     ((0,), (11,))),
    ("jax-general-same-lower", JAX_GENERAL, {"padding": "SAME_LOWER"},
     conv1(5, 4, 1), ((1,), (5,))),
    # ONNX ConvTranspose-22, i = 5, k = 3, s = 2: F = 4*2 + 3 = 11.
    # pads: output_shape = 2*(5-1) + 0 + 3 - 1 - 0 = 10, cropped pads[start] = 1 from the start
    ("onnx-pads", ONNX, onnx(pads=[[1, 0]]), conv1(5, 3, 2), ((1,), (10,))),
    ("onnx-no-attributes", ONNX, onnx(), conv1(5, 3, 2), ((0,), (11,))),
    ("onnx-output-padding", ONNX, onnx(output_padding=[1]), conv1(5, 3, 2), ((0,), (12,))),
    ("onnx-valid-output-padding", ONNX, onnx(auto_pad="VALID", output_padding=[1]), conv1(5, 3, 2), ((0,), (12,))),
    # SAME_*: output 5*2 = 10, padding 11 - 10 = 1 (odd): at the end for SAME_UPPER, at the beginning for SAME_LOWER
    ("onnx-same-upper", ONNX, onnx(auto_pad="SAME_UPPER"), conv1(5, 3, 2), ((0,), (10,))),
    ("onnx-same-lower", ONNX, onnx(auto_pad="SAME_LOWER"), conv1(5, 3, 2), ((1,), (10,))),
    # ... with output_padding 1 the padding is 12 - 10 = 2: one each side
    ("onnx-same-upper-output-padding", ONNX, onnx(auto_pad="SAME_UPPER", output_padding=[1]), conv1(5, 3, 2),
     ((1,), (10,))),
    # output_shape 8: total_padding = 11 - 8 = 3; SAME_UPPER: pads[start] = 3/2 = 1; else 3 - 3/2 = 2
    ("onnx-output-shape", ONNX, onnx(output_shape=[8]), conv1(5, 3, 2), ((2,), (8,))),
    ("onnx-output-shape-same-lower", ONNX, onnx(auto_pad="SAME_LOWER", output_shape=[8]), conv1(5, 3, 2),
     ((2,), (8,))),
    ("onnx-output-shape-same-upper", ONNX, onnx(auto_pad="SAME_UPPER", output_shape=[8]), conv1(5, 3, 2),
     ((1,), (8,))),
    # "If output_shape is specified pads values are ignored"
    ("onnx-output-shape-ignores-pads", ONNX, onnx(pads=[[3, 3]], output_shape=[8]), conv1(5, 3, 2), ((2,), (8,))),
    # output_padding < stride/dilation: 1 < max(1, 2) with s = 1, d = 2: k' = 5, F = 4 + 5 = 9, L = 10
    ("onnx-output-padding-below-dilation", ONNX, onnx(output_padding=[1]), conv1(5, 3, 1, 2), ((0,), (10,))),
    ("onnx-output-padding-equal-stride", ONNX, onnx(output_padding=[2]), conv1(5, 3, 2), REFUSED),
    ("onnx-pads-and-auto-pad", ONNX, onnx(auto_pad="SAME_UPPER", pads=[[1, 1]]), conv1(5, 3, 2), REFUSED),
    ("onnx-negative-pads", ONNX, onnx(pads=[[-1, 0]]), conv1(5, 3, 2), REFUSED),
    ("onnx-negative-pads-with-output-shape", ONNX, onnx(pads=[[-1, 0]], output_shape=[8]), conv1(5, 3, 2), REFUSED),
    ("onnx-unknown-auto-pad", ONNX, onnx(auto_pad="SAME"), conv1(5, 3, 2), REFUSED),
    ("onnx-output-shape-with-batch-and-channels", ONNX, onnx(output_shape=[1, 1, 8]), conv1(5, 3, 2), REFUSED),
    # output_shape 12 > F: total_padding -1, negative generated pads: the spec does not say
    ("onnx-output-shape-beyond-full", ONNX, onnx(output_shape=[12]), conv1(5, 3, 2), OPEN),
    # SAME_UPPER with k = 1, s = 3, i = 2: F = 4 < i*s = 6, padding -2
    ("onnx-same-upper-kernel-below-stride", ONNX, onnx(auto_pad="SAME_UPPER"), conv1(2, 1, 3), OPEN),
    # pads 2 + 1 on F = 3: an empty output dimension
    ("onnx-empty", ONNX, onnx(pads=[[2, 1]]), conv1(1, 3, 1), OPEN),
    ("onnx-below-empty", ONNX, onnx(pads=[[2, 2]]), conv1(1, 3, 1), REFUSED),
]


@pytest.mark.parametrize("name, rule, params, conv, want", CASES, ids=[c[0] for c in CASES])
def test_documented_semantics_on_worked_examples(name, rule, params, conv, want):
    got = rule(params, conv)
    if want == OPEN:
        assert not got.refused and got.window is None, f"{name}: the docs leave this open, the model gives {got}"
        assert "https://" in got.doc and got.rule.startswith("open: "), got
    elif want == REFUSED:
        assert got.refused, f"{name}: the docs refuse this, the model gives {got}"
        assert "https://" in got.refusal.doc, got.refusal
    else:
        assert not got.refused, f"{name}: the model refuses: {got}"
        assert (got.window.crop, got.window.length) == want, f"{name}: {got}"
        assert "https://" in got.doc and got.rule, got


def test_every_adapter_module_cites_its_docs_and_imports_no_framework_at_module_level():
    import ast
    from pathlib import Path
    for module in Path(__file__).resolve().parents[1].joinpath("adapters").glob("*.py"):
        tree = ast.parse(module.read_text())
        doc = ast.get_docstring(tree) or ""
        if module.name != "__init__.py":
            assert "https://" in doc, f"{module.name}: the module docstring must cite the framework's docs"
        for node in tree.body:   # top-level statements only: framework imports belong inside functions
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                for name in names:
                    assert name.split(".")[0] not in registry.load().modules, (module.name, name)


def test_jax_refuses_pads_that_remove_more_than_the_input():
    # i = 1: D = 1; pads (-1, -1) leave a base of -1 elements
    got = JAX_TRANSPOSE({"padding": [[-1, -1]], "use_consistent_padding": False},
                                               conv1(1, 2, 4))
    assert got.refused and "remove more than" in got.refusal.reason
    ok = JAX_TRANSPOSE({"padding": [[-1, 0]], "use_consistent_padding": False}, conv1(1, 2, 4))
    assert not ok.refused and ok.window.length == (0,)


def test_conversion_surfaces_keep_their_source_surfaces_documented_semantics():
    """A conversion surface (a source call exported by a converter, run by a runtime) is judged by its source's docs:
    the same rules object, the same params, and its records name the source (`converts`)."""
    from adapters import jax_onnx, onnx_tf, onnx_torch, tf_onnx, torch_onnx
    from conformance.harness.surface import Converted
    sources = {s.id: s for s in (*torch_adapter.surfaces(), *tf_adapter.surfaces(), *jax_adapter.surfaces(),
                                 *keras_adapter.surfaces("tensorflow"), *onnx_adapter.surfaces())}
    converted = [*torch_onnx.surfaces(), *tf_onnx.surfaces(), *jax_onnx.surfaces(), *onnx_torch.surfaces(),
                 *onnx_tf.surfaces()]
    assert {s.name.split(" -> ")[1] for s in converted} == {"torch.onnx.export(dynamo=False)",
                                                           "torch.onnx.export(dynamo=True)", "tf2onnx", "jax2onnx",
                                                           "onnx2torch", "onnx2tf"}
    assert {s.extra["converts"] for s in jax_onnx.surfaces()} == {"jax:jax.lax.conv_transpose",
                                                                 "jax:jax.lax.conv_general_dilated"}
    assert {s.extra["converts"] for s in tf_onnx.surfaces()} == {"tensorflow:tf.nn.conv{1,2,3}d_transpose",
                                                                "keras-tensorflow:keras.layers.ConvTranspose"}
    for surface in converted:
        source = sources[surface.extra["converts"]]
        assert surface.rules is source.rules and surface.param_keys == source.param_keys, surface.id
        assert surface.name.startswith(source.name + " -> ") and surface.doc == source.doc
        assert surface.call is not source.call and not surface.gradient and "float32" in surface.dtypes
        # the source framework's execution facts belong to a call that no longer runs (surface.Converted)
        assert isinstance(surface, Converted) and surface.mode_names == ("eager",)
        assert surface.accumulation("float32", "gpu:0") is None and surface.nondeterminism("gpu:0") is None


def test_torch_onnx_exporters_come_from_the_environment(monkeypatch):
    from adapters import torch_onnx
    monkeypatch.setenv("CONFORMANCE_TORCH_ONNX_EXPORTERS", "torchscript")
    assert torch_onnx.chosen_exporters() == ("torchscript",)
    monkeypatch.setenv("CONFORMANCE_TORCH_ONNX_EXPORTERS", "dynamo,jit")
    with pytest.raises(ValueError, match="unknown exporter.*jit.*known: dynamo, torchscript"):
        torch_onnx.chosen_exporters()


def test_the_converted_keras_layer_is_built_on_the_tensorflow_backend():
    """The Keras source surface reads its backend off its framework name (keras-tensorflow); the converted one's
    framework is tf-onnx, so without its own arguments() the call would ask for a Keras backend named 'onnx'."""
    from adapters import tf_onnx
    source, = keras_adapter.surfaces("tensorflow")
    converted, = (s for s in tf_onnx.surfaces() if s.extra["converts"] == source.id)
    params = {"padding": "same", "output_padding": None, "data_format": "channels_last", "device_scope": None}
    conv = conv1(3, 2, 2)
    assert converted.arguments(params, conv, "float32", "cpu") == source.arguments(params, conv, "float32", "cpu")
    assert converted.arguments(params, conv, "float32", "cpu")["backend"] == "tensorflow"


def test_onnx2torch_gets_the_newest_opset_it_converts():
    """onnx2torch 1.5.15 registers ConvTranspose versions 1 and 11 only: the converted surface's model declares
    opset 21 (the source's 22 would make every call one refusal, adapters/onnx_torch.py); the rest is the source's."""
    from adapters import onnx_torch
    source, = onnx_adapter.surfaces()
    converted, = onnx_torch.surfaces()
    params = {"auto_pad": None, "pads": [[1, 1]], "output_padding": None, "output_shape": None}
    conv = conv1(3, 2, 2)
    mine, theirs = converted.arguments(params, conv, "float32", "cpu"), source.arguments(params, conv, "float32", "cpu")
    assert (mine["opset"], theirs["opset"]) == (21, 22)
    assert {k: v for k, v in mine.items() if k != "opset"} == {k: v for k, v in theirs.items() if k != "opset"}
