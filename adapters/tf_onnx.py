"""Conversion surface: a TensorFlow tf.nn call converted by tf2onnx and run by onnxruntime.

A conversion surface is the source surface's call, exported by a converter, run by a runtime (../shared/DESIGN.md,
"Conversion paths are surfaces"). The source is tf.nn.conv{1,2,3}d_transpose (adapters/tensorflow.py: the same RULES,
draws and spellings, from the TensorFlow docstrings, https://www.tensorflow.org/api_docs/python/tf/nn/conv2d_transpose):
a converter must keep the window and the values, so a divergence names tf2onnx (or the runtime), never TensorFlow's
docs. TensorFlow's own CPU kernels never run here: tf2onnx converts the traced graph, so their refusals (Eigen's
dilation and channels-first, entries tf-cpu-*) do not apply, and the converted model is judged against the docs alone.

The call: the tf.nn function inside a tf.function with a fixed input signature, the filters a constant made inside it
(a tf.constant made outside becomes a graph input the runtime then asks for), converted by
tf2onnx.convert.from_function at tf2onnx's default opset (https://github.com/onnx/tensorflow-onnx, "Getting
Started": from_function(function, input_signature, opset=None, ...)), run on onnxruntime's CPU execution provider.
float32 only: onnxruntime's CPU provider has no float64 ConvTranspose (adapters/onnxruntime.py).
"""

from __future__ import annotations

from adapters import tensorflow as tf_adapter
from conformance.core.source import shipped
from conformance.harness.surface import EAGER, Adapter, Converted, Device, FrameworkUnavailable, Surface, cpu_model

DOC_TF2ONNX = "https://github.com/onnx/tensorflow-onnx"


# -- the call, written once (conformance.core.source): run in-process, shipped to the worker and into reproducers -----
@shipped
def tf2onnx_conv_transpose(x, w, b, gy=None, *, fn, output_shape, strides, padding, data_format, dilations, x_perm,
                           w_perm, y_perm, device, mode="eager"):
    """tf.nn.<fn> as in tf_conv_transpose (x transposed by x_perm into data_format, w by w_perm into the filter layout,
    y back by y_perm), traced in a tf.function over x with the filters a constant, converted by
    tf2onnx.convert.from_function at its default opset, and run by onnxruntime on the CPU execution provider."""
    import logging

    import numpy as np
    import onnxruntime as ort
    import tensorflow as tf
    import tf2onnx

    if gy is not None:
        raise NotImplementedError("a converted model runs inference only: no gradients")
    logging.getLogger("tf2onnx").setLevel(logging.ERROR)
    xs = np.ascontiguousarray(np.transpose(x, x_perm))
    ws = np.ascontiguousarray(np.transpose(w, w_perm))
    op = getattr(tf.nn, fn)
    signature = [tf.TensorSpec(xs.shape, tf.as_dtype(xs.dtype), name="x")]

    @tf.function(input_signature=signature)
    def call(tx):
        return op(tx, tf.constant(ws), output_shape, strides=strides, padding=padding, data_format=data_format,
                  dilations=dilations)

    model, _ = tf2onnx.convert.from_function(call, input_signature=signature)
    options = ort.SessionOptions()
    options.log_severity_level = 4          # errors come back as exceptions (3 still logs each refused run)
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    y = session.run(None, {session.get_inputs()[0].name: xs})[0]
    return np.transpose(y, y_perm)


class RankedConverted(Converted, tf_adapter.Ranked):
    """tf.nn.conv{1,2,3}d_transpose converted by tf2onnx: the source's rules, draws and spellings, another call."""


def surfaces() -> list[Surface]:
    """This adapter's surfaces, built without importing tensorflow, tf2onnx or onnxruntime."""
    source = {s.name: s for s in tf_adapter.surfaces()}["tf.nn.conv{1,2,3}d_transpose"]
    return [RankedConverted(framework="tf-onnx", name=f"{source.name} -> tf2onnx -> onnxruntime", doc=source.doc,
                            groups=False, bias=False, dtypes=("float32",), modes=(EAGER,),
                            call=tf2onnx_conv_transpose, gradient=False, param_keys=source.param_keys,
                            api_arguments=source.api_arguments, extra={"converts": source.id},
                            notes=f"converted by tf2onnx.convert.from_function ({DOC_TF2ONNX}), run by onnxruntime")]


def load() -> Adapter:
    try:
        import onnxruntime
        import tensorflow as tf
        import tf2onnx
    except ImportError as exc:
        raise FrameworkUnavailable(f"tensorflow, tf2onnx or onnxruntime is not installed ({exc})") from None
    return Adapter(name="tf-onnx", version=tf2onnx.__version__, devices=[Device("cpu", "cpu", cpu_model())],
                   surfaces=surfaces(),
                   notes=f"tensorflow {tf.__version__}, onnxruntime {onnxruntime.__version__}")
