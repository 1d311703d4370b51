"""Conversion surface: an ONNX ConvTranspose model converted to TensorFlow by onnx2tf and run by TensorFlow.

A conversion surface is the source surface's call, exported by a converter, run by a runtime (../shared/DESIGN.md,
"Conversion paths are surfaces"). The source is the ONNX ConvTranspose operator (adapters/onnxruntime.py: the same
RULES, draws and spellings, from the operator spec's text): a converter must keep the window and the values, so a
divergence names onnx2tf (or TensorFlow), never the ONNX spec.

The call: the source's one-node model (ai.onnx opset 22) with W and B as initializers, checked by onnx.checker, its
output shape filled in by onnx.shape_inference.infer_shapes (as exporters write it: onnx2tf 1.28.8 fails on the
source model's output, declared with its rank and unknown dimensions, a legal ONNX declaration: it hands the strings
'None' to tf.nn.conv*_transpose as output_shape, TypeError "Tensors in list passed to 'values' of 'ConcatV2' Op have
types [<NOT CONVERTIBLE TO TENSOR>, ...]", on every call; where shape inference cannot give the output's dimensions
the checker has refused the model already, onnx-shape-inference-drops-output-dims),
converted by onnx2tf.convert(onnx_graph=model, disable_model_save=True, non_verbose=True)
(https://github.com/PINTO0309/onnx2tf, README "In-script Usage": convert() returns the tf_keras model;
disable_model_save skips writing the saved_model and .tflite files, the conversion is the same), and the returned
model called on X.
onnx2tf turns channels-first models channels-last (its README: "converts ... NCHW to NHWC"): the call hands X over
channels-last and turns the output back. The converted model runs TensorFlow's own kernels on the CPU.
float32 only (onnx2tf's float32 path; the .tflite files it writes by default are float32 and float16).
onnx2tf declares no dependencies: its env installs what it imports (tox.ini, onnx2tf).
"""

from __future__ import annotations

import importlib.metadata

from adapters import onnxruntime as onnx_adapter
from adapters.onnxruntime import onnx_conv_transpose_model
from conformance.core.source import shipped
from conformance.harness.surface import EAGER, Adapter, Converted, Device, FrameworkUnavailable, Surface, cpu_model

DOC_ONNX2TF = "https://github.com/PINTO0309/onnx2tf"


# -- the call, written once (conformance.core.source): run in-process, shipped to the worker and into reproducers -----
@shipped(uses=(onnx_conv_transpose_model,))
def onnx2tf_conv_transpose(x, w, b, gy=None, *, strides, dilations, group, kernel_shape, device, opset=22,
                           auto_pad=None, pads=None, output_padding=None, output_shape=None, mode="eager",
                           export_to=None):
    """The ONNX ConvTranspose operator (the one-node model of onnx_conv_transpose_model, W and B initializers),
    converted by onnx2tf.convert(onnx_graph=..., disable_model_save=True) and the returned model called on X
    channels-last (onnx2tf's layout), the output turned back channels-first. Returns Y as NumPy."""
    import os
    import tempfile

    import numpy as np
    import onnx
    import onnx2tf

    if gy is not None:
        raise NotImplementedError("the converted model is checked for inference only: no gradients")
    model, feeds = onnx_conv_transpose_model(x, w, b, strides=strides, dilations=dilations, group=group,
                                             kernel_shape=kernel_shape, opset=opset, auto_pad=auto_pad, pads=pads,
                                             output_padding=output_padding, output_shape=output_shape,
                                             weights="initializers")
    model = onnx.shape_inference.infer_shapes(model)
    if export_to:                           # the model handed to the converter (the suite's failure files)
        with open(export_to, "wb") as fh:
            fh.write(model.SerializeToString())
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        # onnx2tf fetches 20 sample images from github.com for its own check of the converted model whenever every
        # input is 4-D channels-last with 3 channels and a batch <= 20 (onnx2tf.py, download_test_image_data),
        # unless ./calibration_image_sample_data_20x128x128x3_float32.npy exists: offline it raises ConnectionError.
        # The check's data does not enter the conversion: the call supplies random images of that shape.
        np.save(os.path.join(folder, "calibration_image_sample_data_20x128x128x3_float32.npy"),
                np.random.default_rng(0).random((20, 128, 128, 3), dtype=np.float32))
        os.chdir(folder)
        try:
            converted = onnx2tf.convert(onnx_graph=model, output_folder_path=folder, disable_model_save=True,
                                        non_verbose=True)
        finally:
            os.chdir(here)
    rank = x.ndim - 2
    to_last, to_first = (0, *range(2, rank + 2), 1), (0, rank + 1, *range(1, rank + 1))
    y = converted(np.ascontiguousarray(np.transpose(feeds["X"], to_last)))
    return np.transpose(np.asarray(y), to_first)


class ConvTransposeConverted(Converted, onnx_adapter.ConvTranspose):
    """onnx.ConvTranspose converted by onnx2tf: the source's rules, draws, spellings and arguments, another call (its
    only mode is eager, so the source's mode argument is always 'eager')."""


def surfaces() -> list[Surface]:
    """This adapter's surfaces, built without importing onnx, onnx2tf or tensorflow."""
    source, = onnx_adapter.surfaces()
    return [ConvTransposeConverted(framework="onnx2tf", name=f"{source.name} -> onnx2tf -> tensorflow",
                                   doc=source.doc, groups=True, bias=True, dtypes=("float32",), modes=(EAGER,),
                                   call=onnx2tf_conv_transpose, gradient=False, param_keys=source.param_keys,
                                   api_arguments=source.api_arguments, extra={"converts": source.id},
                                   notes=f"converted by onnx2tf.convert ({DOC_ONNX2TF}), run by TensorFlow (CPU)")]


def load() -> Adapter:
    try:
        import onnx
        import onnx2tf  # noqa: F401 - its import is what may fail (it declares none of its dependencies)
        import tensorflow as tf
    except ImportError as exc:
        raise FrameworkUnavailable(f"onnx, onnx2tf, its dependencies or tensorflow are not installed ({exc})") from None
    return Adapter(name="onnx2tf", version=importlib.metadata.version("onnx2tf"),
                   devices=[Device("cpu", "cpu", cpu_model())], surfaces=surfaces(),
                   notes=f"onnx {onnx.__version__}, tensorflow {tf.__version__}")
