"""Conversion surface: an ONNX ConvTranspose model converted to PyTorch by onnx2torch and run by torch.

A conversion surface is the source surface's call, exported by a converter, run by a runtime (../shared/DESIGN.md,
"Conversion paths are surfaces"). The source is the ONNX ConvTranspose operator (adapters/onnxruntime.py: the same
RULES, draws and spellings, from the operator spec's text): a converter must keep the window and the values, so a
divergence names onnx2torch (or torch), never the ONNX spec.

The call: the source's one-node model with W and B as initializers (the way an exported layer holds its weights:
onnx2torch reads a convolution's weights from the graph's initializers), checked by onnx.checker, converted by
onnx2torch.convert (https://github.com/ENOT-AutoDL/onnx2torch, README "Usage": onnx2torch.convert(onnx_model) returns
a torch.fx.GraphModule) and called on X under torch.no_grad(). The model declares ai.onnx opset 21, the newest whose
ConvTranspose onnx2torch 1.5.15 converts: it registers ConvTranspose versions 1 and 11 only, so a model of opset 22
or later (ConvTranspose-22, the same operator with bfloat16 added) fails with "Converter is not implemented
(OperationDescription(domain='', operation_type='ConvTranspose', version=22))" whatever its attributes (measured
here, 2026-12-03; the source surface's opset-22 model would make every case that one refusal).

torchvision: onnx2torch imports it at module level, only for its NMS and RoiAlign converters. PyPI's torchvision for
torch 2.13 is a CUDA build whose import fails beside the CPU torch wheel ("operator torchvision::nms does not exist");
the call then puts a stub in its place (those two converters raise NotImplementedError; a ConvTranspose never reaches
them), as a user on a CPU-only torch has to.
float32 and float64: torch's CPU kernels run both.
"""

from __future__ import annotations

import importlib.metadata

from adapters import onnxruntime as onnx_adapter
from adapters.onnxruntime import onnx_conv_transpose_model
from conformance.core.source import shipped
from conformance.harness.surface import EAGER, Adapter, Converted, Device, FrameworkUnavailable, Surface, cpu_model

DOC_ONNX2TORCH = "https://github.com/ENOT-AutoDL/onnx2torch"
OPSET = 21


# -- the call, written once (conformance.core.source): run in-process, shipped to the worker and into reproducers -----
@shipped
def import_onnx2torch():
    """onnx2torch, imported; where torchvision cannot be imported (a CUDA build beside a CPU torch), with a stub
    torchvision whose ops raise NotImplementedError in its place (module doc)."""
    import importlib
    import sys
    import types

    try:
        return importlib.import_module("onnx2torch")
    except (ImportError, RuntimeError) as exc:
        if "torchvision" not in repr(exc) and not any(m.startswith("torchvision") for m in sys.modules):
            raise
    for name in [m for m in sys.modules if m.split(".")[0] in ("torchvision", "onnx2torch")]:
        del sys.modules[name]

    def unavailable(*args, **kwargs):
        raise NotImplementedError("torchvision is not importable here (a stub stands in for onnx2torch's import)")
    ops = types.ModuleType("torchvision.ops")
    ops.nms = ops.box_convert = ops.roi_align = unavailable
    stub = types.ModuleType("torchvision")
    stub.ops = ops
    sys.modules.update({"torchvision": stub, "torchvision.ops": ops})
    return importlib.import_module("onnx2torch")


@shipped(uses=(onnx_conv_transpose_model, import_onnx2torch))
def onnx2torch_conv_transpose(x, w, b, gy=None, *, strides, dilations, group, kernel_shape, device, opset=21,
                              auto_pad=None, pads=None, output_padding=None, output_shape=None, mode="eager",
                              export_to=None):
    """The ONNX ConvTranspose operator (the one-node model of onnx_conv_transpose_model, W and B initializers),
    converted by onnx2torch.convert and called on X with torch (CPU) under torch.no_grad(). Returns Y as NumPy."""
    import numpy as np
    import torch

    if gy is not None:
        raise NotImplementedError("the converted model is checked for inference only: no gradients")
    onnx2torch = import_onnx2torch()
    model, feeds = onnx_conv_transpose_model(x, w, b, strides=strides, dilations=dilations, group=group,
                                             kernel_shape=kernel_shape, opset=opset, auto_pad=auto_pad, pads=pads,
                                             output_padding=output_padding, output_shape=output_shape,
                                             weights="initializers")
    if export_to:                           # the model handed to the converter (the suite's failure files)
        with open(export_to, "wb") as fh:
            fh.write(model.SerializeToString())
    module = onnx2torch.convert(model)
    with torch.no_grad():
        y = module(torch.from_numpy(np.ascontiguousarray(feeds["X"])))
    return y.numpy()


class ConvTransposeConverted(Converted, onnx_adapter.ConvTranspose):
    """onnx.ConvTranspose converted by onnx2torch: the source's rules, draws and spellings, another call."""

    def arguments(self, params, conv, dtype, device, mode="eager"):
        return {**super().arguments(params, conv, dtype, device, "eager"), "opset": OPSET}


def surfaces() -> list[Surface]:
    """This adapter's surfaces, built without importing onnx, onnx2torch or torch."""
    source, = onnx_adapter.surfaces()
    return [ConvTransposeConverted(framework="onnx2torch", name=f"{source.name} -> onnx2torch -> torch",
                                   doc=source.doc, groups=True, bias=True, dtypes=("float32", "float64"),
                                   modes=(EAGER,), call=onnx2torch_conv_transpose, gradient=False,
                                   param_keys=source.param_keys, api_arguments=source.api_arguments,
                                   extra={"converts": source.id},
                                   notes=f"ai.onnx opset {OPSET}, converted by onnx2torch.convert ({DOC_ONNX2TORCH}), "
                                         "run by torch on the CPU")]


def load() -> Adapter:
    try:
        import onnx
        import torch
        import_onnx2torch()
    except ImportError as exc:
        raise FrameworkUnavailable(f"onnx, onnx2torch or torch is not installed ({exc})") from None
    return Adapter(name="onnx2torch", version=importlib.metadata.version("onnx2torch"),
                   devices=[Device("cpu", "cpu", cpu_model())], surfaces=surfaces(),
                   notes=f"onnx {onnx.__version__}, torch {torch.__version__}, ai.onnx opset {OPSET}")
