"""JAX adapter: jax.lax.conv_transpose and jax.lax.conv_general_dilated(lhs_dilation=stride).

Documented semantics, jax 0.10.x docstrings
(https://docs.jax.dev/en/latest/_autosummary/jax.lax.conv_transpose.html,
 https://docs.jax.dev/en/latest/_autosummary/jax.lax.conv_general_dilated.html,
 https://docs.jax.dev/en/latest/_autosummary/jax.lax.padtype_to_pads.html,
 XLA Conv: https://openxla.org/xla/operation_semantics#conv_convolution).
Per dimension, D = (i-1)s + 1 is the stride-dilated ("fractionally strided") input and k' = d(k-1)+1.

conv_transpose:
  * "This function directly calculates a fractionally strided conv": a cross-correlation over the dilated
    input, so against the canonical scatter (a convolution) the kernel is spatially flipped; and
    "By default, JAX does NOT reverse the kernel's spatial dimensions ... To match TensorFlow/Keras behavior,
    set transpose_kernel=True", which "flips spatial axes and swaps the input/output channel axes".
  * 'SAME' / 'VALID' "are interpreted as the padding of the corresponding forward conv", with "output padding
    following the conventions of keras.layers.Conv2DTranspose":
      SAME:  L = i*s, and the forward conv of length L pads max(k'-s, 0) evenly, extra at the end
             ->  c = max(k'-s, 0) // 2;
      VALID: L = i*s + max(k'-s, 0), c = 0.
  * integer pairs with use_consistent_padding=False "are interpreted as padding for the transposed
    convolution": D padded by (lo, hi) and correlated with the k'-span kernel  ->  c = k'-1-lo,
    L = D + lo + hi - k' + 1.
  * integer pairs with use_consistent_padding=True are "the padding of the corresponding forward conv, which
    effectively adds dilation * (kernel_size - 1) - padding zero padding to each side ... This is the
    behavior in PyTorch"  ->  c = p_lo, L = F - p_lo - p_hi.
  * padding is documented as 'SAME', 'VALID' or integer 2-tuples: any other string is outside the domain.
  * no feature_group_count: groups are not expressible (unless a later signature adds it).
conv_general_dilated(window_strides=1, lhs_dilation=stride, rhs_dilation=dilation, feature_group_count):
  * "LHS dilation is also known as transposed convolution": a cross-correlation over D, kernel OIHW with
    rhs[g*M+m, ci, j] = w[g*Cin_g+ci, m, k-1-j] (canonical kernel flipped, per group).
  * explicit (low, high) pairs pad D: c = k'-1-lo, L = D + lo + hi - k' + 1.
  * 'SAME' / 'SAME_LOWER' "add padding to produce same output size as the input", split evenly, the odd one
    at the end ('SAME') or beginning ('SAME_LOWER'); 'VALID' adds none (padtype_to_pads). The docs do not
    restrict the strings to lhs_dilation=1, and XLA pads the dilated base, so: total k'-1, L = D,
    c = k'-1-lo with lo = (k'-1)//2 ('SAME') or k'-1-(k'-1)//2 ('SAME_LOWER'); 'VALID': c = k'-1, L = D-k'+1.
Both: XLA documents negative padding as removing elements ("the amount of padding can be negative"), so
negative pads are in the domain; and XLA counts window positions, so a formula length below 0 is an empty
dimension (L = 0), not an error. Refused: pads that remove more than the whole stride-dilated input (a
negative-size padded base is not a shape).
`precision=None` is "the default precision for the backend" (which may be reduced on GPUs); 'highest'
asks for full precision. It does not change the window.

Dtypes, modes, devices (conformance.harness.agreement; suites/test_dtypes.py, test_modes.py, test_devices.py):
  * float16 and bfloat16 arrays are taken as they are (bfloat16 is ml_dtypes.bfloat16, JAX's own); the docs give
    no accumulation precision for them ("preferred_element_type: ... None, which means the default accumulation
    type for the input types", conv_general_dilated), so their bound is the dtype's own.
  * float32 on GPUs with precision=None: jax.lax.Precision "DEFAULT: ... On GPU: uses tensorfloat32 if available
    (e.g. on A100 and H100 GPUs)"; "HIGHEST: ... On GPU: uses float32"
    (https://docs.jax.dev/en/latest/_autosummary/jax.lax.Precision.html): the bound uses TF32's unit roundoff for
    precision=None unless jax_default_matmul_precision asks for float32.
  * modes: "jit" = the same call inside jax.jit (https://docs.jax.dev/en/latest/jit-compilation.html); eager
    dispatch compiles each primitive on its own, jit compiles the function as one XLA computation.
"""

from __future__ import annotations

import os

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

DOC_TRANSPOSE = "https://docs.jax.dev/en/latest/_autosummary/jax.lax.conv_transpose.html"
DOC_GENERAL = "https://docs.jax.dev/en/latest/_autosummary/jax.lax.conv_general_dilated.html"
DOC_PADTYPE = "https://docs.jax.dev/en/latest/_autosummary/jax.lax.padtype_to_pads.html"
DOC_XLA = "https://openxla.org/xla/operation_semantics#conv_convolution"
DOC_XLA_PAD = "https://openxla.org/xla/operation_semantics#pad"
SPATIAL = {1: "H", 2: "HW", 3: "DHW"}
LAYOUTS = ("channels_first", "channels_last")
PRECISIONS = (None, "highest")


# -- documented semantics, as data (conformance.core.rules): what the judge and explain both evaluate ---------------
# Integer pads are (lo, hi) of the stride-dilated input D = (i-1)s+1, correlated with the k'-span kernel: the window
# starts k'-1-lo into the full scatter. XLA Conv computes one output per position of the window in the padded base:
# a window that does not fit gives zero positions, an empty dimension, never an error (L = max(..., 0)). Negative
# pads remove elements (XLA Pad); removing more than D leaves a negative-size base, which is not a shape: refused.
XLA = "; XLA Conv counts window positions (none: an empty dimension) " + DOC_XLA
BASE = Check("D + lo + hi >= 0", "the pads remove more than the stride-dilated input has (a negative-size padded "
             "base is not a shape)", DOC_XLA_PAD)
EXPLICIT = Case(("c = kd - 1 - lo", "L = max(D + lo + hi - kd + 1, 0)"), when="padding == 'pairs'", checks=(BASE,),
                source=DOC_TRANSPOSE + " (pads of the transposed conv's dilated input)" + XLA)
TRANSPOSE_RULES = Rules(cases=(
    Case(("c = max(kd - s, 0) // 2", "L = i*s"), when="padding == 'SAME'",
         source=DOC_TRANSPOSE + " ('SAME': the forward conv's padding, output as Keras Conv2DTranspose)"),
    Case(("c = 0", "L = i*s + max(kd - s, 0)"), when="padding == 'VALID'",
         source=DOC_TRANSPOSE + " ('VALID', output as Keras Conv2DTranspose)"),
    # the same window as pads (k'-1-lo, F-lo-hi - D + lo) of the dilated input, whose base is F - lo - hi + k'-1
    Case(("c = lo", "L = max(F - lo - hi, 0)"), when="padding == 'pairs' and use_consistent_padding",
         checks=(Check("F - lo - hi + kd - 1 >= 0", BASE.reason, DOC_XLA_PAD),),
         source=DOC_TRANSPOSE + " (use_consistent_padding=True: the forward conv's pads)" + XLA),
    EXPLICIT), doc=DOC_TRANSPOSE)
GENERAL_RULES = Rules(cases=(
    Case(("lo = 0", "c = kd - 1 - lo", "L = max(D - kd + 1, 0)"), when="padding == 'VALID'",
         source=DOC_PADTYPE + " ('VALID': no padding of the dilated input)" + XLA),
    Case(("lo = (kd - 1) // 2", "c = kd - 1 - lo", "L = D"), when="padding == 'SAME'",
         source=DOC_PADTYPE + " ('SAME': k'-1 split evenly, the odd one at the end)"),
    Case(("lo = kd - 1 - (kd - 1) // 2", "c = kd - 1 - lo", "L = D"), when="padding == 'SAME_LOWER'",
         source=DOC_PADTYPE + " ('SAME_LOWER': the odd one at the beginning)"),
    Case(EXPLICIT.lines, when=EXPLICIT.when, checks=EXPLICIT.checks,
         source=DOC_GENERAL + " (padding of the lhs_dilation-dilated input)" + XLA)), doc=DOC_GENERAL)


# -- layouts -----------------------------------------------------------------------------------------------
def _dimension_numbers(rank: int, layout: str) -> tuple[str, str, str]:
    sp = SPATIAL[rank]
    if layout == "channels_first":
        return ("NC" + sp, "OI" + sp, "NC" + sp)
    return ("N" + sp + "C", sp + "IO", "N" + sp + "C")


def _x_perm(rank: int, layout: str) -> tuple[int, ...]:
    """Canonical (N, C, *sp) -> the layout's lhs."""
    return tuple(range(rank + 2)) if layout == "channels_first" else (0, *range(2, rank + 2), 1)


def _y_perm(rank: int, layout: str) -> tuple[int, ...]:
    """The layout's output -> canonical (N, C, *sp)."""
    return tuple(range(rank + 2)) if layout == "channels_first" else (0, rank + 1, *range(1, rank + 1))


def _rhs_perm(rank: int, layout: str) -> tuple[int, ...]:
    """(O, I, *k) -> the layout's rhs ('OI..' or '..IO')."""
    return tuple(range(rank + 2)) if layout == "channels_first" else (*range(2, rank + 2), 1, 0)


def _padding_arg(padding):
    return padding if isinstance(padding, str) else tuple((int(lo), int(hi)) for lo, hi in padding)


# -- surfaces ----------------------------------------------------------------------------------------------
def _draw_pairs(draw: Drawer, conv: Conv) -> list[list[int]]:
    return [[draw.integer(-1, dim.kd, "pad_lo"), draw.integer(-1, dim.kd, "pad_hi")] for dim in conv.dims()]


# -- portable intents (conformance.harness.portable), spelled the way JAX users write them ---------------------------
# conv_transpose takes 'SAME'/'VALID' or explicit pads of the stride-dilated input. Ports that need another
# window use explicit pads: the 'SAME' pads JAX itself computes (jax/_src/lax/convolution.py,
# _conv_transpose_padding: pad_len = k'+s-2, pad_a = k'-1 if s > k'-1 else ceil(pad_len/2)) adjusted at the end
# for another size, and a PyTorch padding p as the well-known (k'-1-p, k'-1-p+output_padding).
# conv_general_dilated has no transposed 'SAME', so its users write those same pads by hand.
def jax_same_pads(dim) -> tuple[int, int]:
    pad_len = dim.kd + dim.s - 2
    pad_a = dim.kd - 1 if dim.s > dim.kd - 1 else -(-pad_len // 2)
    return pad_a, pad_len - pad_a


def _intent_pads(intent: str, dim) -> tuple[int, int]:
    """Explicit (lo, hi) pads of the stride-dilated input for an intent."""
    if intent in ("same", "exact-size", "same-output-padding"):
        lo, hi = jax_same_pads(dim)                           # gives i*s
        if intent == "exact-size":
            hi -= dim.i * dim.s - exact_size_target(dim)
        elif intent == "same-output-padding":                 # the size the Keras layer gives
            hi += (dim.i - 1) * dim.s + dim.kd - 2 * (dim.kd // 2) + dim.s - 1 - dim.i * dim.s
        return lo, hi
    if intent == "valid":
        return dim.kd - 1, dim.kd - 1
    if intent == "torch-half-pad-output-padding":
        p = (dim.kd - 1) // 2
        return dim.kd - 1 - p, dim.kd - 1 - p + dim.s - 1
    if intent == "torch-half-pad":
        p = dim.kd // 2
        return dim.kd - 1 - p, dim.kd - 1 - p
    if intent == "explicit-asymmetric":
        lo, hi = asymmetric_crop(dim)
        return dim.kd - 1 - lo, dim.kd - 1 - hi
    raise Unexpressible(f"no JAX spelling of intent {intent!r}")


def spell_conv_transpose(intent: str, conv: Conv, has_consistent: bool) -> dict:
    modes = {"same": "SAME", "valid": "VALID"}
    padding = modes.get(intent) or [list(_intent_pads(intent, dim)) for dim in conv.dims()]
    params = {"padding": padding, "transpose_kernel": True, "layout": "channels_last", "precision": None}
    params["use_consistent_padding"] = False if has_consistent else None
    return params


def spell_conv_general_dilated(intent: str, conv: Conv) -> dict:
    return {"padding": [list(_intent_pads(intent, dim)) for dim in conv.dims()], "layout": "channels_last",
            "precision": None}


def _pads_fault(fault: str, params: dict, values: list) -> dict:
    """JAX's padding is (lo, hi) of the stride-dilated input (negative removes elements, XLA Pad)."""
    if fault == "padding":
        return {**params, "padding": [[v, v] for v in values]}
    raise Unexpressible("JAX's transposed convolutions take no output_padding or output size (pads set it)")


# -- the call, written once (conformance.core.source): run in-process, shipped to the worker and into reproducers -----
@shipped
def jax_lax_transposed(*, op, stride, padding, dilation, groups, dimension_numbers, kernel, precision,
                       transpose_kernel=None, use_consistent_padding=None):
    """(call, to_rhs) for one of JAX's transposed convolutions: call(lhs, rhs) is jax.lax.conv_transpose(lhs, rhs,
    stride, padding, rhs_dilation=dilation, transpose_kernel=..., use_consistent_padding=...) (op 'conv_transpose')
    or the fractionally strided conv jax.lax.conv_general_dilated(lhs, rhs, (1, ...), padding, lhs_dilation=stride,
    rhs_dilation=dilation, feature_group_count=groups) (op 'conv_general_dilated'); to_rhs turns a canonical kernel
    (C_in, C_out/groups, *k) (or an index array of its shape) into rhs, in NumPy. kernel = (flip, axes): with flip,
    rhs is the canonical kernel flipped and regrouped to (O=C_out, I=C_in/groups, *k) (a correlation with it is the
    canonical scatter), else it is w labelled (O=C_in, I=C_out) as transpose_kernel=True reads it; then transposed by
    `axes` into dimension_numbers' kernel layout."""
    import jax
    import numpy as np

    flip, axes = kernel
    groups_ = groups or 1

    def to_rhs(a):
        if flip:
            c_in, m = a.shape[:2]
            a = np.flip(a, tuple(range(2, a.ndim))).reshape(groups_, c_in // groups_, m, *a.shape[2:])
            a = a.swapaxes(1, 2).reshape(m * groups_, c_in // groups_, *a.shape[3:])
        return np.ascontiguousarray(a.transpose(axes))

    pads = padding if isinstance(padding, str) else tuple(tuple(p) for p in padding)
    prec = None if precision is None else getattr(jax.lax.Precision, precision)
    rank = len(stride)

    def call(lhs, rhs):
        if op == "conv_transpose":
            extra = {"transpose_kernel": transpose_kernel}
            if use_consistent_padding is not None:
                extra["use_consistent_padding"] = use_consistent_padding
            if groups:
                extra["feature_group_count"] = groups
            return jax.lax.conv_transpose(lhs, rhs, stride, pads, rhs_dilation=dilation,
                                          dimension_numbers=dimension_numbers, precision=prec, **extra)
        return jax.lax.conv_general_dilated(lhs, rhs, (1,) * rank, pads, lhs_dilation=stride, rhs_dilation=dilation,
                                            dimension_numbers=dimension_numbers, feature_group_count=groups_,
                                            precision=prec)
    return call, to_rhs


@shipped(uses=(jax_lax_transposed,))
def jax_conv_transpose(x, w, b, gy=None, *, op, stride, padding, dilation, groups, dimension_numbers, x_perm,
                       kernel, y_perm, precision, device, mode="eager", transpose_kernel=None,
                       use_consistent_padding=None):
    """JAX's transposed convolution (jax_lax_transposed: op, the kernel conversion) on canonical NumPy arrays x
    (N, C_in, *i) and w (C_in, C_out/groups, *k) (JAX has no bias). lhs is x transposed by x_perm, the output comes
    back by y_perm. mode 'jit' wraps the call in jax.jit. float64 needs jax_enable_x64 (else JAX computes it in
    float32). Returns y; given a cotangent gy, the VJPs (gx, gw, None) by jax.vjp of the same function, the kernel
    conversion done as a gather of flat indices so that gw comes back in the canonical layout."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    if np.asarray(x).dtype == np.float64:
        jax.config.update("jax_enable_x64", True)
    kind, _, index = device.partition(":")
    dev = jax.devices(kind)[int(index or 0)]
    call, to_rhs = jax_lax_transposed(op=op, stride=stride, padding=padding, dilation=dilation, groups=groups,
                                      dimension_numbers=dimension_numbers, kernel=kernel, precision=precision,
                                      transpose_kernel=transpose_kernel,
                                      use_consistent_padding=use_consistent_padding)

    def put(a):
        return jax.device_put(np.ascontiguousarray(a), dev)

    if gy is None:
        f = jax.jit(call) if mode == "jit" else call
        return np.asarray(f(put(np.transpose(x, x_perm)), put(to_rhs(w)))).transpose(y_perm)
    index = to_rhs(np.arange(np.size(w)).reshape(np.shape(w)))

    def f(xc, wc):
        return jnp.transpose(call(jnp.transpose(xc, x_perm), jnp.ravel(wc)[index]), y_perm)
    gx, gw = jax.vjp(f, put(x), put(w))[1](put(gy))
    return np.asarray(gx), np.asarray(gw), None


class _JaxSurface(Surface):
    def accumulation(self, dtype, device, mode="eager", params=None):
        if dtype == "float32" and device != "cpu" and (params or {}).get("precision") is None:
            import jax
            if str(jax.config.jax_default_matmul_precision).lower() not in ("highest", "float32"):
                return "tfloat32"        # Precision.DEFAULT on GPU (module doc)
        return None

    def _common(self, params, conv, device, mode) -> dict:
        layout, r = params["layout"], conv.rank
        return {"stride": conv.stride, "padding": _padding_arg(params["padding"]), "dilation": conv.dilation,
                "dimension_numbers": _dimension_numbers(r, layout), "x_perm": _x_perm(r, layout),
                "y_perm": _y_perm(r, layout), "precision": None if params["precision"] is None else "HIGHEST",
                "device": "cpu" if device == "cpu" else device if ":" in device else device + ":0", "mode": mode}


class ConvTranspose(_JaxSurface):
    """jax.lax.conv_transpose; extra["use_consistent_padding"] says whether the installed jax has it."""
    RULES = TRANSPOSE_RULES


    def draw_params(self, draw: Drawer, conv: Conv) -> dict:
        padding = draw.choice(["explicit", "explicit", "SAME", "VALID", "SAME_LOWER"], "padding_kind")
        params = {"padding": _draw_pairs(draw, conv) if padding == "explicit" else padding,
                  "transpose_kernel": draw.boolean("transpose_kernel"),
                  "layout": draw.choice(LAYOUTS, "layout"),
                  "precision": draw.choice(PRECISIONS, "precision")}
        # a jax without the parameter (before 0.9) records it as None: what the rules read for it, so that entries
        # naming it (False: the pads of the transposed conv, the older jax's only meaning) judge every release
        params["use_consistent_padding"] = (draw.boolean("use_consistent_padding")
                                            if self.extra.get("use_consistent_padding") else None)
        return params

    def spell(self, intent: str, conv: Conv) -> dict:
        return spell_conv_transpose(intent, conv, bool(self.extra.get("use_consistent_padding")))

    def spell_fault(self, fault: str, conv: Conv, values: list) -> dict:
        return _pads_fault(fault, self.spell("valid", conv), values)

    def arguments(self, params, conv, dtype, device, mode="eager"):
        """transpose_kernel=True: JAX flips and swaps, so w goes in as canonical, labelled (O=C_in, I=C_out);
        False: the flipped kernel as (O=C_out, I=C_in)."""
        return {"op": "conv_transpose", **self._common(params, conv, device, mode),
                "groups": conv.groups if conv.groups > 1 else None,   # only drawn where the signature has it
                "kernel": (not params["transpose_kernel"], _rhs_perm(conv.rank, params["layout"])),
                "transpose_kernel": bool(params["transpose_kernel"]),
                "use_consistent_padding": (bool(params["use_consistent_padding"])
                                           if params.get("use_consistent_padding") is not None else None)}


class ConvGeneralDilated(_JaxSurface):
    """jax.lax.conv_general_dilated as a fractionally strided conv: lhs_dilation=stride, window_strides=1."""
    RULES = GENERAL_RULES


    def draw_params(self, draw: Drawer, conv: Conv) -> dict:
        padding = draw.choice(["explicit", "explicit", "explicit", "SAME", "VALID", "SAME_LOWER"], "padding_kind")
        return {"padding": _draw_pairs(draw, conv) if padding == "explicit" else padding,
                "layout": draw.choice(LAYOUTS, "layout"),
                "precision": draw.choice(PRECISIONS, "precision")}

    def spell(self, intent: str, conv: Conv) -> dict:
        return spell_conv_general_dilated(intent, conv)

    def spell_fault(self, fault: str, conv: Conv, values: list) -> dict:
        return _pads_fault(fault, self.spell("valid", conv), values)

    def arguments(self, params, conv, dtype, device, mode="eager"):
        return {"op": "conv_general_dilated", **self._common(params, conv, device, mode), "groups": conv.groups,
                "kernel": (True, _rhs_perm(conv.rank, params["layout"]))}


def _persistent_cache(jax) -> None:
    """CONFORMANCE_JAX_CACHE_DIR=path: JAX's persistent compilation cache in that folder, every compiled call
    kept (the suite's convolutions compile in milliseconds, below JAX's default 1 s threshold). The ci profile is
    derandomized, so a second run draws the same shapes and finds each one compiled. Also exported as JAX_*
    variables, which jax reads at import, so the child processes of isolated cases share the cache."""
    path = os.environ.get("CONFORMANCE_JAX_CACHE_DIR")
    if not path:
        return
    settings = {"jax_compilation_cache_dir": path, "jax_persistent_cache_min_compile_time_secs": 0.0,
                "jax_persistent_cache_min_entry_size_bytes": -1}
    for name, value in settings.items():
        jax.config.update(name, value)
        os.environ.setdefault(name.upper(), str(value))


def load() -> Adapter:
    try:
        import inspect

        import jax
    except ImportError as exc:
        raise FrameworkUnavailable(f"jax is not installed ({exc})") from None
    # JAX silently computes in float32 when handed float64 arrays unless x64 is enabled; the suite draws
    # float64 problems, so enable it once, process-wide (float32 arrays stay float32).
    jax.config.update("jax_enable_x64", True)
    _persistent_cache(jax)
    devices = [Device("cpu", "cpu", cpu_model())]
    try:
        gpus = jax.devices("gpu")
    except RuntimeError:
        gpus = []
    for n, dev in enumerate(gpus):
        devices.append(Device(f"gpu:{n}", "gpu", getattr(dev, "device_kind", str(dev))))
    signature = inspect.signature(jax.lax.conv_transpose).parameters
    return Adapter(name="jax", version=jax.__version__, devices=devices, surfaces=surfaces(signature))


def surfaces(signature=("use_consistent_padding",)) -> list[Surface]:
    """This adapter's surfaces, built without importing jax. `signature`: the parameter names of the installed
    jax.lax.conv_transpose (load() passes them; the default is jax 0.10's, which has use_consistent_padding and
    no feature_group_count)."""
    common = dict(framework="jax", bias=False, dtypes=("float16", "bfloat16", "float32", "float64"),
                  modes=(EAGER, Mode("jit")), call=jax_conv_transpose, gradient=True,
                  api_arguments=("stride", "padding", "dilation", "dimension_numbers", "precision", "groups",
                                 "transpose_kernel", "use_consistent_padding"))
    consistent = "use_consistent_padding" in signature
    return [ConvTranspose(name="jax.lax.conv_transpose", doc=DOC_TRANSPOSE, groups="feature_group_count" in signature,
                          extra={"use_consistent_padding": consistent},
                          # use_consistent_padding: None where the installed jax has no such parameter
                          param_keys=("padding", "transpose_kernel", "layout", "precision", "use_consistent_padding"),
                          **common),
            ConvGeneralDilated(name="jax.lax.conv_general_dilated", doc=DOC_GENERAL, groups=True,
                               param_keys=("padding", "layout", "precision"), **common)]


# -- command line (conformance.explain.spelling): how JAX users write these calls, for explain/solve/translate ---------
def spellings() -> list:
    from conformance.explain.spelling import CallText, Param, Spelling, WeightLayout

    transpose, general = surfaces()
    consistent = bool(transpose.extra.get("use_consistent_padding"))

    def pairs(dim, n):
        """Candidate (lo, hi): windows with crops from -k' to F and lengths around n, under both readings."""
        base = (dim.i - 1) * dim.s + 1
        lengths = range(max(0, n - dim.s - dim.kd), n + dim.s + dim.kd + 1)
        out = {(dim.kd - 1 - c, length - base - (dim.kd - 1 - c) + dim.kd - 1)      # pads of the dilated input
               for c in range(-dim.kd, dim.full + 1) for length in lengths}
        if consistent:
            out |= {(c, dim.full - c - length) for c in range(-dim.kd, dim.full + 1) for length in lengths}
        return sorted(out)

    def padding(choices):
        return Param("padding", ("--padding", "-p"), "choice|pairs", choices=choices, search=pairs,
                     help=f"{', '.join(map(repr, choices))} or lo:hi pairs per dimension")

    layout = Param("layout", ("--layout", "--data-format"), "layout", default="channels_first",
                   layouts=lambda rank, which: f"channels_{which}",
                   help="dimension_numbers: channels_first ('NCHW', 'OIHW', 'NCHW') or channels_last "
                        "('NHWC', 'HWIO', 'NHWC')")
    precision = Param("precision", ("--precision",), "choice", choices=(None, "highest"), default=None)
    rhs_perm = lambda conv, layout: _rhs_perm(conv.rank, layout)  # noqa: E731
    last = lambda p: p["layout"] == "channels_last"  # noqa: E731

    # the calls as users write them, rendered from `arguments` (the values jax_conv_transpose passes to jax)
    rendering = dict(optional=("precision", "use_consistent_padding", "groups"),
                     literals=(("HIGHEST", "jax.lax.Precision.HIGHEST"),))
    call_transpose = CallText("jax.lax.conv_transpose", "lhs, rhs", (
        ("strides", "stride"), ("padding", "padding"), ("rhs_dilation", "dilation"),
        ("transpose_kernel", "transpose_kernel"), ("use_consistent_padding", "use_consistent_padding"),
        ("feature_group_count", "groups"), ("dimension_numbers", "dimension_numbers"), ("precision", "precision")),
        **rendering)
    call_general = CallText("jax.lax.conv_general_dilated", "lhs, rhs", (
        ("window_strides", "ones"), ("padding", "padding"), ("lhs_dilation", "stride"), ("rhs_dilation", "dilation"),
        ("feature_group_count", "groups"), ("dimension_numbers", "dimension_numbers"), ("precision", "precision")),
        **rendering)

    def transpose_weights(p, conv):
        # transpose_kernel=True: JAX flips and swaps itself, so rhs is the canonical kernel labelled (O, I);
        # False: rhs is the kernel of the fractionally strided correlation, flipped, (C_out, C_in/groups)
        if p["transpose_kernel"]:
            return WeightLayout(rhs_perm(conv, p["layout"]), name="rhs")
        return WeightLayout(rhs_perm(conv, p["layout"]), flip=True, swap=True, name="rhs")

    transpose_params = [padding(("SAME", "VALID")),
                        Param("transpose_kernel", ("--transpose-kernel",), "bool", default=False,
                              help="flip the kernel's taps and swap its I/O axes (TensorFlow/Keras kernels)")]
    if consistent:
        transpose_params.append(Param("use_consistent_padding", ("--use-consistent-padding",), "bool", default=False,
                                      search=lambda dim, n: (), help="integer pads are the forward conv's"))
    return [
        Spelling(transpose, ("jax.lax.conv_transpose", "lax.conv_transpose"),
                 params=(*transpose_params, layout, precision),
                 text=call_transpose, weights=transpose_weights, channels_last=last),
        Spelling(general, ("jax.lax.conv_general_dilated", "lax.conv_general_dilated"),
                 params=(padding(("SAME", "VALID", "SAME_LOWER")), layout, precision),
                 text=call_general, channels_last=last,
                 weights=lambda p, conv: WeightLayout(rhs_perm(conv, p["layout"]), flip=True, swap=True, name="rhs")),
    ]
