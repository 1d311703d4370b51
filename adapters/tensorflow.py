"""TensorFlow adapter: tf.nn.conv_transpose (generic N-d) and tf.nn.conv{1,2,3}d_transpose (rank-specific).

Documented semantics (tensorflow 2.21 docstrings of tf.nn.conv_transpose, tf.nn.conv1d_transpose,
tf.nn.conv2d_transpose and tf.nn.conv3d_transpose, https://www.tensorflow.org/api_docs/python/tf/nn/conv2d_transpose,
and the tf.nn "Notes on padding", https://www.tensorflow.org/api_docs/python/tf/nn#notes_on_padding_2):
  * "This operation ... is really the transpose (gradient) of `conv2d`" (conv3d, conv1d, `convolution` for the
    other functions): the op is the input gradient of the forward convolution with the same strides, padding and
    dilations. `output_shape` is "the output shape of the deconvolution op", i.e. the shape of that forward
    convolution's input; so it is consistent iff the forward convolution maps `output_shape` onto the input's
    spatial size. Per dimension, for a forward input length O and k' = d(k-1)+1 ("filter_height ... refer to the
    filter size after dilations", Notes on padding):
      - 'VALID': out = ceil((O - k' + 1) / s)  (= floor((O - k')/s) + 1); no padding, so c = 0.
      - 'SAME':  out = ceil(O / s); total pad = max(k' - s, 0) if O % s == 0 else max(k' - O % s, 0);
                 pad_top = total // 2 ("the bottom and right sides always get the one additional padded pixel"),
                 so c = total // 2.
      - explicit [pad_before, pad_after] ("the same format as what is passed to `tf.pad`", Notes on padding,
        "Explicit padding"): out = floor((O + pb + pa - k') / s) + 1; c = pb. Only tf.nn.conv2d_transpose
        documents a list for `padding`; conv_transpose, conv1d_transpose and conv3d_transpose say "A string,
        either 'VALID' or 'SAME'", so explicit pads are drawn only for conv2d_transpose. Padding is an amount
        of zeros inserted (tf.pad), so negative pads are outside the documented domain.
    The transpose of a convolution whose output would not be the input's size is not defined: refused.
    Accepted: y = full[o + c], o < L = O.
  * data_format: channels-last (NWC/NHWC/NDHWC, default) or channels-first (NCW/NCHW/NCDHW); none of the four
    docstrings restricts channels-first to a device, so it is modelled as accepted everywhere.
  * dilations: "If set to k > 1, there will be k-1 skipped cells between each filter element"; no docstring
    restricts dilations by device, dtype or stride (only the batch/channel entries must be 1, which we never set).
  * filters: conv{1,2,3}d_transpose document `[*spatial, output_channels, in_channels]`; tf.nn.conv_transpose
    documents `spatial_filter_shape + [in_channels, out_channels]`, but the op it calls (Conv{2,3}DBackpropInput)
    reads `[*spatial, output_channels, in_channels]` like the others, and that is what users who get it to run
    pass. So tf.nn.conv_transpose is called with the layout the op reads (its shapes, values and gradients are
    judged on their merits), and the docstring's layout is a narrow case of its own: the parameter
    `filters_layout` is 'op' in seven draws of eight and 'docstring' in the eighth (the divergence is an expected
    entry: refused when C_in != C_out, the channel axes read swapped when equal). As the gradient of a
    (cross-correlation) convolution, no flip: canonical w (c_in, c_out, *k) is only transposed.
tf.nn has no groups and no bias parameter.

Dtypes, modes, devices (conformance.harness.agreement; suites/test_dtypes.py, test_modes.py, test_devices.py):
  * dtypes: the ops behind these functions take "half, bfloat16, float32, float64"
    (https://www.tensorflow.org/api_docs/python/tf/raw_ops/Conv2DBackpropInput,
    https://www.tensorflow.org/api_docs/python/tf/raw_ops/Conv3DBackpropInputV2); no accumulation precision is
    documented for the half-precision kernels, so their bound is the dtype's own.
  * float32 on GPUs: "TensorFloat-32 execution ... is enabled by default" and makes "convolutions ... run much
    faster on NVIDIA Ampere GPUs" with "reduced precision"
    (https://www.tensorflow.org/api_docs/python/tf/config/experimental/enable_tensor_float_32_execution): the bound
    uses TF32's unit roundoff while tf.config.experimental.tensor_float_32_execution_enabled().
  * modes: "xla" = the call inside tf.function(jit_compile=True) (https://www.tensorflow.org/xla);
    "onednn-off" = the call in a child Python started with TF_ENABLE_ONEDNN_OPTS=0 (TensorFlow reads it once, at
    import: "oneDNN custom operations are on. You may see slightly different numerical results due to
    floating-point round-off errors from different computation orders. To turn them off, set the environment
    variable `TF_ENABLE_ONEDNN_OPTS=0`", its start-up log on x86 CPUs).
  * determinism: "By default, op determinism is not enabled, so ops might return different results when run with
    the same inputs" (tf.config.experimental.enable_op_determinism, DOC_DETERMINISM below; on every device): two
    calls that differ are recorded, not failed, unless op determinism was enabled.
"""

from __future__ import annotations

import abc

from conformance.core.rules import Case, Check, Rules
from conformance.core.source import shipped
from conformance.core.spec import Conv, Dim
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

DOC_GENERIC = "https://www.tensorflow.org/api_docs/python/tf/nn/conv_transpose"
DOC_RANKED = "https://www.tensorflow.org/api_docs/python/tf/nn/conv2d_transpose"
DOC_PADDING = "https://www.tensorflow.org/api_docs/python/tf/nn#notes_on_padding_2"
CHANNELS_LAST = {1: "NWC", 2: "NHWC", 3: "NDHWC"}
CHANNELS_FIRST = {1: "NCW", 2: "NCHW", 3: "NCDHW"}


def _tf_device(device: str) -> str:
    return "/CPU:0" if device == "cpu" else "/GPU:" + (device.split(":")[1] if ":" in device else "0")


DOC_TF32 = "https://www.tensorflow.org/api_docs/python/tf/config/experimental/enable_tensor_float_32_execution"
DOC_DETERMINISM = "https://www.tensorflow.org/api_docs/python/tf/config/experimental/enable_op_determinism"
# execution modes as data (conformance.harness.surface.Mode): "xla" is applied by tf_conv_transpose; "onednn-off" is
# the same call in a worker process started with TF_ENABLE_ONEDNN_OPTS=0 (TensorFlow reads it once, at import)
MODES = (EAGER, Mode("xla"), Mode("onednn-off", env=(("TF_ENABLE_ONEDNN_OPTS", "0"),)))


def _per_dim_padding(padding, rank: int) -> list:
    return [padding] * rank if isinstance(padding, str) else [tuple(p) for p in padding]


# -- documented semantics, as data (conformance.core.rules): what the judge and explain both evaluate ---------------
# The ops are the gradient of the forward conv with the same stride, dilation and padding: output_shape O must be an
# input size that conv maps back to i (Notes on padding: VALID ceil((O-k'+1)/s); SAME ceil(O/s); explicit: the conv
# of tf.pad(input) with 'VALID', floor((O+pb+pa-k')/s)+1), and the window starts at that conv's left pad.
FORWARD = "output_shape must be an input size the forward conv maps back to the input's (the op is its gradient)"
DOC_FORWARD = " (output_shape); " + DOC_PADDING
POSITIVE = Check("output_shape >= 1", "output_shape sizes are positive")


def _rules(doc: str, explicit: str) -> Rules:
    """The rules of one function (`doc`); `explicit`: the condition under which explicit pads are documented."""
    return Rules(
        checks=(Check("data_format in (('NWC', 'NCW'), ('NHWC', 'NCHW'), ('NDHWC', 'NCDHW'))[rank - 1]",
                      "data_format is not one documented for this rank", doc + " (data_format)"),
                Check(f"padding != 'pairs' or {explicit}", "padding must be 'VALID' or 'SAME' for this function",
                      doc + " (padding)")),
        cases=(
            Case(("total = max(kd - (s if output_shape % s == 0 else output_shape % s), 0)", "c = total // 2",
                  "L = output_shape"), when="padding == 'SAME'",
                 checks=(Check("ceil_div(output_shape, s) == i", FORWARD, doc + DOC_FORWARD), POSITIVE),
                 source=DOC_PADDING + " ('SAME': pad_top = total // 2); " + doc),
            Case(("c = 0", "L = output_shape"), when="padding == 'VALID'",
                 checks=(Check("ceil_div(output_shape - kd + 1, s) == i", FORWARD, doc + DOC_FORWARD), POSITIVE),
                 source=DOC_PADDING + " ('VALID'); " + doc),
            Case(("c = lo", "L = output_shape"), when="padding == 'pairs'",
                 checks=(Check("lo >= 0 and hi >= 0", "explicit padding is a tf.pad amount of zeros",
                               DOC_PADDING + " (Explicit padding)"),
                         Check("(output_shape + lo + hi - kd) // s + 1 == i", FORWARD, doc + DOC_FORWARD), POSITIVE),
                 source=DOC_PADDING + " (Explicit padding); " + doc)),
        doc=doc)


GENERIC_RULES = _rules(DOC_GENERIC, "False")        # tf.nn.conv_transpose: 'VALID' or 'SAME' only (its docstring)
RANKED_RULES = _rules(DOC_RANKED, "rank == 2")      # explicit padding is documented for conv2d_transpose only


def _consistent_range(dim: Dim, padding) -> tuple[int, int]:
    """Smallest and largest O the forward conv maps onto dim.i (from the rules above)."""
    if padding == "VALID":
        return dim.full, dim.full + dim.s - 1
    if padding == "SAME":
        return (dim.i - 1) * dim.s + 1, dim.i * dim.s
    pb, pa = padding
    return dim.full - pb - pa, dim.full - pb - pa + dim.s - 1


def _draw(draw: Drawer, conv: Conv, explicit: bool, layouts: bool = False) -> dict:
    modes = ["SAME", "VALID"] + (["EXPLICIT"] if explicit else [])
    mode = draw.choice(modes, "padding")
    if mode == "EXPLICIT":
        padding = [[draw.integer(-1, dim.kd, "pad_before"), draw.integer(-1, dim.kd, "pad_after")]
                   for dim in conv.dims()]
    else:
        padding = mode
    # Mostly consistent output shapes (accepted), sometimes one step outside the consistent range (refused).
    wide = draw.integer(0, 3, "output_shape_off_range") == 3
    sizes = []
    for dim, pad in zip(conv.dims(), _per_dim_padding(padding, conv.rank)):
        lo, hi = _consistent_range(dim, pad)
        lo, hi = (lo - 1, hi + 1) if wide else (lo, hi)
        sizes.append(draw.integer(max(1, lo), max(1, hi), "output_shape"))
    fmt = CHANNELS_FIRST[conv.rank] if draw.boolean("channels_first") else CHANNELS_LAST[conv.rank]
    params = {"padding": padding, "output_shape": sizes, "data_format": fmt}
    if layouts:   # tf.nn.conv_transpose: its docstring's filter layout in one draw of eight (module doc)
        params["filters_layout"] = "docstring" if draw.integer(0, 7, "filters_layout_docstring") == 7 else "op"
    return params


def _layout(params: dict, conv: Conv):
    """(input axes permutation, filter permutation, full output_shape, TF padding, output permutation).

    The filter as the ops read it (and conv{1,2,3}d_transpose document it), spatial + [output_channels,
    in_channels]; with params["filters_layout"] == "docstring", as tf.nn.conv_transpose's docstring gives it,
    spatial + [in_channels, out_channels]."""
    filter_in_out = params.get("filters_layout") == "docstring"
    r = conv.rank
    first = params["data_format"].startswith("NC")
    sp = list(range(2, 2 + r))
    x_perm = [0, 1, *sp] if first else [0, *sp, 1]
    # canonical (c_in, c_out, *k) -> (*k, c_in, c_out) or (*k, c_out, c_in)
    w_perm = [*sp, 0, 1] if filter_in_out else [*sp, 1, 0]
    out = [conv.batch, conv.c_out, *params["output_shape"]] if first else [conv.batch, *params["output_shape"],
                                                                          conv.c_out]
    y_perm = x_perm if first else [0, r + 1, *range(1, r + 1)]
    padding = params["padding"]
    if not isinstance(padding, str):
        pads = [list(p) for p in padding]
        padding = [[0, 0], [0, 0], *pads] if first else [[0, 0], *pads, [0, 0]]
    return x_perm, w_perm, out, padding, y_perm


# -- portable intents (conformance.harness.portable), spelled the way TensorFlow users write them --------------------
# tf.nn takes the output size itself (output_shape) and a padding mode; users give the size they want and the
# mode that names their intent. conv2d_transpose also takes explicit [before, after] pads, the faithful port
# of a PyTorch padding; tf.nn.conv_transpose has only 'SAME'/'VALID', so a port to it passes the wanted size
# with 'SAME' (and TensorFlow places the window by its own SAME rule).
def _torch_idiom_pads(intent: str, dim: Dim) -> tuple[int, int, int]:
    """(before, after, output size) of the intents that name crops of the full result."""
    if intent == "torch-half-pad-output-padding":
        p = (dim.kd - 1) // 2
        return p, p, dim.full - 2 * p + dim.s - 1
    if intent == "torch-half-pad":
        p = dim.kd // 2
        return p, p, dim.full - 2 * p
    lo, hi = asymmetric_crop(dim)                    # explicit-asymmetric
    return lo, hi, dim.full - lo - hi


def spell(intent: str, conv: Conv, explicit_ok: bool, layouts: bool = False) -> dict:
    dims = conv.dims()
    if intent == "same":
        padding, sizes = "SAME", [dim.i * dim.s for dim in dims]
    elif intent == "valid":
        padding, sizes = "VALID", [dim.full for dim in dims]
    elif intent == "exact-size":
        padding, sizes = "SAME", [exact_size_target(dim) for dim in dims]
    elif intent == "same-output-padding":          # the size the Keras layer gives, with 'SAME'
        padding = "SAME"
        sizes = [(dim.i - 1) * dim.s + dim.kd - 2 * (dim.kd // 2) + dim.s - 1 for dim in dims]
    elif intent in ("torch-half-pad-output-padding", "torch-half-pad", "explicit-asymmetric"):
        pads = [_torch_idiom_pads(intent, dim) for dim in dims]
        sizes = [n for _, _, n in pads]
        # "padding: ... or a list indicating the explicit paddings at the start and end of each dimension"
        # (tf.nn.conv2d_transpose); we hold it per spatial dimension, the adapter adds the batch/channel zeros
        padding = [[lo, hi] for lo, hi, _ in pads] if explicit_ok else "SAME"
    else:
        raise Unexpressible(f"no TensorFlow spelling of intent {intent!r}")
    return {"padding": padding, "output_shape": sizes, "data_format": CHANNELS_LAST[conv.rank],
            **({"filters_layout": "op"} if layouts else {})}


def spell_fault(fault: str, conv: Conv, values: list, explicit_ok: bool, layouts: bool = False) -> dict:
    params = spell("valid", conv, explicit_ok, layouts)
    if fault == "output-size":
        return {**params, "output_shape": list(values)}
    if fault == "output-size-rank":
        return {**params, "output_shape": [*params["output_shape"], params["output_shape"][-1]]}
    if fault == "padding" and explicit_ok:
        return {**params, "padding": [[v, v] for v in values],
                "output_shape": [dim.full - 2 * v for dim, v in zip(conv.dims(), values)]}
    raise Unexpressible("tf.nn takes no output_padding (output_shape sets the size)" if fault == "output-padding"
                        else "explicit padding is documented for conv2d_transpose only")


# -- the call, written once (conformance.core.source): run in-process, shipped to the worker and into reproducers -----
@shipped
def tf_conv_transpose(x, w, b, gy=None, *, fn, output_shape, strides, padding, data_format, dilations, x_perm,
                      w_perm, y_perm, device, mode="eager"):
    """tf.nn.<fn> (conv_transpose, conv1d_transpose, conv2d_transpose, conv3d_transpose) on canonical NumPy arrays: x
    (N, C_in, *i) transposed by x_perm into data_format, w (C_in, C_out, *k) transposed by w_perm into the filter
    layout (no flip: the op is the gradient of a cross-correlation), the result transposed back by y_perm (tf.nn has
    no bias). output_shape is the full shape (batch and channels included), padding 'SAME', 'VALID' or explicit
    [before, after] pairs for every axis. mode 'xla' runs it inside tf.function(jit_compile=True); every other mode
    is a plain eager call (a mode that is an environment switch runs this same code in another process). Returns y;
    given a cotangent gy, the VJPs (gx, gw, None) by tf.GradientTape over the same call, the transposes inside the
    tape so that the gradients come back in the canonical layouts."""
    import numpy as np
    import tensorflow as tf

    op = getattr(tf.nn, fn)

    def call(tx, tw):
        return op(tx, tw, output_shape, strides=strides, padding=padding, data_format=data_format,
                  dilations=dilations)
    if mode == "xla":
        call = tf.function(call, jit_compile=True)
    with tf.device(device):
        if gy is None:
            y = call(tf.constant(np.transpose(x, x_perm)), tf.constant(np.transpose(w, w_perm)))
            return np.transpose(y.numpy(), y_perm)
        tx, tw = tf.constant(x), tf.constant(w)
        with tf.GradientTape() as tape:
            tape.watch([tx, tw])
            y = tf.transpose(call(tf.transpose(tx, x_perm), tf.transpose(tw, w_perm)), y_perm)
        gx, gw = tape.gradient(y, [tx, tw], output_gradients=tf.constant(gy))
        gx = tf.zeros_like(tx) if gx is None else gx
        gw = tf.zeros_like(tw) if gw is None else gw
        return gx.numpy(), gw.numpy(), None


class _TFSurface(Surface):
    @abc.abstractmethod
    def _fn_name(self, conv: Conv) -> str:
        """The tf.nn function this surface calls for `conv`'s rank."""

    def arguments(self, params, conv, dtype, device, mode="eager"):
        x_perm, w_perm, out, padding, y_perm = _layout(params, conv)
        return {"fn": self._fn_name(conv), "output_shape": out, "strides": conv.stride, "padding": padding,
                "data_format": params["data_format"], "dilations": conv.dilation, "x_perm": x_perm,
                "w_perm": w_perm, "y_perm": y_perm, "device": _tf_device(device), "mode": mode}

    def accumulation(self, dtype, device, mode="eager", params=None):
        if dtype == "float32" and device != "cpu":
            import tensorflow as tf
            if tf.config.experimental.tensor_float_32_execution_enabled():   # the default: DOC_TF32
                return "tfloat32"
        return None

    def nondeterminism(self, device, mode="eager"):
        try:   # public: enable_op_determinism only; the query lives in tensorflow.python.framework.config
            from tensorflow.python.framework.config import is_op_determinism_enabled
        except ImportError:
            is_op_determinism_enabled = bool
        if is_op_determinism_enabled():
            return None
        return ("\"By default, op determinism is not enabled, so ops might return different results when run with the "
                f"same inputs\" [{DOC_DETERMINISM}]")


class Generic(_TFSurface):
    RULES = GENERIC_RULES

    def _fn_name(self, conv):
        return "conv_transpose"

    def draw_params(self, draw: Drawer, conv: Conv) -> dict:
        return _draw(draw, conv, explicit=False, layouts=True)

    def spell(self, intent: str, conv: Conv) -> dict:
        return spell(intent, conv, explicit_ok=False, layouts=True)

    def spell_fault(self, fault: str, conv: Conv, values: list) -> dict:
        return spell_fault(fault, conv, values, explicit_ok=False, layouts=True)


class Ranked(_TFSurface):
    RULES = RANKED_RULES

    def _fn_name(self, conv):
        return f"conv{conv.rank}d_transpose"

    def draw_params(self, draw: Drawer, conv: Conv) -> dict:
        return _draw(draw, conv, explicit=conv.rank == 2)

    def spell(self, intent: str, conv: Conv) -> dict:
        return spell(intent, conv, explicit_ok=conv.rank == 2)

    def spell_fault(self, fault: str, conv: Conv, values: list) -> dict:
        return spell_fault(fault, conv, values, explicit_ok=conv.rank == 2)


def load() -> Adapter:
    try:
        import tensorflow as tf
    except ImportError as exc:
        raise FrameworkUnavailable(f"tensorflow is not installed ({exc})") from None
    devices = [Device("cpu", "cpu", cpu_model())]
    for gpu in tf.config.list_physical_devices("GPU"):
        try:   # allocate on demand (also TF_FORCE_GPU_ALLOW_GROWTH, adapters/__init__.py): other frameworks share it
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:   # the GPU is already initialised (TensorFlow was used before load())
            pass
    for n, gpu in enumerate(tf.config.list_physical_devices("GPU")):
        try:
            model = tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name)
        except Exception:  # noqa: BLE001 - details are descriptive only
            model = gpu.name
        devices.append(Device(f"gpu:{n}", "gpu", model))
    return Adapter(name="tensorflow", version=tf.__version__, devices=devices, surfaces=surfaces())


def surfaces() -> list[Surface]:
    """This adapter's surfaces, built without importing tensorflow (load() adds the version and devices)."""
    common = dict(framework="tensorflow", groups=False, bias=False,
                  dtypes=("float16", "bfloat16", "float32", "float64"), modes=MODES, call=tf_conv_transpose,
                  gradient=True, api_arguments=("output_shape", "strides", "padding", "data_format", "dilations"))
    return [Generic(name="tf.nn.conv_transpose", doc=DOC_GENERIC,
                    param_keys=("padding", "output_shape", "data_format", "filters_layout"), **common),
            Ranked(name="tf.nn.conv{1,2,3}d_transpose", doc=DOC_RANKED,
                   param_keys=("padding", "output_shape", "data_format"), **common)]


# -- command line (conformance.explain.spelling): how TensorFlow users write these calls, for explain/solve/translate --
def spellings() -> list:
    from conformance.explain.spelling import CallText, Param, Spelling, WeightLayout

    generic, ranked = surfaces()

    def pads(dim, n):
        return [(lo, hi) for lo in range(0, dim.kd + 1) for hi in range(0, dim.kd + 1)]

    def params(explicit: bool, layouts: bool = False):
        return (*((Param("filters_layout", ("--filters-layout",), "choice", choices=("op", "docstring"),
                         default="op", help="'op': spatial + [out_channels, in_channels], what the op reads; "
                                            "'docstring': spatial + [in_channels, out_channels], as its docstring "
                                            "says"),) if layouts else ()),
            Param("padding", ("--padding", "-p"), "choice|pairs" if explicit else "choice", choices=("SAME", "VALID"),
                  default="SAME", search=pads if explicit else (lambda dim, n: ()),
                  help="'SAME', 'VALID'" + (", or explicit before:after pads per dimension (2-D only)"
                                            if explicit else "")),
            Param("output_shape", ("--output-shape",), "ints",
                  search=lambda dim, n: range(max(1, min(n, (dim.i - 1) * dim.s) - dim.s),
                                              max(n, dim.full) + dim.s + 1),
                  help="the spatial output size (required by tf.nn; solve finds the ones that fit)"),
            Param("data_format", ("--data-format", "--layout"), "layout",
                  default=lambda conv, p: CHANNELS_LAST[conv.rank],
                  layouts=lambda rank, which: (CHANNELS_FIRST if which == "first" else CHANNELS_LAST)[rank]))

    # the call as users write it, rendered from `arguments` (the values tf_conv_transpose passes to tf.nn): the
    # whole output_shape and, for explicit pads, the zero pairs of the batch and channel axes included
    call = CallText("tf.nn.{fn}", "input, filters", (
        ("output_shape", "output_shape"), ("strides", "strides"), ("padding", "padding"),
        ("data_format", "data_format"), ("dilations", "dilations")))

    last = lambda params: not params["data_format"].startswith("NC")  # noqa: E731
    return [
        Spelling(ranked, ("tf.nn.conv{r}d_transpose", "tensorflow.nn.conv{r}d_transpose", "conv{r}d_transpose"),
                 params=params(explicit=True), text=call,
                 weights=lambda p, conv: WeightLayout((*range(2, conv.rank + 2), 1, 0), name="filters"),
                 ranked=True, channels_last=last),
        Spelling(generic, ("tf.nn.conv_transpose", "tensorflow.nn.conv_transpose"),
                 params=params(explicit=False, layouts=True), text=call,
                 weights=lambda p, conv: WeightLayout(
                     (*range(2, conv.rank + 2), *((0, 1) if p.get("filters_layout") == "docstring" else (1, 0))),
                     name="filters"),
                 channels_last=last,
                 notes="filters as the op reads them, spatial + [out_channels, in_channels]; its docstring says "
                       "spatial + [in_channels, out_channels], which the op reads with the channel axes swapped "
                       "(expected divergence tf-conv-transpose-filter-layout-*)"),
    ]
