"""PyTorch adapter: torch.nn.functional.conv_transpose{1,2,3}d and nn.ConvTranspose{1,2,3}d(output_size=).

Documented semantics (torch.nn.ConvTranspose2d docstring, torch 2.x, https://pytorch.org/docs/stable/generated/torch.nn.ConvTranspose2d.html):
  * "padding: dilation * (kernel_size - 1) - padding zero-padding will be added to both sides of each
    dimension in the input"  ->  the output starts `padding` into the full result: c = padding.
  * H_out = (H_in - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    ->  L = F - 2*padding + output_padding.
  * "output_padding is provided to resolve this ambiguity [Conv2d maps `stride` input sizes to one output
    size] by effectively increasing the calculated output shape on one side"  ->  it extends the end of the
    window and only makes sense for 0 <= output_padding < stride.
  * forward(input, output_size): output_padding = output_size - the size without it; the Note above limits
    it to the stride ambiguity, so output_size must lie in [L0, L0 + stride - 1].
  * padding is an amount of implicit padding: negative values are not part of the documented domain.
Weights: (in_channels, out_channels / groups, *kernel), applied as the gradient of Conv2d, so no flip:
exactly the canonical layout.

Dtypes, modes, devices (conformance.harness.agreement; suites/test_dtypes.py, test_modes.py, test_devices.py):
  * float16 and bfloat16 are torch dtypes every ConvTranspose takes ("dtype" factory kwarg; torch.nn docs);
    NumPy's bfloat16 (ml_dtypes) goes through float32 (exact) since torch.from_numpy has no bfloat16.
    No torch document gives the accumulation precision of half-precision convolutions on CPU (the numerical
    accuracy notes only say half-precision GEMMs are "typically" reduced in float32 on CUDA, and allow some
    reduced-precision reductions by default), so the half-precision bound is the dtype's own.
  * float32 on CUDA: "torch.backends.cudnn.allow_tf32 ... defaults to True" -- convolutions may read only 10
    mantissa bits (TF32) on Ampere and later (https://pytorch.org/docs/stable/notes/cuda.html#tensorfloat-32-tf32-on-ampere-and-later-devices);
    the bound then uses TF32's unit roundoff while the flag is on.
  * modes: "compile" = torch.compile(fullgraph=True, dynamic=False), the default inductor backend (needs a C++
    compiler on CPU; each new shape compiles for seconds, so the mode property draws few examples);
    "channels_last" = input and weight in torch.channels_last / channels_last_3d memory format (ranks 2 and 3;
    https://pytorch.org/tutorials/intermediate/memory_format_tutorial.html); "mkldnn-off" = inside
    torch.backends.mkldnn.flags(enabled=False), the oneDNN switch, in-process.
  * determinism: "the cuDNN library, used by CUDA convolution operations, can be a source of nondeterminism
    ... torch.backends.cudnn.deterministic = True" (https://pytorch.org/docs/stable/notes/randomness.html):
    two CUDA calls may differ unless that flag is set; CPU calls must be bitwise equal.
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

DOC_FUNCTIONAL = "https://pytorch.org/docs/stable/generated/torch.nn.functional.conv_transpose2d.html"
DOC_MODULE = "https://pytorch.org/docs/stable/generated/torch.nn.ConvTranspose2d.html"


def _device(device: str) -> str:
    return "cpu" if device == "cpu" else "cuda:" + (device.split(":")[1] if ":" in device else "0")


DOC_TF32 = "https://pytorch.org/docs/stable/notes/cuda.html#tensorfloat-32-tf32-on-ampere-and-later-devices"
DOC_RANDOMNESS = "https://pytorch.org/docs/stable/notes/randomness.html"
# execution modes as data (conformance.harness.surface.Mode); torch_conv_transpose applies each
MODES = (EAGER, Mode("compile", slow=True), Mode("channels_last"), Mode("mkldnn-off"))


# -- documented semantics, as data (conformance.core.rules): what the judge and explain both evaluate ---------------
NOT_NEGATIVE = Check("padding >= 0", "padding is an amount of implicit zero padding (negative values are not part of "
                     "the documented domain)")
FUNCTIONAL_RULES = Rules(
    cases=(Case(("c = padding", "L = (i-1)*s - 2*padding + d*(k-1) + output_padding + 1"),
                checks=(NOT_NEGATIVE,
                        Check("0 <= output_padding < s", "output_padding only resolves the stride ambiguity",
                              DOC_MODULE + " (Note on output_padding)"),
                        Check("L >= 1", "an output length below 1 by the H_out formula")),
                source=DOC_FUNCTIONAL + " (H_out)"),),
    doc=DOC_FUNCTIONAL)
MODULE_RULES = Rules(
    cases=(Case(("c = padding", "L = output_size"),
                checks=(NOT_NEGATIVE,
                        Check("F - 2*padding <= output_size <= F - 2*padding + s - 1",
                              "output_size must be a size output_padding in [0, stride) can reach"),
                        Check("output_size >= 1", "an output size below 1")),
                source=DOC_MODULE + " (forward(input, output_size))"),),
    doc=DOC_MODULE)


def _draw_padding(draw: Drawer, conv: Conv) -> list[int]:
    return [draw.integer(-1, dim.kd, "padding") for dim in conv.dims()]


# -- portable intents (conformance.harness.portable), spelled the way PyTorch users write them ----------------------
# ConvTranspose has no 'same' (padding='same' is refused for transposed convs), so users compute padding and
# output_padding from the H_out formula: for L = i*s, 2 padding - output_padding = k' - s, i.e.
# padding = ceil((k'-s)/2) (0 when k' < s) and output_padding = s - k' + 2 padding.
def _same_padding(dim) -> int:
    return max((dim.kd - dim.s + 1) // 2, 0)


def _keras_same_length(dim, output_padding: int) -> int:
    """The length Keras's 'same' with output_padding gives (the size a user porting a Keras layer aims for)."""
    return (dim.i - 1) * dim.s + dim.kd - 2 * (dim.kd // 2) + output_padding


def _intent_padding(intent: str, dim) -> tuple[int, int]:
    """(padding, output length) a PyTorch user writes for the intent in one dimension."""
    if intent == "same":
        p = _same_padding(dim)
        return p, dim.i * dim.s
    if intent == "valid":
        return 0, dim.full
    if intent == "exact-size":
        return _same_padding(dim), exact_size_target(dim)
    if intent == "same-output-padding":      # the usual port of Keras 'same' + output_padding=s-1: padding=k//2
        return dim.kd // 2, _keras_same_length(dim, dim.s - 1)
    if intent == "torch-half-pad-output-padding":
        p = (dim.kd - 1) // 2
        return p, dim.full - 2 * p + dim.s - 1
    if intent == "torch-half-pad":
        p = dim.kd // 2
        return p, dim.full - 2 * p
    if intent == "explicit-asymmetric":      # symmetric padding only: crop lo, give back lo - hi at the end
        lo, hi = asymmetric_crop(dim)
        return lo, dim.full - lo - hi
    raise Unexpressible(f"no PyTorch spelling of intent {intent!r}")


def spell_functional(intent: str, conv: Conv) -> dict:
    pads = [_intent_padding(intent, dim) for dim in conv.dims()]
    return {"padding": [p for p, _ in pads],
            "output_padding": [n - (dim.full - 2 * p) for dim, (p, n) in zip(conv.dims(), pads)]}


def fault_functional(fault: str, conv: Conv, values: list) -> dict:
    params = spell_functional("valid", conv)
    if fault == "output-padding":
        return {**params, "output_padding": list(values)}
    if fault == "padding":
        return {**params, "padding": list(values)}
    raise Unexpressible("conv_transpose takes no output size (output_padding sets it)")


def fault_module(fault: str, conv: Conv, values: list) -> dict:
    params = spell_module("valid", conv)
    full = [dim.full for dim in conv.dims()]
    if fault == "output-padding":            # the size that output_padding would give
        return {**params, "output_size": [f + v for f, v in zip(full, values)]}
    if fault == "padding":
        return {"padding": list(values), "output_size": [f - 2 * v for f, v in zip(full, values)]}
    if fault == "output-size":
        return {**params, "output_size": list(values)}
    return {**params, "output_size": [*params["output_size"], params["output_size"][-1]]}   # output-size-rank


def spell_module(intent: str, conv: Conv) -> dict:
    pads = [_intent_padding(intent, dim) for dim in conv.dims()]
    return {"padding": [p for p, _ in pads], "output_size": [n for _, n in pads]}


# -- the call, written once (conformance.core.source): run in-process, shipped to the worker and into reproducers -----
@shipped
def torch_conv_transpose(x, w, b, gy=None, *, api, rank, stride, padding, dilation, groups, device, mode="eager",
                         output_padding=None, output_size=None):
    """PyTorch's transposed convolution on canonical NumPy arrays: x (N, C_in, *i), w (C_in, C_out/groups, *k) --
    torch's own weight layout, applied without a flip -- and b (C_out,) or None. api 'functional' calls
    torch.nn.functional.conv_transpose{rank}d(..., output_padding=); 'module' builds nn.ConvTranspose{rank}d, copies
    w and b into it and calls it with output_size=. In `mode`: 'eager'; 'compile' (torch.compile, fullgraph, static
    shapes, a fresh cache per call: past 8 shapes of one function dynamo would silently run it eagerly);
    'channels_last' (input, weight and module in channels_last / channels_last_3d memory format); 'mkldnn-off'
    (inside torch.backends.mkldnn.flags(enabled=False)). Returns y as NumPy (bfloat16 as float32, exactly); given a
    cotangent gy, the VJPs (gx, gw, gb) instead (a gradient the output does not depend on is zeros)."""
    import contextlib
    import warnings

    import numpy as np
    import torch

    def tensor(a):
        if a is None:
            return None
        if a.dtype.name == "bfloat16":     # ml_dtypes' bfloat16 (NumPy has none): through float32, exactly
            return torch.from_numpy(np.asarray(a, np.float32)).to(device, torch.bfloat16)
        return torch.from_numpy(np.ascontiguousarray(a)).to(device)

    def numpy(t):
        t = t.detach().cpu()
        return (t.float() if t.dtype == torch.bfloat16 else t).numpy()

    tx, tw, tb = tensor(x), tensor(w), tensor(b)
    memory = {2: torch.channels_last, 3: torch.channels_last_3d}.get(rank) if mode == "channels_last" else None
    if api == "module":
        m = getattr(torch.nn, f"ConvTranspose{rank}d")(
            tx.shape[1], tw.shape[1] * groups, tuple(tw.shape[2:]), stride=stride, padding=padding, groups=groups,
            bias=tb is not None, dilation=dilation, device=device, dtype=tw.dtype)
        with torch.no_grad():
            m.weight.copy_(tw)
            if tb is not None:
                m.bias.copy_(tb)
        if memory is not None:
            m = m.to(memory_format=memory)
        leaves = [m.weight, m.bias]

        def call(tx):
            return m(tx, output_size=list(output_size))
    else:
        if memory is not None:
            tw = tw.contiguous(memory_format=memory)
        leaves = [tw, tb]
        fn = getattr(torch.nn.functional, f"conv_transpose{rank}d")

        def call(tx):
            return fn(tx, tw, tb, stride=stride, padding=padding, output_padding=output_padding, groups=groups,
                      dilation=dilation)
    if memory is not None:
        tx = tx.contiguous(memory_format=memory)
    if gy is not None:
        for t in (tx, *leaves):
            if t is not None:
                t.requires_grad_()
    if mode == "compile":
        torch._dynamo.reset()
        call = torch.compile(call, fullgraph=True, dynamic=False)
    context = torch.backends.mkldnn.flags(enabled=False) if mode == "mkldnn-off" else contextlib.nullcontext()
    with warnings.catch_warnings():       # mkldnn.flags() also sets oneDNN's TF32 switch and warns it is for Intel GPUs
        warnings.simplefilter("ignore", UserWarning)
        with context:
            if gy is None:
                with torch.no_grad():
                    return numpy(call(tx))
            call(tx).backward(tensor(gy))
    return tuple(None if t is None else numpy(t.grad if t.grad is not None else t * 0) for t in (tx, *leaves))


class _TorchSurface(Surface):
    def mode_supports(self, mode, conv, dtype):
        if mode == "channels_last" and conv.rank == 1:
            return "channels_last has no 3-D tensor form (torch.channels_last is 4-D, channels_last_3d 5-D)"
        return super().mode_supports(mode, conv, dtype)

    def accumulation(self, dtype, device, mode="eager", params=None):
        if dtype == "float32" and device != "cpu":
            import torch
            if torch.backends.cudnn.allow_tf32:          # documented default True: DOC_TF32
                return "tfloat32"
        return None

    def nondeterminism(self, device, mode="eager"):
        if device == "cpu":
            return None
        import torch
        if torch.backends.cudnn.deterministic:
            return None
        return ("\"the cuDNN library, used by CUDA convolution operations, can be a source of nondeterminism\" "
                f"unless torch.backends.cudnn.deterministic = True [{DOC_RANDOMNESS}]")

    def _common(self, params, conv, device, mode) -> dict:
        return {"rank": conv.rank, "stride": conv.stride, "padding": tuple(params["padding"]),
                "dilation": conv.dilation, "groups": conv.groups, "device": _device(device), "mode": mode}


def _draw_functional(draw: Drawer, conv: Conv) -> dict:
    return {"padding": _draw_padding(draw, conv),
            "output_padding": [draw.integer(0, max(dim.s, dim.d), "output_padding") for dim in conv.dims()]}


def _draw_module(draw: Drawer, conv: Conv) -> dict:
    padding = _draw_padding(draw, conv)
    sizes = [draw.integer(dim.full - 2 * p - 1, dim.full - 2 * p + dim.s, "output_size")
             for dim, p in zip(conv.dims(), padding)]
    return {"padding": padding, "output_size": sizes}


class _Api(_TorchSurface):
    """One of torch's two APIs (`api`): the functions of the table API (below) state its draws and spellings; its
    semantics are its `rules`."""

    api = ""

    def _api(self):
        return API[self.api]

    def draw_params(self, draw: Drawer, conv: Conv) -> dict:
        return self._api()["draw"](draw, conv)

    def spell(self, intent: str, conv: Conv) -> dict:
        return self._api()["spell"](intent, conv)

    def spell_fault(self, fault: str, conv: Conv, values: list) -> dict:
        return self._api()["fault"](fault, conv, values)

    def arguments(self, params, conv, dtype, device, mode="eager"):
        size = {"output_padding": tuple(params["output_padding"])} if self.api == "functional" else \
            {"output_size": list(params["output_size"])}
        return {"api": self.api, **self._common(params, conv, device, mode), **size}


class Functional(_Api):
    api = "functional"
    RULES = FUNCTIONAL_RULES


class Module(_Api):
    api = "module"
    RULES = MODULE_RULES


# the two APIs as data: what differs between torch.nn.functional.conv_transpose and ConvTranspose(output_size=)
API = {
    "functional": {"draw": _draw_functional, "spell": spell_functional,
                   "fault": fault_functional},
    "module": {"draw": _draw_module, "spell": spell_module, "fault": fault_module},
}


def load() -> Adapter:
    try:
        import torch
    except ImportError as exc:
        raise FrameworkUnavailable(f"torch is not installed ({exc})") from None
    devices = [Device("cpu", "cpu", cpu_model())]
    if torch.cuda.is_available():
        for n in range(torch.cuda.device_count()):
            devices.append(Device(f"gpu:{n}", "gpu", torch.cuda.get_device_name(n)))
    return Adapter(name="torch", version=torch.__version__, devices=devices, surfaces=surfaces())


def surfaces() -> list[Surface]:
    """This adapter's surfaces, built without importing torch (load() adds the version and devices)."""
    common = dict(framework="torch", groups=True, bias=True, dtypes=("float16", "bfloat16", "float32", "float64"),
                  modes=MODES, call=torch_conv_transpose, gradient=True,
                  api_arguments=("stride", "padding", "dilation", "groups", "output_padding", "output_size"))
    return [Functional(name="torch.nn.functional.conv_transpose", doc=DOC_FUNCTIONAL,
                       param_keys=("padding", "output_padding"), **common),
            Module(name="torch.nn.ConvTranspose(output_size=)", doc=DOC_MODULE, param_keys=("padding", "output_size"),
                   **common)]


# -- command line (conformance.explain.spelling): how PyTorch users write these calls, for explain/solve/translate -----
def spellings() -> list:
    from conformance.explain.spelling import CallText, Param, Spelling, WeightLayout

    functional, module = surfaces()
    weights = lambda params, conv: WeightLayout(tuple(range(conv.rank + 2)), name="weight")  # noqa: E731
    padding = Param("padding", ("--padding", "-p"), "ints", default=lambda conv, p: [0] * conv.rank,
                    search=lambda dim, n: range(0, dim.kd + 1), help="implicit zero padding: c = padding")
    output_padding = Param("output_padding", ("--output-padding",), "ints", default=lambda conv, p: [0] * conv.rank,
                           search=lambda dim, n: range(0, dim.s), help="added to one side of the output")

    # the calls as users write them, rendered from `arguments` (the values torch_conv_transpose passes to torch)
    common = (("stride", "stride"), ("padding", "padding"))
    call_functional = CallText("torch.nn.functional.conv_transpose{rank}d", "input, weight, {bias_or_none}",
                               (*common, ("output_padding", "output_padding"), ("groups", "groups"),
                                ("dilation", "dilation")))
    call_module = CallText("torch.nn.ConvTranspose{rank}d", "{c_in}, {c_out}, {kernel}",
                           (*common, ("groups", "groups"), ("bias", "bias"), ("dilation", "dilation")),
                           then="(input, output_size={output_size})")

    def default_size(conv, p):
        ops = p.get("output_padding") or [0] * conv.rank
        return [dim.full - 2 * pad + op for dim, pad, op in zip(conv.dims(), p["padding"], ops)]

    return [
        Spelling(functional, ("torch.nn.functional.conv_transpose{r}d", "torch.conv_transpose{r}d",
                              "F.conv_transpose{r}d", "conv_transpose{r}d"),
                 params=(padding, output_padding),
                 text=call_functional, weights=weights, ranked=True),
        Spelling(module, ("torch.nn.ConvTranspose{r}d", "nn.ConvTranspose{r}d", "ConvTranspose{r}d"),
                 params=(padding,
                         Param("output_padding", ("--output-padding",), "ints", virtual=True,
                               default=lambda conv, p: [0] * conv.rank,
                               help="the constructor's output_padding: output_size = F - 2 padding + output_padding"),
                         Param("output_size", ("--output-size",), "ints", default=default_size,
                               search=lambda dim, n: range(max(0, min(n, dim.full - 2 * dim.kd) - dim.s),
                                                     max(n, dim.full) + dim.s + 1),
                               help="forward(input, output_size=): the spatial output size")),
                 text=call_module, weights=weights, ranked=True),
    ]
