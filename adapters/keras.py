"""Keras 3 adapter: keras.layers.Conv{1,2,3}DTranspose, on whichever backend KERAS_BACKEND selects.

The adapter's framework name is f"keras-{backend}" ("keras-tensorflow", "keras-torch", "keras-jax"): the same
layer is a different implementation per backend, so each backend is checked (and recorded) on its own.

Documented semantics (keras.io, https://keras.io/api/layers/convolution_layers/convolution2d_transpose/ and the
Conv1DTranspose / Conv2DTranspose / Conv3DTranspose docstrings of the installed keras 3):
  * "Conv2DTranspose ... a transformation going in the opposite direction of a normal convolution, i.e., from
    something that has the shape of the output of some convolution to something that has the shape of its input"
    ->  the layer is the transpose of Conv{1,2,3}D with the same strides, dilation and padding.
  * padding: "`"valid"` means no padding. `"same"` results in padding evenly to the left/right or up/down of the
    input. When `padding="same"` and `strides=1`, the output has the same size as the input."
    ->  'valid': the forward conv pads nothing, so nothing is cropped: c = 0.
    ->  'same': the forward conv (input length L, output length i) pads max((i-1)s + k' - L, 0) in total, evenly,
        the odd one on the right/bottom (the Keras/TensorFlow 'same' convention, keras.io Conv2D); its left pad is
        where the transposed output starts in the full result: c = max((i-1)s + k' - L, 0) // 2.
  * Output length: the Keras 3 docstrings give no formula ("new_steps"); the tf.keras / Keras 2 Conv2DTranspose
    docstring ("Output shape", https://www.tensorflow.org/api_docs/python/tf/keras/layers/Conv2DTranspose) does:
        new_rows = ((rows - 1) * strides[0] + kernel_size[0] - 2 * padding[0] + output_padding[0])
    with kernel_size the dilated span k' and `padding` left undefined there; the change that introduced
    output_padding and this formula (https://github.com/keras-team/keras/pull/10246) defines it as 0 for 'valid'
    and kernel_size // 2 for 'same' ->
        'valid': L = F + output_padding;   'same': L = (i-1)s + k' - 2 (k' // 2) + output_padding
    (for an even k' that is one less than (i-1)s + 1 + output_padding, so output_padding = s - 1 gives i*s - 1,
    not the i*s that "same" suggests: see the README's Keras note).
    "If set to `None` (default), the output shape is inferred": inferred as in the same change: 'valid' ->
    L = i*s + max(k' - s, 0) (F, or F plus s - k' zeros when k' < s); 'same' -> L = i*s (the forward 'same' conv
    maps i*s back to i; with strides=1 "the output has the same size as the input").
  * Refusals:
      - "The amount of output padding along a given dimension must be lower than the stride along that same
        dimension"  ->  output_padding >= stride is refused.
      - "`strides > 1` is incompatible with `dilation_rate > 1`" / "Currently, specifying any `dilation_rate`
        value != 1 is incompatible with specifying any stride value != 1" / "Raises: ValueError: when both
        `strides > 1` and `dilation_rate > 1`"  ->  any stride > 1 together with any dilation > 1 is refused.
      - Conv1DTranspose: "Also dilation rate larger than 1 is not currently supported." -> rank 1, dilation > 1.
      - Conv2DTranspose: "Specifying different dilation rates for different dimensions is not supported."
    There is no `groups` argument on the Keras 3 transposed convolutions.
Devices: a layer is made and called the way users do: with no device scope when the case's device is the backend's
default (the CPU on a machine without a GPU), else inside keras.device("cpu") / keras.device("gpu:N")
(https://keras.io/api/utils/config_utils/#device-function). The parameter `device_scope` is None in seven draws of
eight; in the eighth it is 'indexed': the layer is built inside keras.device("cpu:0") (the spelling keras.device's
docstring shows), a narrow case of its own (on the torch backend such a layer's variables get no gradient: an
expected divergence).
Weights: kernel shape (*kernel_size, filters, in_channels) ("`kernel` has shape [kernel_spatial_shape,
num_output_channels, num_input_channels]", keras.ops.conv_transpose); checked against the reference: no flip,
so the canonical (c_in, c_out, *k) kernel is only transposed.
"""

from __future__ import annotations

from conformance.core import rules
from conformance.core.rules import Case, Check, Rules
from conformance.core.source import shipped
from conformance.core.spec import Conv
from conformance.harness.portable import exact_size_target
from conformance.harness.surface import (
    Adapter,
    Device,
    Drawer,
    FrameworkUnavailable,
    Surface,
    Unexpressible,
    cpu_model,
)

DOC = "https://keras.io/api/layers/convolution_layers/convolution2d_transpose/"
DOC_1D = "https://keras.io/api/layers/convolution_layers/convolution1d_transpose/"
DOC_3D = "https://keras.io/api/layers/convolution_layers/convolution3d_transpose/"
DOC_CONV = "https://keras.io/api/layers/convolution_layers/convolution2d/"
# -- documented semantics, as data (conformance.core.rules): what the judge and explain both evaluate ---------------
# new_rows = (rows - 1) * strides + kernel_size - 2 * padding + output_padding (the layer's 'Output shape'), with
# `padding` as 'same'/'valid' imply: "`valid` means no padding", 2 * padding = 0; 'same' with output_padding:
# padding = kernel_size // 2, as defined where output_padding and this formula were introduced (keras-team/keras#10246,
# conv_utils.deconv_length; the docstring itself leaves `padding` undefined). output_padding None ("the output shape
# is inferred"): 'valid' i*s + max(k' - s, 0), F when k' >= s, else F plus s - k' trailing zeros (#10246); 'same'
# i*s, the length the forward 'same' conv maps back to i. The crop is the left pad of the forward conv whose
# transpose this layer is: 0 for 'valid'; for 'same' "padding evenly to the left/right ... of the input" (Conv2D
# docs), total max((i-1)s + k' - L, 0) with the odd one on the right, so total // 2. A length of 0 ('same' with
# output_padding, i = 1, even k', output_padding 0) is an empty output: the docs refuse nothing of the kind.
LOWER = Check("0 <= output_padding < s", "output_padding must be lower than the stride along that same dimension",
              DOC + " (output_padding)")
SAME_CROP = "c = max((i-1)*s + kd - L, 0) // 2"
LAYER_RULES = Rules(
    checks=(Check("max(stride) == 1 or max(dilation) == 1", "strides > 1 is incompatible with dilation_rate > 1",
                  DOC + " (strides, dilation_rate; Raises)"),
            Check("rank != 1 or max(dilation) == 1", "'dilation rate larger than 1 is not currently supported'",
                  DOC_1D + " (dilation_rate)"),
            Check("rank != 2 or min(dilation) == max(dilation)",
                  "'different dilation rates for different dimensions is not supported'", DOC + " (dilation_rate)")),
    cases=(
        Case(("c = 0", "L = i*s + max(kd - s, 0)"), when="padding == 'valid' and output_padding is None",
             source="keras-team/keras#10246 (output shape inferred); 'valid' means no padding " + DOC),
        Case(("c = 0", "L = F + output_padding"), when="padding == 'valid'", checks=(LOWER,),
             source="'Output shape': (i-1)s + k' - 2*0 + output_padding " + DOC),
        Case(("L = i*s", SAME_CROP), when="padding == 'same' and output_padding is None",
             source="'same' + inferred shape: i*s; c = the left pad of the forward 'same' conv (" + DOC_CONV + ")"),
        Case(("L = (i-1)*s + kd - 2*(kd // 2) + output_padding", SAME_CROP), when="padding == 'same'", checks=(LOWER,),
             source="'Output shape' with padding = k'//2 (keras-team/keras#10246) " + DOC
                    + "; c = the left pad of the forward 'same' conv")),
    doc=DOC)


def _keras_device(device: str, device_scope: str | None = None) -> str | None:
    """The keras.device() name the layer is built and called under, None for no scope (module doc, Devices)."""
    if device == "cpu":
        if device_scope == "indexed":
            return "cpu:0"
        return "cpu" if _HAS_GPU else None
    return "gpu:" + (device.split(":")[1] if ":" in device else "0")


_HAS_GPU = False    # whether the backend found a GPU (load() sets it): then the CPU needs an explicit scope


def _kernel_axes(rank: int) -> tuple[int, ...]:
    """Canonical (c_in, c_out, *k) -> Keras (*k, c_out, c_in)."""
    return (*range(2, 2 + rank), 1, 0)


# -- portable intents (conformance.harness.portable), spelled the way Keras users write them -------------------------
# Keras has only 'valid' and 'same' plus output_padding; an intent that needs another alignment is ported with
# 'same' (what answers on porting advise), and an exact size through output_padding.
def spell(intent: str, conv: Conv) -> dict:
    def same_with(lengths) -> list[int]:
        """output_padding for each wanted length with 'same': the documented length at output_padding 0, subtracted."""
        zero = {"padding": "same", "output_padding": [0] * conv.rank}
        return [n - rules.work(LAYER_RULES, zero, conv, axis).L for axis, n in enumerate(lengths)]

    if intent == "same":
        padding, output_padding = "same", None
    elif intent == "valid":
        padding, output_padding = "valid", None
    elif intent == "exact-size":
        padding, output_padding = "same", same_with([exact_size_target(dim) for dim in conv.dims()])
    elif intent in ("same-output-padding", "torch-half-pad-output-padding"):
        padding, output_padding = "same", [dim.s - 1 for dim in conv.dims()]
    elif intent == "torch-half-pad":
        padding, output_padding = "same", None
    elif intent == "explicit-asymmetric":
        raise Unexpressible("Conv*DTranspose takes only padding='valid' or 'same'; an explicit crop needs a "
                            "Cropping layer after it")
    else:
        raise Unexpressible(f"no Keras spelling of intent {intent!r}")
    return {"padding": padding, "output_padding": output_padding, "data_format": "channels_last", "device_scope": None}


class ConvTranspose(Surface):
    RULES = LAYER_RULES

    def draw_params(self, draw: Drawer, conv: Conv) -> dict:
        mode = draw.choice(["none", "legal", "any"], "output_padding_mode")
        if mode == "none":
            output_padding = None
        elif mode == "legal":
            output_padding = [draw.integer(0, dim.s - 1, "output_padding") for dim in conv.dims()]
        else:
            output_padding = [draw.integer(0, max(dim.s, dim.d), "output_padding") for dim in conv.dims()]
        return {"padding": draw.choice(["valid", "same"], "padding"),
                "output_padding": output_padding,
                "data_format": draw.choice(["channels_last", "channels_first"], "data_format"),
                # keras.device("cpu:0") in one draw of eight, the ordinary path otherwise (module doc, Devices)
                "device_scope": "indexed" if draw.integer(0, 7, "device_scope_indexed") == 7 else None}

    def accumulation(self, dtype, device, mode="eager", params=None):
        """float32 on a GPU: the backend's TensorFloat-32 default (adapters/tensorflow.py, torch.py, jax.py)."""
        if dtype != "float32" or device == "cpu":
            return None
        backend = self.framework.split("-", 1)[1]
        if backend == "torch":
            import torch
            return "tfloat32" if torch.backends.cudnn.allow_tf32 else None
        if backend == "tensorflow":
            import tensorflow as tf
            return "tfloat32" if tf.config.experimental.tensor_float_32_execution_enabled() else None
        import jax
        return None if str(jax.config.jax_default_matmul_precision).lower() in ("highest", "float32") else "tfloat32"

    def nondeterminism(self, device, mode="eager"):
        """The backend's own documentation (adapters/torch.py on CUDA, adapters/tensorflow.py everywhere)."""
        backend = self.framework.split("-", 1)[1]
        if backend in ("torch", "tensorflow"):
            import importlib
            module = importlib.import_module(f"adapters.{backend}")
            return module.surfaces()[0].nondeterminism(device, mode)
        return None

    def spell(self, intent: str, conv: Conv) -> dict:
        return spell(intent, conv)

    def spell_fault(self, fault: str, conv: Conv, values: list) -> dict:
        if fault == "output-padding":
            return {**spell("valid", conv), "output_padding": list(values)}
        raise Unexpressible("Conv*DTranspose takes padding 'valid'/'same' and output_padding only")

    def arguments(self, params, conv, dtype, device, mode="eager"):
        op = params["output_padding"]
        return {"backend": self.framework.split("-", 1)[1], "rank": conv.rank, "filters": conv.c_out,
                "kernel_size": conv.kernel, "strides": conv.stride, "padding": params["padding"],
                "output_padding": None if op is None else tuple(op), "data_format": params["data_format"],
                "dilation_rate": conv.dilation, "use_bias": conv.bias, "dtype": dtype,
                "scope": _keras_device(device, params.get("device_scope")), "kernel_axes": _kernel_axes(conv.rank)}


# -- the call, written once (conformance.core.source): run in-process, shipped to the worker and into reproducers -----
# The gradients are each backend's own autodiff, as the Keras guides on writing a training loop from scratch do it:
# tf.GradientTape (https://keras.io/guides/writing_a_training_loop_from_scratch/), torch autograd with
# `variable.value.grad` (https://keras.io/guides/writing_a_custom_training_loop_in_torch/), and jax.vjp over
# `layer.stateless_call(trainable, non_trainable, x)` (https://keras.io/guides/writing_a_custom_training_loop_in_jax/).
@shipped
def keras_conv_transpose(x, w, b, gy=None, *, backend, rank, filters, kernel_size, strides, padding, output_padding,
                         data_format, dilation_rate, use_bias, dtype, scope, kernel_axes):
    """keras.layers.Conv{rank}DTranspose on canonical NumPy arrays: built (inside keras.device(scope), or with no
    device scope when scope is None) with these arguments and dtype, its kernel set to w (C_in, C_out, *k) transposed
    by kernel_axes into Keras's (*k, filters, in_channels), its bias to b; x (N, C_in, *i) goes in channels-last when
    data_format says so and the result comes back canonical. Returns y; given a cotangent gy, the VJPs (gx, gw, gb) by
    the backend's own autodiff (a gradient the backend does not produce stays None)."""
    import contextlib
    import os
    import warnings
    os.environ.setdefault("KERAS_BACKEND", backend)
    import keras
    import numpy as np

    last = data_format == "channels_last"
    to_last, to_first = (0, *range(2, rank + 2), 1), (0, rank + 1, *range(1, rank + 1))
    xin = np.transpose(x, to_last) if last else x
    with contextlib.nullcontext() if scope is None else keras.device(scope):
        m = getattr(keras.layers, f"Conv{rank}DTranspose")(
            filters, kernel_size, strides=strides, padding=padding, output_padding=output_padding,
            data_format=data_format, dilation_rate=dilation_rate, use_bias=use_bias, dtype=dtype)
        m.build(xin.shape)
        m.set_weights([np.transpose(w, kernel_axes), b] if use_bias else [np.transpose(w, kernel_axes)])
        if gy is None:
            y = keras.ops.convert_to_numpy(m(xin))
            return np.transpose(y, to_first) if last else y
        gyin = np.transpose(gy, to_last) if last else gy
        if backend == "tensorflow":
            import tensorflow as tf
            tx = tf.constant(xin)
            with tf.GradientTape() as tape:
                tape.watch(tx)
                yt = m(tx)
            grads = tape.gradient(yt, [tx, m.kernel] + ([m.bias] if use_bias else []),
                                  output_gradients=tf.constant(gyin))
        elif backend == "torch":
            tx = keras.ops.convert_to_tensor(xin).detach().requires_grad_()   # a leaf: autograd fills tx.grad
            m(tx).backward(keras.ops.convert_to_tensor(gyin))
            with warnings.catch_warnings():   # torch warns when .grad is read off a non-leaf: it is None then
                warnings.simplefilter("ignore", UserWarning)
                grads = [tx.grad, m.kernel.value.grad] + ([m.bias.value.grad] if use_bias else [])
        else:
            import jax
            import jax.numpy as jnp
            trainable = [v.value for v in m.trainable_variables]
            fixed = [v.value for v in m.non_trainable_variables]
            gxl, gtv = jax.vjp(lambda xv, tv: m.stateless_call(tv, fixed, xv)[0], jnp.asarray(xin),
                               trainable)[1](jnp.asarray(gyin))
            slot = {id(v): n for n, v in enumerate(m.trainable_variables)}
            grads = [gxl, gtv[slot[id(m.kernel)]]] + ([gtv[slot[id(m.bias)]]] if use_bias else [])
        grads = [None if g is None else keras.ops.convert_to_numpy(g) for g in grads] + [None]
    gx = grads[0] if grads[0] is None or not last else np.transpose(grads[0], to_first)
    gw = None if grads[1] is None else np.transpose(grads[1], tuple(int(a) for a in np.argsort(kernel_axes)))
    return gx, gw, grads[2] if use_bias else None


def _backend_version(backend: str) -> str:
    try:
        module = __import__(backend)
        return getattr(module, "__version__", "?")
    except ImportError:
        return "?"


def _devices(backend: str) -> list[Device]:
    devices = [Device("cpu", "cpu", cpu_model())]
    try:
        if backend == "torch":
            import torch
            names = [torch.cuda.get_device_name(n) for n in range(torch.cuda.device_count())]
        elif backend == "jax":
            import jax
            names = [getattr(d, "device_kind", str(d)) for d in jax.devices() if d.platform == "gpu"]
        elif backend == "tensorflow":
            import tensorflow as tf
            names = [tf.config.experimental.get_device_details(d).get("device_name", d.name)
                     for d in tf.config.list_physical_devices("GPU")]
        else:
            names = []
    except Exception:  # noqa: BLE001 - a backend that cannot list GPUs simply has none
        names = []
    devices += [Device(f"gpu:{n}", "gpu", name) for n, name in enumerate(names)]
    return devices


def load() -> Adapter:
    try:
        import keras
    except ImportError as exc:
        raise FrameworkUnavailable(f"keras is not installed ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - e.g. KERAS_BACKEND names a backend that is not installed
        raise FrameworkUnavailable(f"keras could not be imported ({type(exc).__name__}: {exc})") from None
    backend = keras.backend.backend()
    if backend not in ("tensorflow", "torch", "jax"):
        raise FrameworkUnavailable(f"keras backend {backend!r} is not covered (tensorflow, torch, jax)")
    name = f"keras-{backend}"
    # the layer's dtype is any floating dtype of the backend (keras.layers.Layer, `dtype`); no accumulation precision
    # is documented for half precision, so its bound is the dtype's own
    dtypes = ("float16", "bfloat16", "float32", "float64")
    notes = "Conv{1,2,3}DTranspose; no groups argument in Keras 3"
    if backend == "jax":
        import jax
        if not jax.config.jax_enable_x64:
            # without x64 JAX silently computes a dtype="float64" layer in float32; JAX_ENABLE_X64=1 enables it
            dtypes = ("float16", "bfloat16", "float32")
            notes += "; float64 needs JAX_ENABLE_X64=1 (jax computes it in float32)"
    surface, = surfaces(backend, dtypes=dtypes, notes=notes)
    global _HAS_GPU
    devices = _devices(backend)
    _HAS_GPU = any(d.kind == "gpu" for d in devices)
    return Adapter(name=name, version=f"{keras.__version__} (backend {backend} {_backend_version(backend)})",
                   devices=devices, surfaces=[surface])


def surfaces(backend: str = "tensorflow", dtypes: tuple[str, ...] = ("float32", "float64"),
             notes: str = "Conv{1,2,3}DTranspose; no groups argument in Keras 3") -> list[Surface]:
    """The layer's surface on `backend`, built without importing keras (load() passes what it found)."""
    return [ConvTranspose(framework=f"keras-{backend}", name="keras.layers.ConvTranspose", doc=DOC, groups=False,
                          bias=True, dtypes=dtypes, notes=notes, call=keras_conv_transpose, gradient=True,
                          api_arguments=("filters", "kernel_size", "strides", "padding", "output_padding",
                                         "data_format", "dilation_rate", "use_bias"),
                          param_keys=("padding", "output_padding", "data_format", "device_scope"))]


# -- command line (conformance.explain.spelling): how Keras users write this layer, for explain/solve/translate --------
def spellings() -> list:
    import os

    from conformance.explain.spelling import CallText, Param, Spelling, WeightLayout

    backends = ("tensorflow", "torch", "jax")
    variants = {b: surfaces(b)[0] for b in backends}
    default = os.environ.get("KERAS_BACKEND", "tensorflow")
    default = default if default in variants else "tensorflow"

    # the layer as users build it, rendered from `arguments` (the values keras_conv_transpose passes to Keras)
    call = CallText("keras.layers.Conv{rank}DTranspose", "", tuple((key, key) for key in (
        "filters", "kernel_size", "strides", "padding", "output_padding", "data_format", "dilation_rate", "use_bias")))

    return [Spelling(
        variants[default], ("keras.layers.Conv{r}DTranspose", "keras.Conv{r}DTranspose", "layers.Conv{r}DTranspose",
                            "tf.keras.layers.Conv{r}DTranspose", "Conv{r}DTranspose"),
        params=(Param("padding", ("--padding", "-p"), "choice", choices=("valid", "same"), default="valid",
                      search=lambda dim, n: ()),
                Param("output_padding", ("--output-padding",), "ints|none", choices=(None,), default=None,
                      search=lambda dim, n: range(0, dim.s), help="per dimension, or none (inferred)"),
                Param("data_format", ("--data-format", "--layout"), "layout", default="channels_last",
                      layouts=lambda rank, which: f"channels_{which}"),
                Param("device_scope", ("--device-scope",), "choice", choices=(None, "indexed"), default=None,
                      help="none: no keras.device scope; 'indexed': built inside keras.device('cpu:0')")),
        text=call, ranked=True,
        weights=lambda p, conv: WeightLayout((*range(2, conv.rank + 2), 1, 0), name="kernel"),
        channels_last=lambda p: p["data_format"] == "channels_last",
        variants=variants, variant_option="--backend", default_variant=default)]
