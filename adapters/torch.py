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

Dtypes, modes, devices (conformance.agreement; suites/test_dtypes.py, test_modes.py, test_devices.py):
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

from conformance.portable import asymmetric_crop, exact_size_target
from conformance.spec import Conv
from conformance.surface import (Adapter, Device, Documented, Drawer, FrameworkUnavailable, Refusal, Surface,
                                 Unexpressible, cpu_model, dedent, window_from_dims)

DOC_FUNCTIONAL = "https://pytorch.org/docs/stable/generated/torch.nn.functional.conv_transpose2d.html"
DOC_MODULE = "https://pytorch.org/docs/stable/generated/torch.nn.ConvTranspose2d.html"
RULE = "c = padding; L = (i-1)s - 2 padding + d(k-1) + output_padding + 1"


def _device(device: str) -> str:
    return "cpu" if device == "cpu" else "cuda:" + (device.split(":")[1] if ":" in device else "0")


DOC_TF32 = "https://pytorch.org/docs/stable/notes/cuda.html#tensorfloat-32-tf32-on-ampere-and-later-devices"
DOC_RANDOMNESS = "https://pytorch.org/docs/stable/notes/randomness.html"
MODES = ("eager", "compile", "channels_last", "mkldnn-off")


def _memory_format(rank: int) -> str:
    return "channels_last" if rank == 2 else "channels_last_3d"


def _numpy(y):
    """A result tensor as a NumPy array; bfloat16 as float32 (exact: NumPy has no bfloat16 of its own)."""
    import torch
    y = y.detach().cpu()
    return (y.float() if y.dtype == torch.bfloat16 else y).numpy()


def _in_mode(mode: str, fn, conv: Conv, *tensors):
    """fn(*tensors) in an execution mode (module doc)."""
    import torch
    if mode == "channels_last":
        fmt = getattr(torch, _memory_format(conv.rank))
        tensors = tuple(t.contiguous(memory_format=fmt) if t is not None and t.dim() == conv.rank + 2 else t
                        for t in tensors)
        return fn(*tensors)
    if mode == "mkldnn-off":
        import warnings
        with warnings.catch_warnings():      # flags() also sets the oneDNN TF32 switch, which warns that it is
            warnings.simplefilter("ignore", UserWarning)   # for Intel GPUs only: noise on CPU and CUDA
            with torch.backends.mkldnn.flags(enabled=False):
                return fn(*tensors)
    if mode == "compile":
        # a fresh cache per call: past torch._dynamo.config.recompile_limit (8) shapes of one function, dynamo
        # would silently run it eagerly
        torch._dynamo.reset()
        return torch.compile(fn, fullgraph=True, dynamic=False)(*tensors)
    return fn(*tensors)


def _mode_source(mode: str, conv: Conv, fn: str, args: str) -> tuple[list[str], str, str | None]:
    """_in_mode as source for the snippets: (setup lines, the call of `fn` on `args`, a context manager or None)."""
    if mode == "channels_last":
        fmt = _memory_format(conv.rank)
        return ([f"cl = lambda t: t if t is None or t.dim() != {conv.rank + 2} else "
                 f"t.contiguous(memory_format=torch.{fmt})"], f"{fn}(*map(cl, ({args},)))", None)
    if mode == "mkldnn-off":
        return [], f"{fn}({args})", "torch.backends.mkldnn.flags(enabled=False)"
    if mode == "compile":
        return [], f"torch.compile({fn}, fullgraph=True, dynamic=False)({args})", None
    return [], f"{fn}({args})", None


def _check_padding(padding, doc: str) -> Refusal | None:
    if min(padding) < 0:
        return Refusal(f"padding={tuple(padding)} is negative; padding is an amount of implicit zero padding", doc)
    return None


def documented_functional(params: dict, conv: Conv) -> Documented:
    padding, output_padding = params["padding"], params["output_padding"]
    refusal = _check_padding(padding, DOC_FUNCTIONAL)
    if refusal:
        return Documented(refusal=refusal)
    for op, dim in zip(output_padding, conv.dims()):
        if not 0 <= op < dim.s:
            return Documented(refusal=Refusal(
                f"output_padding={op} outside [0, stride={dim.s}): it only resolves the stride ambiguity",
                DOC_MODULE + " (Note on output_padding)"))
    pairs = [(p, dim.full - 2 * p + op) for dim, p, op in zip(conv.dims(), padding, output_padding)]
    if min(n for _, n in pairs) < 1:
        return Documented(refusal=Refusal(f"output length {[n for _, n in pairs]} < 1 by the H_out formula",
                                          DOC_FUNCTIONAL))
    return window_from_dims(pairs, RULE, DOC_FUNCTIONAL)


def documented_module(params: dict, conv: Conv) -> Documented:
    padding, output_size = params["padding"], params["output_size"]
    refusal = _check_padding(padding, DOC_MODULE)
    if refusal:
        return Documented(refusal=refusal)
    pairs = []
    for size, p, dim in zip(output_size, padding, conv.dims()):
        smallest = dim.full - 2 * p
        if not smallest <= size <= smallest + dim.s - 1 or size < 1:
            return Documented(refusal=Refusal(
                f"output_size={size} outside [{smallest}, {smallest + dim.s - 1}] (sizes that output_padding "
                f"in [0, stride) can reach)", DOC_MODULE + " (forward(input, output_size))"))
        pairs.append((p, size))
    return window_from_dims(pairs, "c = padding; L = output_size", DOC_MODULE)


def _draw_padding(draw: Drawer, conv: Conv) -> list[int]:
    return [draw.integer(-1, dim.kd, "padding") for dim in conv.dims()]


# -- portable intents (conformance.portable), spelled the way PyTorch users write them ----------------------
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


class _TorchSurface(Surface):
    def _tensors(self, x, w, b, device):
        import numpy as np
        import torch
        dev = _device(device)

        def t(a):
            if a.dtype.name == "bfloat16":       # ml_dtypes.bfloat16: through float32, exactly
                return torch.from_numpy(np.asarray(a, np.float32)).to(dev, torch.bfloat16)
            return torch.from_numpy(a).to(dev)
        return t(x), t(w), (t(b) if b is not None else None)

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


class Functional(_TorchSurface):
    def draw_params(self, draw: Drawer, conv: Conv) -> dict:
        return {"padding": _draw_padding(draw, conv),
                "output_padding": [draw.integer(0, max(dim.s, dim.d), "output_padding") for dim in conv.dims()]}

    def semantics(self, params: dict, conv: Conv) -> Documented:
        return documented_functional(params, conv)

    def spell(self, intent: str, conv: Conv) -> dict:
        return spell_functional(intent, conv)

    def spell_fault(self, fault: str, conv: Conv, values: list) -> dict:
        return fault_functional(fault, conv, values)

    def run(self, x, w, b, params, conv, dtype, device, mode="eager"):
        import torch.nn.functional as F
        fn = getattr(F, f"conv_transpose{conv.rank}d")
        tx, tw, tb = self._tensors(x, w, b, device)

        def call(tx, tw, tb):
            return fn(tx, tw, tb, stride=conv.stride, padding=tuple(params["padding"]),
                      output_padding=tuple(params["output_padding"]), groups=conv.groups, dilation=conv.dilation)
        return _numpy(_in_mode(mode, call, conv, tx, tw, tb))

    def snippet(self, params, conv, dtype, device, mode="eager"):
        setup, call, ctx = _mode_source(mode, conv, "f", "t(x), t(w), t(b)")
        result = f"y = {call}.cpu(){'.float()' if dtype == 'bfloat16' else ''}.numpy()"
        return "\n".join([
            "import torch",
            _tensor_source(dtype, device),
            f"f = lambda x, w, b: torch.nn.functional.conv_transpose{conv.rank}d(x, w, b, stride={conv.stride}, "
            f"padding={tuple(params['padding'])},",
            f"    output_padding={tuple(params['output_padding'])}, groups={conv.groups}, dilation={conv.dilation})",
            *setup,
            *([f"with {ctx}:", "    " + result] if ctx else [result]),
        ])

    def vjp(self, x, w, b, gy, params, conv, dtype, device):
        import torch
        import torch.nn.functional as F
        fn = getattr(F, f"conv_transpose{conv.rank}d")
        tx, tw, tb = (None if t is None else t.requires_grad_() for t in self._tensors(x, w, b, device))
        y = fn(tx, tw, tb, stride=conv.stride, padding=tuple(params["padding"]),
               output_padding=tuple(params["output_padding"]), groups=conv.groups, dilation=conv.dilation)
        y.backward(torch.from_numpy(gy).to(y.device))
        return _grads(tx, tw, tb)

    def vjp_snippet(self, params, conv, dtype, device):
        return dedent(f"""
            import torch
            t = lambda a: None if a is None else torch.from_numpy(a).to({_device(device)!r}).requires_grad_()
            tx, tw, tb = t(x), t(w), t(b)
            torch.nn.functional.conv_transpose{conv.rank}d(
                tx, tw, tb, stride={conv.stride}, padding={tuple(params['padding'])},
                output_padding={tuple(params['output_padding'])}, groups={conv.groups}, dilation={conv.dilation},
            ).backward(torch.from_numpy(gy).to({_device(device)!r}))
            gx, gw = tx.grad.cpu().numpy(), tw.grad.cpu().numpy()
            gb = None if tb is None else tb.grad.cpu().numpy()
        """)


def _grads(tx, tw, tb):
    """(gx, gw, gb) as NumPy arrays from the leaves' .grad (None, a tensor the output does not depend on: zeros)."""
    def grad(t):
        return None if t is None else (t.grad if t.grad is not None else t.detach() * 0).detach().cpu().numpy()
    return grad(tx), grad(tw), grad(tb)


class Module(_TorchSurface):
    def draw_params(self, draw: Drawer, conv: Conv) -> dict:
        padding = _draw_padding(draw, conv)
        sizes = [draw.integer(dim.full - 2 * p - 1, dim.full - 2 * p + dim.s, "output_size")
                 for dim, p in zip(conv.dims(), padding)]
        return {"padding": padding, "output_size": sizes}

    def semantics(self, params: dict, conv: Conv) -> Documented:
        return documented_module(params, conv)

    def spell(self, intent: str, conv: Conv) -> dict:
        return spell_module(intent, conv)

    def spell_fault(self, fault: str, conv: Conv, values: list) -> dict:
        return fault_module(fault, conv, values)

    def _module(self, conv, params, dtype, device):
        import torch
        cls = getattr(torch.nn, f"ConvTranspose{conv.rank}d")
        return cls(conv.c_in, conv.c_out, conv.kernel, stride=conv.stride, padding=tuple(params["padding"]),
                   groups=conv.groups, bias=conv.bias, dilation=conv.dilation,
                   device=_device(device), dtype=getattr(torch, dtype))

    def run(self, x, w, b, params, conv, dtype, device, mode="eager"):
        import torch
        tx, tw, tb = self._tensors(x, w, b, device)
        with torch.no_grad():
            m = self._module(conv, params, dtype, device)
            m.weight.copy_(tw)
            if tb is not None:
                m.bias.copy_(tb)
            if mode == "channels_last":
                m = m.to(memory_format=getattr(torch, _memory_format(conv.rank)))
            y = _in_mode(mode, lambda tx: m(tx, output_size=list(params["output_size"])), conv, tx)
        return _numpy(y)

    def snippet(self, params, conv, dtype, device, mode="eager"):
        setup, call, ctx = _mode_source(mode, conv, "f", "t(x)")
        return "\n".join([
            "import torch",
            _tensor_source(dtype, device),
            f"m = torch.nn.ConvTranspose{conv.rank}d({conv.c_in}, {conv.c_out}, {conv.kernel}, stride={conv.stride},",
            f"    padding={tuple(params['padding'])}, groups={conv.groups}, bias={conv.bias}, "
            f"dilation={conv.dilation},",
            f"    device={_device(device)!r}, dtype=torch.{dtype})",
            *setup,
            f"with torch.no_grad(){', ' + ctx if ctx else ''}:",
            "    m.weight.copy_(t(w))",
            "    if b is not None: m.bias.copy_(t(b))",
            *([f"    m = m.to(memory_format=torch.{_memory_format(conv.rank)})"] if mode == "channels_last" else []),
            f"    f = lambda x: m(x, output_size={list(params['output_size'])})",
            f"    y = {call}.cpu(){'.float()' if dtype == 'bfloat16' else ''}.numpy()",
        ])

    def vjp(self, x, w, b, gy, params, conv, dtype, device):
        import torch
        tx, tw, tb = self._tensors(x, w, b, device)
        m = self._module(conv, params, dtype, device)
        with torch.no_grad():
            m.weight.copy_(tw)
            if tb is not None:
                m.bias.copy_(tb)
        tx.requires_grad_()
        y = m(tx, output_size=list(params["output_size"]))
        y.backward(torch.from_numpy(gy).to(y.device))
        return _grads(tx, m.weight, m.bias if conv.bias else None)

    def vjp_snippet(self, params, conv, dtype, device):
        return dedent(f"""
            import torch
            m = torch.nn.ConvTranspose{conv.rank}d({conv.c_in}, {conv.c_out}, {conv.kernel}, stride={conv.stride},
                padding={tuple(params['padding'])}, groups={conv.groups}, bias={conv.bias}, dilation={conv.dilation},
                device={_device(device)!r}, dtype=torch.{dtype})
            with torch.no_grad():
                m.weight.copy_(torch.from_numpy(w))
                if b is not None: m.bias.copy_(torch.from_numpy(b))
            tx = torch.from_numpy(x).to({_device(device)!r}).requires_grad_()
            m(tx, output_size={list(params['output_size'])}).backward(torch.from_numpy(gy).to({_device(device)!r}))
            gx, gw = tx.grad.cpu().numpy(), m.weight.grad.cpu().numpy()
            gb = None if b is None else m.bias.grad.cpu().numpy()
        """)


def _tensor_source(dtype: str, device: str) -> str:
    """Source of `t`, canonical NumPy array -> tensor on the device (bfloat16 through float32, as _tensors)."""
    if dtype == "bfloat16":
        return (f"t = lambda a: None if a is None else torch.from_numpy(a.astype('float32')).to({_device(device)!r}, "
                "torch.bfloat16)")
    return f"t = lambda a: None if a is None else torch.from_numpy(a).to({_device(device)!r})"


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
                  modes=MODES, slow_modes=("compile",))
    return [Functional(name="torch.nn.functional.conv_transpose", doc=DOC_FUNCTIONAL, **common),
            Module(name="torch.nn.ConvTranspose(output_size=)", doc=DOC_MODULE, **common)]


# -- command line (conformance.spelling): how PyTorch users write these calls, for explain/solve/translate ------
def spellings() -> list:
    from conformance.spelling import Formula, Param, Spelling, WeightLayout

    functional, module = surfaces()
    weights = lambda params, conv: WeightLayout(tuple(range(conv.rank + 2)), name="weight")  # noqa: E731
    padding = Param("padding", ("--padding", "-p"), "ints", default=lambda conv, p: [0] * conv.rank,
                    search=lambda dim, n: range(0, dim.kd + 1), help="implicit zero padding: c = padding")
    output_padding = Param("output_padding", ("--output-padding",), "ints", default=lambda conv, p: [0] * conv.rank,
                           search=lambda dim, n: range(0, dim.s), help="added to one side of the output")

    def t(v) -> str:
        return str(tuple(v))

    def call_functional(p, conv):
        bias = "bias" if conv.bias else "None"
        return (f"torch.nn.functional.conv_transpose{conv.rank}d(input, weight, {bias}, stride={t(conv.stride)}, "
                f"padding={t(p['padding'])}, output_padding={t(p['output_padding'])}, groups={conv.groups}, "
                f"dilation={t(conv.dilation)})")

    def call_module(p, conv):
        return (f"torch.nn.ConvTranspose{conv.rank}d({conv.c_in}, {conv.c_out}, {t(conv.kernel)}, "
                f"stride={t(conv.stride)}, padding={t(p['padding'])}, groups={conv.groups}, bias={conv.bias}, "
                f"dilation={t(conv.dilation)})(input, output_size={list(p['output_size'])})")

    def default_size(conv, p):
        ops = p.get("output_padding") or [0] * conv.rank
        return [dim.full - 2 * pad + op for dim, pad, op in zip(conv.dims(), p["padding"], ops)]

    return [
        Spelling(functional, ("torch.nn.functional.conv_transpose{r}d", "torch.conv_transpose{r}d",
                              "F.conv_transpose{r}d", "conv_transpose{r}d"),
                 params=(padding, output_padding),
                 formulas=(Formula(("c = padding", "L = (i-1)*s - 2*padding + d*(k-1) + output_padding + 1"),
                                   checks=("padding >= 0", "0 <= output_padding < s", "L >= 1"),
                                   source=DOC_FUNCTIONAL + " (H_out)"),),
                 call=call_functional, weights=weights, ranked=True),
        Spelling(module, ("torch.nn.ConvTranspose{r}d", "nn.ConvTranspose{r}d", "ConvTranspose{r}d"),
                 params=(padding,
                         Param("output_padding", ("--output-padding",), "ints", virtual=True,
                               default=lambda conv, p: [0] * conv.rank,
                               help="the constructor's output_padding: output_size = F - 2 padding + output_padding"),
                         Param("output_size", ("--output-size",), "ints", default=default_size,
                               search=lambda dim, n: range(max(0, min(n, dim.full - 2 * dim.kd) - dim.s),
                                                     max(n, dim.full) + dim.s + 1),
                               help="forward(input, output_size=): the spatial output size")),
                 formulas=(Formula(("c = padding", "L = output_size"),
                                   checks=("padding >= 0", "F - 2*padding <= output_size <= F - 2*padding + s - 1",
                                           "output_size >= 1"),
                                   source=DOC_MODULE + " (forward(input, output_size))"),),
                 call=call_module, weights=weights, ranked=True),
    ]
