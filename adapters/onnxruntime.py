"""ONNX Runtime adapter: the ONNX `ConvTranspose` operator (ai.onnx opset 22) as a one-node model, run by onnxruntime.

Documented semantics: the operator spec of the opset the model declares (ConvTranspose-22,
https://onnx.ai/onnx/operators/onnx__ConvTranspose.html; the same text is `onnx.defs.get_schema("ConvTranspose").doc`
and its attributes' descriptions in the onnx package):
  * "If the pads parameter is provided the shape of the output is calculated via the following equation:
    output_shape[i] = stride[i] * (input_size[i] - 1) + output_padding[i] + ((kernel_shape[i] - 1) * dilations[i] + 1)
    - pads[start_i] - pads[end_i]"  ->  L = F + output_padding - lo - hi, and the pads crop the full result from
    its two ends ("pixels added to the beginning and end part" of the forward convolution's input): c = lo.
  * pads: "it can take any value greater than or equal to 0"; "[x1_begin, x2_begin...x1_end, x2_end,...]" (flat,
    begins then ends: the params hold them as (lo, hi) pairs per dimension, the call gets the flat list); "cannot be
    used simultaneously with auto_pad" (auto_pad other than its default NOTSET).
  * output_shape: "If output_shape is specified pads values are ignored", the pads are "auto generated":
    total_padding = stride*(input_size-1) + output_padding + k' - output_shape; "If (auto_pads == SAME_UPPER):
    pads[start_i] = total_padding[i]/2; pads[end_i] = total_padding[i] - (total_padding[i]/2). Else: pads[start_i] =
    total_padding[i] - (total_padding[i]/2); pads[end_i] = (total_padding[i]/2)". So with output_shape the odd
    element is cropped at the START unless auto_pad is SAME_UPPER (NOTSET, VALID and SAME_LOWER all take "Else").
    A negative total (output_shape beyond F + output_padding) would make negative pads, which the spec's pads do
    not take and its equations do not discuss: left open (either a result or a refusal passes).
  * auto_pad SAME_UPPER / SAME_LOWER: "pad the input so that output_shape[i] = input_shape[i] * strides[i] ... In
    case the padding is an odd number, the extra padding is added at the end for SAME_UPPER and at the beginning
    for SAME_LOWER": L = i*s, total = F + output_padding - i*s, c = total//2 (SAME_UPPER) or total - total//2
    (SAME_LOWER); a negative total (k' + output_padding < s) is left open, as above. VALID: no padding, c = 0,
    L = F + output_padding.
  * output_padding: "Additional elements added to the side with higher coordinate indices in the output. Each
    padding value in "output_padding" must be less than the corresponding stride/dilation dimension"  ->  it extends
    the end (F is zero past its end), 0 <= output_padding < max(stride, dilation) (the spec's "stride/dilation"
    read as either one, as PyTorch's docs and onnxruntime's own message say; a negative value is outside "additional
    elements"). With output_shape it "does not contribute additional size ... but participates in the computation
    of the needed padding amount" (the total above).
  * an output length of 0 is a shape ONNX tensors may have, and the spec does not say whether it is an error: open;
    below 0 is refused.
  * X (N x C x D1 x ...), W "(C x M/group x k1 x k2 x ... x kn)", B (M): exactly the canonical layouts, no flip
    (the operator is the gradient of Conv, like PyTorch's).
  * types: "T in (tensor(bfloat16), tensor(float16), tensor(float), tensor(double))" (the schema's type constraint).
Where the spec is ambiguous ("stride/dilation"; SAME_* with an explicit output_shape, where it states both
output_shape[i] = input_shape[i] * strides[i] and the output_shape equations: the output_shape equations, which name
SAME_UPPER, are taken), adapters/onnxruntime.py says which reading is modelled; a runtime reading it otherwise is a
recorded divergence against the spec's text.

The call: onnx.helper builds the model (every attribute the case gives; absent ones left out, so their defaults
apply), onnx.checker.check_model(full_check=True) checks it (its shape inference refuses what the spec refuses,
with onnx's own message), onnxruntime.InferenceSession runs it on the CPU execution provider (the CUDA provider for
a GPU device, where the installed onnxruntime has it). onnxruntime computes no gradients (an inference runtime).

Modes: "eager" = the session's default graph optimizations (ORT_ENABLE_ALL); "optimizations-off" =
GraphOptimizationLevel.ORT_DISABLE_ALL (https://onnxruntime.ai/docs/performance/model-optimizations/graph-optimizations.html).
Determinism: onnxruntime documents no nondeterminism of CPU kernels; two CPU calls must be bitwise equal.
"""

from __future__ import annotations

from conformance.core.rules import Case, Check, Rules
from conformance.core.source import shipped
from conformance.core.spec import Conv
from conformance.harness.portable import asymmetric_crop, exact_size_target
from conformance.harness.surface import (
    EAGER,
    Adapter,
    Device,
    Drawer,
    FrameworkUnavailable,
    Mode,
    Surface,
    Unexpressible,
    cpu_model,
)

OPSET = 22
DOC = "https://onnx.ai/onnx/operators/onnx__ConvTranspose.html"
DOC_SHAPE = DOC + " (ConvTranspose-22: the output_shape / pads equations)"
DOC_AUTO_PAD = DOC + " (attribute auto_pad)"
DOC_PADS = DOC + " (attribute pads)"
DOC_OUTPUT_PADDING = DOC + " (attribute output_padding)"
DOC_OPTIMIZATIONS = "https://onnxruntime.ai/docs/performance/model-optimizations/graph-optimizations.html"
AUTO_PADS = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")
MODES = (EAGER, Mode("optimizations-off"))


# -- documented semantics, as data (conformance.core.rules): what the judge and explain both evaluate ---------------
OP = "op = 0 if output_padding is None else output_padding"
OUTPUT_PADDING = Check("0 <= op < max(s, d)", "each output_padding value must be less than the corresponding "
                       "stride/dilation dimension (and adds elements: not negative)", DOC_OUTPUT_PADDING)
NOT_NEGATIVE = Check("L >= 0", "an output length below 0 is not a shape")
NOT_EMPTY = Check("L >= 1", "the spec does not say whether an empty output dimension is a result or an error",
                  open=True)
TOTAL = Check("total >= 0", "the pads the spec generates would be negative (pads take values >= 0; the equations do "
              "not say what a negative total_padding does)", open=True)
PADS = Check("pads is None or (lo >= 0 and hi >= 0)", "pads can take any value greater than or equal to 0 (the "
             "attribute's domain, also where output_shape or auto_pad makes the pads unused)", DOC_PADS)
SIZED = (PADS, OUTPUT_PADDING, TOTAL, NOT_NEGATIVE, NOT_EMPTY)
PADDED = (OUTPUT_PADDING, NOT_NEGATIVE, NOT_EMPTY)
RULES = Rules(
    checks=(Check("auto_pad is None or auto_pad in ('NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID')",
                  "auto_pad must be either NOTSET, SAME_UPPER, SAME_LOWER or VALID", DOC_AUTO_PAD),
            Check("pads is None or auto_pad is None or auto_pad == 'NOTSET'",
                  "the pads attribute cannot be used simultaneously with auto_pad", DOC_PADS),
            Check("output_shape is None or len(output_shape) == rank", "output_shape gives the spatial dimensions "
                  "only (\"should not include dimensions for batch size and channels\")", DOC)),
    cases=(
        Case((OP, "total = F + op - output_shape", "c = total // 2", "L = output_shape"),
             when="output_shape is not None and auto_pad == 'SAME_UPPER'", checks=SIZED,
             source=DOC_SHAPE + " (output_shape, SAME_UPPER: pads[start] = total_padding/2)"),
        Case((OP, "total = F + op - output_shape", "c = total - total // 2", "L = output_shape"),
             when="output_shape is not None", checks=SIZED,
             source=DOC_SHAPE + " (output_shape, not SAME_UPPER: pads[start] = total_padding - total_padding/2)"),
        Case((OP, "total = F + op - i*s", "c = total // 2", "L = i*s"), when="auto_pad == 'SAME_UPPER'",
             checks=SIZED, source=DOC_AUTO_PAD + " (SAME_UPPER: output i*s, the odd padding at the end)"),
        Case((OP, "total = F + op - i*s", "c = total - total // 2", "L = i*s"), when="auto_pad == 'SAME_LOWER'",
             checks=SIZED, source=DOC_AUTO_PAD + " (SAME_LOWER: output i*s, the odd padding at the beginning)"),
        Case((OP, "c = lo", "L = F + op - lo - hi"), when="pads == 'pairs'",
             checks=(PADS, *PADDED),
             source=DOC_SHAPE + " (pads given: output = F + output_padding - pads[start] - pads[end])"),
        Case((OP, "c = 0", "L = F + op"), checks=PADDED,
             source=DOC_SHAPE + " (no pads, or VALID: the full result plus output_padding)")),
    doc=DOC)


# -- draws ---------------------------------------------------------------------------------------------------------
def _draw(draw: Drawer, conv: Conv) -> dict:
    auto_pad = draw.choice([None, None, "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"], "auto_pad")
    explicit = auto_pad in (None, "NOTSET")
    pads = None
    if draw.integer(0, 7 if explicit else 0, "pads given") >= 2 or (not explicit and draw.boolean("pads anyway")
                                                                   and draw.boolean("pads anyway, really")):
        pads = [[draw.integer(-1, dim.kd, "pad_begin"), draw.integer(-1, dim.kd, "pad_end")] for dim in conv.dims()]
    output_padding = None
    if draw.boolean("output_padding given"):
        output_padding = [draw.integer(0, max(dim.s, dim.d), "output_padding") for dim in conv.dims()]
    output_shape = None
    if draw.integer(0, 3, "output_shape given") == 0:
        # mostly sizes the spec's equations give pads >= 0 for (<= F); F + 1 .. F + s - 1 reach its open edge
        output_shape = [draw.integer(max(dim.full - dim.kd - 1, 0), dim.full + (dim.s - 1 if draw.integer(
            0, 3, "output_shape beyond F") == 0 else 0), "output_shape") for dim in conv.dims()]
    return {"auto_pad": auto_pad, "pads": pads, "output_padding": output_padding, "output_shape": output_shape}


# -- portable intents (conformance.harness.portable), spelled the way ONNX model authors write them ----------------
# 'same' is auto_pad SAME_UPPER (the extra element cropped at the end, as TensorFlow's 'SAME'), 'valid' VALID, an
# exact size is output_shape (the spec then crops the odd element at the START unless auto_pad is SAME_UPPER: users
# who write output_shape alone get that), and the PyTorch/Keras idioms explicit pads, with output_padding.
def spell(intent: str, conv: Conv) -> dict:
    params = {"auto_pad": None, "pads": None, "output_padding": None, "output_shape": None}
    dims = conv.dims()
    if intent == "same":
        return {**params, "auto_pad": "SAME_UPPER"}
    if intent == "valid":
        return {**params, "auto_pad": "VALID"}
    if intent == "exact-size":
        return {**params, "output_shape": [exact_size_target(dim) for dim in dims]}
    if intent == "same-output-padding":       # the Keras layer's window: pads k'//2 both ends, output_padding s-1
        return {**params, "pads": [[dim.kd // 2, dim.kd // 2] for dim in dims],
                "output_padding": [dim.s - 1 for dim in dims]}
    if intent == "torch-half-pad-output-padding":
        return {**params, "pads": [[(dim.kd - 1) // 2] * 2 for dim in dims],
                "output_padding": [dim.s - 1 for dim in dims]}
    if intent == "torch-half-pad":
        return {**params, "pads": [[dim.kd // 2] * 2 for dim in dims]}
    if intent == "explicit-asymmetric":
        return {**params, "pads": [list(asymmetric_crop(dim)) for dim in dims]}
    raise Unexpressible(f"no ONNX spelling of intent {intent!r}")


def spell_fault(fault: str, conv: Conv, values: list) -> dict:
    params = spell("valid", conv)
    if fault == "output-padding":
        return {**params, "output_padding": list(values)}
    if fault == "padding":
        return {**params, "auto_pad": None, "pads": [[v, v] for v in values]}
    if fault == "output-size":
        return {**params, "auto_pad": None, "output_shape": list(values)}
    return {**params, "auto_pad": None, "output_shape": [dim.full for dim in conv.dims()] + [conv.dims()[-1].full]}


def flat_pads(pairs) -> list[int] | None:
    """(lo, hi) per dimension -> ONNX's [x1_begin, x2_begin, ..., x1_end, x2_end, ...]."""
    if pairs is None:
        return None
    return [int(lo) for lo, _ in pairs] + [int(hi) for _, hi in pairs]


# -- the call, written once (conformance.core.source): run in-process, shipped to the worker and into reproducers -----
@shipped
def onnx_conv_transpose_model(x, w, b, *, strides, dilations, group, kernel_shape, opset, auto_pad=None, pads=None,
                              output_padding=None, output_shape=None, weights="inputs"):
    """(model, feeds): a one-node model of the ONNX ConvTranspose operator, ai.onnx `opset`, built with onnx.helper
    (an attribute given as None is left out: its default applies; pads flat, [begins..., ends...]) and checked with
    onnx.checker.check_model(full_check=True). x (N, C, *i), w (C, M/group, *k) and b (M,) or None are exactly the
    operator's X, W, B: graph inputs (weights='inputs'), or W and B as initializers (weights='initializers', the way
    an exported layer holds them); feeds maps the graph's input names to their arrays."""
    import onnx
    from onnx import helper, numpy_helper

    dtype = helper.np_dtype_to_tensor_dtype(x.dtype)
    names = ["X", "W"] + ([] if b is None else ["B"])
    arrays = [x, w] + ([] if b is None else [b])
    attributes = {"strides": strides, "dilations": dilations, "group": group, "kernel_shape": kernel_shape,
                  "auto_pad": auto_pad, "pads": pads, "output_padding": output_padding, "output_shape": output_shape}
    node = helper.make_node("ConvTranspose", names, ["Y"], **{k: v for k, v in attributes.items() if v is not None})
    inputs = list(zip(names, arrays)) if weights == "inputs" else [("X", x)]
    initializers = [] if weights == "inputs" else [numpy_helper.from_array(a, n) for n, a in zip(names[1:], arrays[1:])]
    graph = helper.make_graph([node], "conv_transpose",
                              [helper.make_tensor_value_info(n, dtype, a.shape) for n, a in inputs],
                              [helper.make_tensor_value_info("Y", dtype, [None] * x.ndim)], initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model, full_check=True)
    return model, dict(inputs)


@shipped(uses=(onnx_conv_transpose_model,))
def onnx_conv_transpose(x, w, b, gy=None, *, strides, dilations, group, kernel_shape, device, opset=22,
                        auto_pad=None, pads=None, output_padding=None, output_shape=None, mode="eager"):
    """The ONNX ConvTranspose operator on canonical NumPy arrays (the one-node model of onnx_conv_transpose_model, X,
    W and B its inputs), run with onnxruntime.InferenceSession on the CPU execution provider ('cpu') or the CUDA one
    ('gpu:N'); mode 'optimizations-off' disables onnxruntime's graph optimizations. Returns Y as NumPy (bfloat16 as
    float32, exactly)."""
    import numpy as np
    import onnxruntime as ort

    if gy is not None:
        raise NotImplementedError("onnxruntime runs inference only: no gradients")
    model, feeds = onnx_conv_transpose_model(x, w, b, strides=strides, dilations=dilations, group=group,
                                             kernel_shape=kernel_shape, opset=opset, auto_pad=auto_pad, pads=pads,
                                             output_padding=output_padding, output_shape=output_shape)
    options = ort.SessionOptions()
    options.log_severity_level = 4          # errors come back as exceptions; no log line per refused call (3 logs them)
    if mode == "optimizations-off":
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    providers = (["CPUExecutionProvider"] if device == "cpu" else
                 [("CUDAExecutionProvider", {"device_id": int(device.partition(":")[2] or 0)})])
    session = ort.InferenceSession(model.SerializeToString(), options, providers=providers)
    y = session.run(None, {n: np.ascontiguousarray(a) for n, a in feeds.items()})[0]
    return np.asarray(y, np.float32) if y.dtype.name == "bfloat16" else y


class ConvTranspose(Surface):
    """onnx.ConvTranspose run by onnxruntime (module doc)."""

    RULES = RULES

    def draw_params(self, draw: Drawer, conv: Conv) -> dict:
        return _draw(draw, conv)

    def spell(self, intent: str, conv: Conv) -> dict:
        return spell(intent, conv)

    def spell_fault(self, fault: str, conv: Conv, values: list) -> dict:
        return spell_fault(fault, conv, values)

    def arguments(self, params, conv, dtype, device, mode="eager"):
        return {"strides": list(conv.stride), "dilations": list(conv.dilation), "group": conv.groups,
                "kernel_shape": list(conv.kernel), "auto_pad": params["auto_pad"], "pads": flat_pads(params["pads"]),
                "output_padding": None if params["output_padding"] is None else list(params["output_padding"]),
                "output_shape": None if params["output_shape"] is None else list(params["output_shape"]),
                "device": device, "opset": OPSET, "mode": mode}


def load() -> Adapter:
    try:
        import onnx  # noqa: F401 - the model builder and checker the call uses
        import onnxruntime
    except ImportError as exc:
        raise FrameworkUnavailable(f"onnxruntime or onnx is not installed ({exc})") from None
    devices = [Device("cpu", "cpu", cpu_model())]
    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        devices.append(Device("gpu:0", "gpu", "CUDAExecutionProvider"))
    return Adapter(name="onnxruntime", version=onnxruntime.__version__, devices=devices, surfaces=surfaces(),
                   notes=f"onnx {onnx.__version__}, ai.onnx opset {OPSET}")


def surfaces() -> list[Surface]:
    """This adapter's surfaces, built without importing onnxruntime (load() adds the version and devices)."""
    return [ConvTranspose(framework="onnxruntime", name="onnx.ConvTranspose", doc=DOC, groups=True, bias=True,
                          dtypes=("float16", "bfloat16", "float32", "float64"), modes=MODES,
                          call=onnx_conv_transpose, gradient=False,
                          param_keys=("auto_pad", "pads", "output_padding", "output_shape"),
                          api_arguments=("strides", "dilations", "group", "kernel_shape", "auto_pad", "pads",
                                         "output_padding", "output_shape"))]


# -- command line (conformance.explain.spelling): how ONNX model authors write the node, for explain/solve/translate --
def spellings() -> list:
    from conformance.explain.spelling import NO_SEARCH, CallText, Param, Spelling, WeightLayout

    (surface,) = surfaces()
    none_of = lambda conv, p: None  # noqa: E731

    def pads_search(dim, n):
        return [(lo, hi) for lo in range(0, dim.kd + 1) for hi in range(0, dim.kd + 1) if dim.full - lo - hi
                in range(n - dim.s, n + 1)]

    text = CallText("onnx.helper.make_node", "'ConvTranspose', inputs, ['Y']", (
        ("strides", "strides"), ("dilations", "dilations"), ("group", "group"), ("kernel_shape", "kernel_shape"),
        ("auto_pad", "auto_pad"), ("pads", "pads"), ("output_padding", "output_padding"),
        ("output_shape", "output_shape")), optional=("auto_pad", "pads", "output_padding", "output_shape"))
    return [Spelling(surface, ("onnx.ConvTranspose", "ConvTranspose", "onnxruntime.ConvTranspose"), params=(
        Param("auto_pad", ("--auto-pad",), "choice", choices=(None, *AUTO_PADS), default=None, search=NO_SEARCH,
              help="NOTSET (explicit pads), SAME_UPPER, SAME_LOWER or VALID; none = the attribute left out"),
        Param("pads", ("--pads", "-p"), "pairs", default=none_of, search=pads_search,
              help="begin:end per dimension (the node gets [begins..., ends...])"),
        Param("output_padding", ("--output-padding",), "ints|none", choices=(None,), default=none_of,
              search=lambda dim, n: range(0, dim.s), help="added at the end of each dimension"),
        Param("output_shape", ("--output-shape",), "ints|none", choices=(None,), default=none_of,
              search=lambda dim, n: (n,),
              help="the spatial output size (the pads are generated)")),
        text=text, weights=lambda params, conv: WeightLayout(tuple(range(conv.rank + 2)), name="W"))]
