"""What an adapter provides for each API surface it wraps (see ../shared/DESIGN.md, "An adapter").

A `Surface` states three things about one framework API:
  1. `semantics(params, conv)`: the *documented* mapping from the API's own parameters and the input
     geometry to the output window (c, L) per dimension, or to the documented refusal. A pure function
     written from the framework's documentation, never by calling the framework.
  2. `call`, written once: a shipped function (conformance.core.source), canonical NumPy arrays in, the framework's
     call, a canonical NumPy array out (and the VJPs, given a cotangent); `arguments` gives its keyword arguments
     for a case. The harness runs it here, in a mode's process, in the crash-isolating worker, and prints it in
     reproducers: all the same lines.
  3. capabilities (ranks, dtypes, groups, bias, dilation, modes as data) and `draw_params`, so strategies draw
     only what the surface can express.

`draw_params` receives a `Drawer` (integers, choices, booleans); the suites back it with Hypothesis, so
adapters never import Hypothesis and the draws shrink well.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Protocol, Sequence

import numpy as np

from conformance.core import rules as rules_mod
from conformance.core import source
from conformance.core.rules import Rules
from conformance.core.spec import Conv, Window


class NoAutodiff(Exception):
    """The surface's call computes no VJPs (Surface.gradient is False): the gradients property skips it."""


class ParamsContractError(ValueError):
    """A surface's params dict lacks a key its param_keys declare, or has one they do not (Surface doc)."""


class Drawer(Protocol):
    def integer(self, lo: int, hi: int, label: str) -> int: ...
    def choice(self, options: Sequence[Any], label: str) -> Any: ...
    def boolean(self, label: str) -> bool: ...


@dataclass(frozen=True)
class Refusal:
    """The documented refusal of a configuration: why, and where the docs say so."""

    reason: str
    doc: str


@dataclass(frozen=True)
class Documented:
    """The documented outcome of one call: a window, or a refusal; with the rule and its source."""

    window: Window | None = None
    refusal: Refusal | None = None
    rule: str = ""
    doc: str = ""

    @property
    def refused(self) -> bool:
        return self.refusal is not None

    def __str__(self) -> str:
        if self.refusal:
            return f"refused: {self.refusal.reason} [{self.refusal.doc}]"
        if self.window is None:
            return f"either a refusal or a result: {self.rule} [{self.doc}]"
        return f"{self.window} via {self.rule} [{self.doc}]"


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, (list, tuple)) else value


_DOCUMENTED: dict = {}   # (rules, params, conv) -> Documented: a case asks the same question several times


def documented(rules: Rules, params: dict, conv: Conv) -> Documented:
    """The semantic model of a surface that states its docs as `rules` (conformance.core.rules.evaluate)."""
    key = (id(rules), tuple((k, _hashable(v)) for k, v in params.items()), conv)
    try:
        hit = _DOCUMENTED.get(key)
    except TypeError:         # an unhashable value in a malformed params dict (a dict where a number goes)
        return _documented(rules, params, conv)
    if hit is None or hit[0] is not rules:      # (the rules kept with the result: an id is reused only after them)
        if len(_DOCUMENTED) > 4096:
            _DOCUMENTED.clear()
        hit = _DOCUMENTED[key] = (rules, _documented(rules, params, conv))
    return hit[1]


def _documented(rules: Rules, params: dict, conv: Conv) -> Documented:
    out = rules_mod.evaluate(rules, params, conv)
    if out.refusal:
        return Documented(refusal=Refusal(out.refusal, out.doc))
    if out.open:                 # an edge the docs leave open: either a refusal or a result
        return Documented(rule=out.rule, doc=out.doc)
    return Documented(window=Window(out.crop, out.length), rule=out.rule, doc=out.doc)


def window_from_dims(pairs: Sequence[tuple[int, int]], rule: str, doc: str) -> Documented:
    """Documented window from (c, L) per dimension; a length < 1 is reported by the caller as refusal."""
    return Documented(window=Window(tuple(c for c, _ in pairs), tuple(n for _, n in pairs)), rule=rule, doc=doc)


@dataclass
class Device:
    name: str          # what --device matches: "cpu", "gpu", "gpu:1"
    kind: str          # "cpu" or "gpu"
    model: str = ""    # human description from the framework

    @property
    def description(self) -> str:
        return f"{self.name} ({self.model})" if self.model else self.name


def cpu_model() -> str:
    """The host CPU's model name, for the records' device_model (the frameworks name their CPU device only 'CPU')."""
    import os
    import platform
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} cores)"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine() or 'CPU'} ({os.cpu_count()} cores)"


@dataclass(frozen=True)
class Mode:
    """An execution mode of a surface's call: eager dispatch, or a jit/compiled/... form the call itself applies (its
    `mode` argument), or a framework switch read once at import (`env`: the call then runs in a worker process
    started with these variables). `slow`: compiles for seconds per new shape (the modes property draws few)."""

    name: str
    env: tuple[tuple[str, str], ...] = ()
    slow: bool = False


EAGER = Mode("eager")


@dataclass
class Surface(abc.ABC):
    """Base for one API surface (module doc). A subclass states, once each:

      call           a shipped function (conformance.core.source: a module-level function whose source is also what the
                     worker and the reproducers run), `call(x, w, b, gy=None, **arguments)`: canonical NumPy arrays
                     in, the canonical result out, or with a cotangent `gy` the VJPs (gx, gw, gb) in canonical
                     layouts (gb None without a bias). `gradient` says whether it takes `gy`.
      arguments      the call's keyword arguments for a case (pure, framework-free; every value a literal)
      draw_params    the API's own parameters, legal and illegal, through the Drawer. The params contract: a
                     params dict (from draw_params or spell) has exactly the keys in `param_keys`, None where the
                     API's argument is absent, so predicates over them never meet a missing name; the harness
                     checks every dict it draws (`contract`) and fails the case with ParamsContractError
      rules          the documented semantics as data (conformance.core.rules: per-dimension cases giving the crop
                     c and length L, and the conditions the docs put on the call, each citing its doc): the one
                     statement that the judge (`semantics`) and `python -m conformance explain` both evaluate
    and optionally spell, spell_fault, accumulation, nondeterminism, mode_supports.
    """

    framework: str                    # e.g. "torch", "keras-jax"
    name: str                         # e.g. "torch.nn.functional.conv_transpose{1,2,3}d"
    doc: str                          # URL of the documentation the semantics follow
    ranks: tuple[int, ...] = (1, 2, 3)
    dtypes: tuple[str, ...] = ("float32", "float64")
    groups: bool = False
    bias: bool = False
    dilation: bool = True
    notes: str = ""
    extra: dict = field(default_factory=dict)
    # execution modes (data): eager first; a record dimension (Case.mode)
    modes: tuple[Mode, ...] = (EAGER,)
    call: Callable | None = None      # the shipped call function (class doc)
    gradient: bool = False            # `call` takes a cotangent gy and returns the VJPs
    param_keys: tuple[str, ...] = ()  # the keys every params dict of this surface has (class doc)
    api_arguments: tuple[str, ...] = ()   # the keyword arguments of `call` that are the API's own parameters (the
    # robustness property replaces each with faulty values, conformance.harness.robustness)
    rules: Rules | None = None        # the documented semantics as data (conformance.core.rules); default: the
    RULES: ClassVar[Rules | None] = None  # class's RULES, so a surface class states its docs once for every instance

    def __post_init__(self) -> None:
        if self.rules is None:
            self.rules = type(self).RULES
        if self.rules is None and type(self).semantics is Surface.semantics:
            raise TypeError(f"{type(self).__name__} ({self.framework}:{self.name}) states no documented semantics: "
                            "give it RULES / rules= (conformance.core.rules) or override semantics")

    @property
    def id(self) -> str:
        return f"{self.framework}:{self.short_name}"

    @property
    def short_name(self) -> str:
        return self.name

    @property
    def mode_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.modes)

    def contract(self, params: dict, where: str = "draw_params") -> dict:
        """`params` if it keeps the params contract (class doc), else ParamsContractError naming the keys."""
        keys, declared = set(params), set(self.param_keys)
        if keys != declared:
            missing, extra = sorted(declared - keys), sorted(keys - declared)
            raise ParamsContractError(
                f"{self.id}: {where} returned keys {sorted(keys)}; param_keys declares {sorted(declared)}"
                + (f" (missing {missing}: give None where the API's argument is absent)" if missing else "")
                + (f" (undeclared {extra}: add them to param_keys)" if extra else ""))
        return params

    def mode(self, name: str) -> Mode:
        for m in self.modes:
            if m.name == name:
                return m
        raise KeyError(f"{self.id} has no mode {name!r} (modes: {', '.join(self.mode_names)})")

    # -- each surface implements these ---------------------------------------------------------------
    @abc.abstractmethod
    def draw_params(self, draw: Drawer, conv: Conv) -> dict:
        """The API's own parameters for `conv` (JSON-serialisable), drawn to cover legal and illegal values."""

    def semantics(self, params: dict, conv: Conv) -> Documented:
        """The documented window or refusal for these parameters; pure, from the docs (cite them): `rules`
        evaluated, for a surface that states them (every shipped adapter), else the surface's override (a surface
        with neither cannot be constructed)."""
        return documented(self.rules, params, conv)

    @abc.abstractmethod
    def arguments(self, params: dict, conv: Conv, dtype: str, device: str, mode: str = "eager") -> dict:
        """The keyword arguments of `call` for this case: literals only (they are written into scripts by repr)."""

    def spell(self, intent: str, conv: Conv) -> dict:
        """This API's parameters for a portable intent (conformance.harness.portable.INTENTS), written the way its users
        write them; raises Unexpressible when the API has no way to say it. Surfaces override it."""
        raise Unexpressible(f"{self.id} spells no portable intents")

    def spell_fault(self, fault: str, conv: Conv, values: list) -> dict:
        """This API's parameters for a parameter fault of the error catalogue
        (conformance.harness.catalogue.PARAM_FAULTS: output-padding, padding, output-size, output-size-rank with
        per-dimension `values`), starting from the valid 'valid' spelling; raises Unexpressible when the API has no
        such parameter."""
        raise Unexpressible(f"{self.id} spells no parameter faults")

    # -- the call, written once (`call`): run here, in a mode's process, or shipped as source ------------------
    def run(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, params: dict, conv: Conv,
            dtype: str, device: str, mode: str = "eager") -> np.ndarray:
        """`call` on canonical arrays (already of `dtype`; bfloat16 as ml_dtypes.bfloat16) in execution `mode`: in
        this process, or for a mode with an environment in a worker process started with it."""
        args = self.arguments(params, conv, dtype, device, mode)
        env = self.mode(mode).env
        if env:
            from conformance.harness.isolate import run_with_env
            return run_with_env(source.script(self.call, "y", "x, w, b", args), {"x": x, "w": w, "b": b}, dict(env))
        return self.call(x, w, b, **args)

    def source(self, params: dict, conv: Conv, dtype: str, device: str, mode: str = "eager") -> str:
        """Python source that, given canonical NumPy arrays x, w, b of `dtype`, sets `y`: `call`'s own source and the
        line that calls it (a mode's environment variables are set first: they are read at import)."""
        env = self.mode(mode).env
        lines = [f"import os; os.environ[{k!r}] = {v!r}  # read once, when the framework is imported"
                 for k, v in env]
        return "\n".join([*lines, source.script(self.call, "y", "x, w, b",
                                                 self.arguments(params, conv, dtype, device, mode))])

    def vjp(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, gy: np.ndarray, params: dict, conv: Conv,
            dtype: str, device: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The framework's vector-Jacobian products of the same call for the cotangent `gy` (canonical layout, the
        output's shape): (gx, gw, gb) in canonical layouts, gb None without a bias (eager mode)."""
        if not self.gradient:
            raise NoAutodiff(f"{self.id} has no autodiff")
        return self.call(x, w, b, gy, **self.arguments(params, conv, dtype, device))

    def vjp_source(self, params: dict, conv: Conv, dtype: str, device: str, defined: bool = False) -> str:
        """Python source that, given canonical NumPy arrays x, w, b, gy of `dtype`, sets gx, gw, gb as `vjp` does:
        `call`'s source and the line calling it, or only that line when the script already `defined` the function
        (a gradient reproducer follows the forward one, which prints it)."""
        if not self.gradient:
            raise NoAutodiff(f"{self.id} has no autodiff")
        args = self.arguments(params, conv, dtype, device)
        if defined:
            return source.call_line(self.call, "gx, gw, gb", "x, w, b, gy", args)
        return source.script(self.call, "gx, gw, gb", "x, w, b, gy", args)

    # -- devices, modes and precision (conformance.harness.agreement); surfaces override what their docs say -----------
    def mode_supports(self, mode: str, conv: Conv, dtype: str) -> str | None:
        """None if `mode` can run `conv` in `dtype`, else why not (e.g. no channels_last form of a 3-D tensor)."""
        return None if mode in self.mode_names else f"{self.id} has no {mode!r} mode"

    def accumulation(self, dtype: str, device: str, mode: str = "eager", params: dict | None = None) -> str | None:
        """The precision the framework documents for this call's sums, when it is not `dtype` itself (a key of
        conformance.core.bounds.UNIT_ROUNDOFF: 'float32' for half-precision inputs summed in float32, 'tfloat32' for
        TensorFloat-32 convolutions on GPUs); None: the sums are bounded in `dtype` itself, the widest bound."""
        return None

    def nondeterminism(self, device: str, mode: str = "eager") -> str | None:
        """Where the framework documents that the same call may give different bits on `device` (GPU atomics,
        algorithm autotuning): that documentation, quoted; None where two calls must be bitwise equal."""
        return None

    # -- shared ------------------------------------------------------------------------------------
    def supports(self, conv: Conv, dtype: str) -> str | None:
        """None if this surface can express `conv` in `dtype`, else the reason it cannot."""
        if conv.rank not in self.ranks:
            return f"{self.id} has no rank-{conv.rank} form"
        if dtype not in self.dtypes:
            return f"{self.id} does not take {dtype}"
        if conv.groups > 1 and not self.groups:
            return f"{self.id} has no groups parameter"
        if conv.bias and not self.bias:
            return f"{self.id} has no bias"
        if max(conv.dilation) > 1 and not self.dilation:
            return f"{self.id} has no dilation parameter"
        return None


class Converted:
    """Mixed in before a source surface's class to make a conversion surface (the source's call exported by a
    converter and run by a runtime, ../shared/DESIGN.md): it keeps the source's rules, draws and spellings, while the
    source's execution facts -- its modes, the accumulation precision and nondeterminism its framework documents --
    belong to a call that no longer runs. The converted call runs eagerly, summed in its dtype, deterministically."""

    def mode_supports(self, mode: str, conv: Conv, dtype: str) -> str | None:
        return Surface.mode_supports(self, mode, conv, dtype)

    def accumulation(self, dtype: str, device: str, mode: str = "eager", params: dict | None = None) -> str | None:
        return None

    def nondeterminism(self, device: str, mode: str = "eager") -> str | None:
        return None

    def export(self, x, w, b, params: dict, conv: Conv, dtype: str, device: str, path: str) -> None:
        """Write the ONNX model this surface's call makes for the case (the exported model, or the model handed to
        the converter) to `path`: the same call with export_to=path (every conversion call takes it); whatever the
        call does after writing it (raise, return) is not looked at here."""
        self.call(x, w, b, **self.arguments(params, conv, dtype, device), export_to=path)


class Unexpressible(Exception):
    """The surface cannot express a portable intent; the message says why (and what users do instead)."""


class FrameworkUnavailable(Exception):
    """The framework (or the asked device) is absent; the message is the one-line skip reason."""


@dataclass
class Adapter:
    """One framework: its version, the devices it found, and the surfaces it wraps."""

    name: str
    version: str
    devices: list[Device]
    surfaces: list[Surface]
    notes: str = ""

    def device(self, name: str) -> Device:
        for dev in self.devices:
            if dev.name == name:
                return dev
        raise FrameworkUnavailable(
            f"{self.name}: no device {name!r}; found: {', '.join(d.name for d in self.devices) or 'none'}")
