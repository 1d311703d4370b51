"""Conversion surfaces: a JAX call converted by jax2onnx and run by onnxruntime.

A conversion surface is the source surface's call, exported by a converter, run by a runtime (../shared/DESIGN.md,
"Conversion paths are surfaces"). The sources are jax.lax.conv_transpose and jax.lax.conv_general_dilated(
lhs_dilation=stride) (adapters/jax.py: the same RULES, draws and spellings, from the JAX docstrings): a converter must
keep the window and the values, so a divergence names jax2onnx (or the runtime), never JAX's docs.

The call: the jax.lax function of lhs with the kernel a constant closed over (the way a layer's weights reach a
traced function), converted by jax2onnx.to_onnx(fn, [ShapeDtypeStruct]) at jax2onnx's default opset
(https://github.com/enpasos/jax2onnx, README "Usage": to_onnx(fn, inputs, ..., opset=23)), run on onnxruntime's CPU
execution provider. jax2onnx lowers the conv_general_dilated primitive (which both JAX calls bind) to ONNX
ConvTranspose where lhs_dilation > 1 and to Conv where it is 1 (its plugins/jax/lax/conv.py). float32 only:
onnxruntime's CPU provider has no float64 ConvTranspose (adapters/onnxruntime.py), and jax2onnx exports float32 unless
asked for double precision. Inference only: no gradients.
"""

from __future__ import annotations

import importlib.metadata

from adapters import jax as jax_adapter
from adapters.jax import jax_lax_transposed
from conformance.core.source import shipped
from conformance.harness.surface import EAGER, Adapter, Converted, Device, FrameworkUnavailable, Surface, cpu_model

DOC_JAX2ONNX = "https://github.com/enpasos/jax2onnx"


# -- the call, written once (conformance.core.source): run in-process, shipped to the worker and into reproducers -----
@shipped(uses=(jax_adapter.jax_lax_transposed,))
def jax2onnx_conv_transpose(x, w, b, gy=None, *, op, stride, padding, dilation, groups, dimension_numbers, x_perm,
                            kernel, y_perm, precision, device, mode="eager", transpose_kernel=None,
                            use_consistent_padding=None, export_to=None):
    """JAX's transposed convolution as in jax_conv_transpose (jax_lax_transposed: op, the kernel conversion), as a
    function of lhs (x transposed by x_perm) with rhs a constant, converted by jax2onnx.to_onnx at its default opset,
    and run by onnxruntime on the CPU execution provider; the output comes back by y_perm. export_to: a file name the
    converted model is also written to (the suite's failure files)."""
    import logging

    import jax
    import jax2onnx
    import numpy as np
    import onnxruntime as ort

    if gy is not None:
        raise NotImplementedError("a converted model runs inference only: no gradients")
    logging.getLogger("jax2onnx").setLevel(logging.ERROR)
    call, to_rhs = jax_lax_transposed(op=op, stride=stride, padding=padding, dilation=dilation, groups=groups,
                                      dimension_numbers=dimension_numbers, kernel=kernel, precision=precision,
                                      transpose_kernel=transpose_kernel,
                                      use_consistent_padding=use_consistent_padding)
    lhs = np.ascontiguousarray(np.transpose(x, x_perm))
    rhs = jax.numpy.asarray(to_rhs(w))
    model = jax2onnx.to_onnx(lambda a: call(a, rhs), [jax.ShapeDtypeStruct(lhs.shape, lhs.dtype)])
    if export_to:
        with open(export_to, "wb") as fh:
            fh.write(model.SerializeToString())
    options = ort.SessionOptions()
    options.log_severity_level = 4          # errors come back as exceptions (3 still logs each refused run)
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    y = session.run(None, {session.get_inputs()[0].name: lhs})[0]
    return np.transpose(y, y_perm)


class ConvTransposeConverted(Converted, jax_adapter.ConvTranspose):
    """jax.lax.conv_transpose converted by jax2onnx: the source's rules, draws and spellings, another call."""


class ConvGeneralDilatedConverted(Converted, jax_adapter.ConvGeneralDilated):
    """jax.lax.conv_general_dilated(lhs_dilation=stride) converted by jax2onnx."""


CONVERTED = {"jax.lax.conv_transpose": ConvTransposeConverted,
             "jax.lax.conv_general_dilated": ConvGeneralDilatedConverted}


def surfaces(signature=("use_consistent_padding",)) -> list[Surface]:
    """This adapter's surfaces, built without importing jax, jax2onnx or onnxruntime (`signature`: as in
    adapters.jax.surfaces)."""
    out = []
    for source in jax_adapter.surfaces(signature):
        out.append(CONVERTED[source.name](
            framework="jax-onnx", name=f"{source.name} -> jax2onnx -> onnxruntime", doc=source.doc,
            groups=source.groups, bias=False, dtypes=("float32",), modes=(EAGER,), call=jax2onnx_conv_transpose,
            gradient=False, param_keys=source.param_keys, api_arguments=source.api_arguments,
            extra={**source.extra, "converts": source.id},
            notes=f"converted by jax2onnx.to_onnx ({DOC_JAX2ONNX}), run by onnxruntime"))
    return out


def load() -> Adapter:
    try:
        import inspect

        import jax
        import jax2onnx  # noqa: F401 - its import is what may fail
        import onnxruntime
    except ImportError as exc:
        raise FrameworkUnavailable(f"jax, jax2onnx or onnxruntime is not installed ({exc})") from None
    signature = inspect.signature(jax.lax.conv_transpose).parameters
    return Adapter(name="jax-onnx", version=importlib.metadata.version("jax2onnx"),
                   devices=[Device("cpu", "cpu", cpu_model())], surfaces=surfaces(signature),
                   notes=f"jax {jax.__version__}, onnxruntime {onnxruntime.__version__}")
