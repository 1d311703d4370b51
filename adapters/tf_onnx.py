"""Conversion surfaces: a TensorFlow tf.nn call, or a Keras layer on the TensorFlow backend, converted by tf2onnx and
run by onnxruntime.

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

The Keras surface: keras.layers.Conv{1,2,3}DTranspose on the TensorFlow backend (adapters/keras.py, surface
keras-tensorflow:keras.layers.ConvTranspose: its RULES, draws and spellings, from the Keras docs), built in a
functional keras.Model over a keras.Input of the case's shape, its weights set, converted by
tf2onnx.convert.from_keras(model, input_signature) at tf2onnx's default opset (README "Getting Started": from_keras
works with Keras models; tf2onnx traces the model's call into a graph) and run by onnxruntime. The layer's own Python
(argument checks, the output length it computes, how it adds the bias) runs while tracing; TensorFlow's kernels do
not, so the CPU kernels' refusals (channels-first, dilation) do not apply.
"""

from __future__ import annotations

from adapters import keras as keras_adapter
from adapters import tensorflow as tf_adapter
from conformance.core.source import shipped
from conformance.harness.surface import EAGER, Adapter, Converted, Device, FrameworkUnavailable, Surface, cpu_model

DOC_TF2ONNX = "https://github.com/onnx/tensorflow-onnx"


# -- the call, written once (conformance.core.source): run in-process, shipped to the worker and into reproducers -----
@shipped
def tf2onnx_conv_transpose(x, w, b, gy=None, *, fn, output_shape, strides, padding, data_format, dilations, x_perm,
                           w_perm, y_perm, device, mode="eager", export_to=None):
    """tf.nn.<fn> as in tf_conv_transpose (x transposed by x_perm into data_format, w by w_perm into the filter layout,
    y back by y_perm), traced in a tf.function over x with the filters a constant, converted by
    tf2onnx.convert.from_function at its default opset, and run by onnxruntime on the CPU execution provider.
    export_to: a file name the converted model is also written to (the suite's failure files)."""
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
    if export_to:
        with open(export_to, "wb") as fh:
            fh.write(model.SerializeToString())
    options = ort.SessionOptions()
    options.log_severity_level = 4          # errors come back as exceptions (3 still logs each refused run)
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    y = session.run(None, {session.get_inputs()[0].name: xs})[0]
    return np.transpose(y, y_perm)


@shipped
def tf2onnx_keras_conv_transpose(x, w, b, gy=None, *, backend, rank, filters, kernel_size, strides, padding,
                                 output_padding, data_format, dilation_rate, use_bias, dtype, scope, kernel_axes,
                                 export_to=None):
    """keras.layers.Conv{rank}DTranspose as in keras_conv_transpose (built inside keras.device(scope) unless scope is
    None, kernel w transposed by kernel_axes, bias b), called on a keras.Input of x's shape (channels-last when
    data_format says so) in a functional keras.Model, converted by tf2onnx.convert.from_keras at its default opset
    and run by onnxruntime on the CPU execution provider; the result comes back canonical. export_to: a file name the
    converted model is also written to (the suite's failure files)."""
    import contextlib
    import logging
    import os
    os.environ.setdefault("KERAS_BACKEND", backend)
    import keras
    import numpy as np
    import onnxruntime as ort
    import tensorflow as tf
    import tf2onnx

    if gy is not None:
        raise NotImplementedError("a converted model runs inference only: no gradients")
    logging.getLogger("tf2onnx").setLevel(logging.ERROR)
    last = data_format == "channels_last"
    to_last, to_first = (0, *range(2, rank + 2), 1), (0, rank + 1, *range(1, rank + 1))
    xin = np.ascontiguousarray(np.transpose(x, to_last) if last else x)
    with contextlib.nullcontext() if scope is None else keras.device(scope):
        layer = getattr(keras.layers, f"Conv{rank}DTranspose")(
            filters, kernel_size, strides=strides, padding=padding, output_padding=output_padding,
            data_format=data_format, dilation_rate=dilation_rate, use_bias=use_bias, dtype=dtype)
        inputs = keras.Input(shape=xin.shape[1:], batch_size=xin.shape[0], dtype=dtype)
        model = keras.Model(inputs, layer(inputs))
        layer.set_weights([np.transpose(w, kernel_axes), b] if use_bias else [np.transpose(w, kernel_axes)])
    signature = (tf.TensorSpec(xin.shape, tf.as_dtype(xin.dtype), name="x"),)
    onnx_model, _ = tf2onnx.convert.from_keras(model, input_signature=signature)
    if export_to:
        with open(export_to, "wb") as fh:
            fh.write(onnx_model.SerializeToString())
    options = ort.SessionOptions()
    options.log_severity_level = 4          # errors come back as exceptions (3 still logs each refused run)
    session = ort.InferenceSession(onnx_model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    y = session.run(None, {session.get_inputs()[0].name: xin})[0]
    return np.transpose(y, to_first) if last else y


class KerasConverted(Converted, keras_adapter.ConvTranspose):
    """keras.layers.Conv{1,2,3}DTranspose (TensorFlow backend) converted by tf2onnx.from_keras."""

    def arguments(self, params, conv, dtype, device, mode="eager"):
        # the source surface reads its backend off its framework name (keras-tensorflow); this one's is tf-onnx
        return {**super().arguments(params, conv, dtype, device, mode), "backend": "tensorflow"}


class RankedConverted(Converted, tf_adapter.Ranked):
    """tf.nn.conv{1,2,3}d_transpose converted by tf2onnx: the source's rules, draws and spellings, another call."""


def surfaces() -> list[Surface]:
    """This adapter's surfaces, built without importing tensorflow, keras, tf2onnx or onnxruntime."""
    source = {s.name: s for s in tf_adapter.surfaces()}["tf.nn.conv{1,2,3}d_transpose"]
    keras_source, = keras_adapter.surfaces("tensorflow")
    return [RankedConverted(framework="tf-onnx", name=f"{source.name} -> tf2onnx -> onnxruntime", doc=source.doc,
                            groups=False, bias=False, dtypes=("float32",), modes=(EAGER,),
                            call=tf2onnx_conv_transpose, gradient=False, param_keys=source.param_keys,
                            api_arguments=source.api_arguments, extra={"converts": source.id},
                            notes=f"converted by tf2onnx.convert.from_function ({DOC_TF2ONNX}), run by onnxruntime"),
            KerasConverted(framework="tf-onnx", name=f"{keras_source.name} -> tf2onnx -> onnxruntime",
                           doc=keras_source.doc, groups=False, bias=True, dtypes=("float32",), modes=(EAGER,),
                           call=tf2onnx_keras_conv_transpose, gradient=False, param_keys=keras_source.param_keys,
                           api_arguments=keras_source.api_arguments, extra={"converts": keras_source.id},
                           notes=f"Keras 3 on TensorFlow, converted by tf2onnx.convert.from_keras ({DOC_TF2ONNX}), "
                                 "run by onnxruntime")]


def load() -> Adapter:
    try:
        import onnxruntime
        import tensorflow as tf
        import tf2onnx
    except ImportError as exc:
        raise FrameworkUnavailable(f"tensorflow, tf2onnx or onnxruntime is not installed ({exc})") from None
    found = surfaces()
    notes = f"tensorflow {tf.__version__}, onnxruntime {onnxruntime.__version__}"
    try:
        import keras
        notes += f", keras {keras.__version__} (backend {keras.backend.backend()})"
        if keras.backend.backend() != "tensorflow":
            raise ImportError(f"KERAS_BACKEND is {keras.backend.backend()!r}")
    except ImportError as exc:      # the tf.nn surface stands alone; the Keras one needs Keras on TensorFlow
        found = [s for s in found if not isinstance(s, KerasConverted)]
        notes += f"; no Keras surface ({exc})"
    return Adapter(name="tf-onnx", version=tf2onnx.__version__, devices=[Device("cpu", "cpu", cpu_model())],
                   surfaces=found, notes=notes)
