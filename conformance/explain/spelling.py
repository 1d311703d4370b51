"""How a user writes a call to one surface: what `python -m conformance explain|solve|translate` reads.

A `Spelling` belongs to an adapter (declared next to its surfaces, framework-free) and says, for one API name
family (`torch.nn.functional.conv_transpose{1,2,3}d`, `keras.layers.Conv{1,2,3}DTranspose`, ...):
  * the names a user types for it, and the surface whose documented semantics it is;
  * its parameters as command-line options (`Param`): what kind of value, the documented default, which ones
    choose the window (those `solve` searches, with the candidates to try);
  * nothing about the window: the documented formulas are the surface's own `rules` (conformance.core.rules), the
    statement the judge evaluates, and explain fills them in with the numbers
    ("L = (i-1)*s - 2*padding + ... = (7 - 1) * 2 - 2 * 1 + ... = 14");
  * the layout of the weights (`WeightLayout`) and whether the input is channels-last, so `translate` can spell
    out the conversion between two surfaces' weights as code;
  * the call as its users write it (`call`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from conformance.core.rules import Rules
from conformance.core.spec import Conv, Dim
from conformance.harness.surface import Surface


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = _Required()

# kinds of parameter values (the value held in the surface's params dict):
#   ints          one int per spatial dimension                  [1, 1]
#   pairs         one (lo, hi) per spatial dimension              [[1, 2], [0, 0]]
#   choice        one of `choices`                                'SAME'
#   choice|pairs  a choice or pairs                              'SAME' or [[1, 2]]
#   ints|none     ints, or None (the documented "inferred")       None or [1, 1]
#   bool          True / False
#   layout        the surface's word for channels-first/-last     'NHWC', 'channels_last'
KINDS = ("ints", "pairs", "choice", "choice|pairs", "ints|none", "bool", "layout")


@dataclass(frozen=True)
class Param:
    key: str                                   # the key in the surface's params dict
    flags: tuple[str, ...]                     # command-line options, e.g. ("--padding", "-p")
    kind: str
    choices: tuple[Any, ...] = ()              # the values as the API spells them (choice kinds; None allowed)
    default: Any = REQUIRED                    # a value, or a function (conv, params so far) -> value
    search: Callable[[Dim, int], Iterable] | None = None   # solve: per-dimension candidates for wanted length n
    layouts: Callable[[int, str], str] | None = None        # kind layout: (rank, "first"|"last") -> the API's word
    virtual: bool = False                      # read from the command line, used by defaults, not passed on
    help: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.key}: kind {self.kind!r} not one of {KINDS}")

    @property
    def searched(self) -> bool:
        """solve varies it: per-dimension values from `search`, and the shared ones (choices, None, True/False)."""
        return self.search is not None

    def shared_values(self) -> tuple:
        """Values that hold for every dimension at once: the choices (None for ints|none), True/False."""
        if self.kind == "bool":
            return (False, True)
        return tuple(self.choices) if self.kind in ("choice", "choice|pairs", "ints|none") else ()

    @property
    def per_dim(self) -> bool:
        return self.kind in ("ints", "pairs", "choice|pairs", "ints|none")


@dataclass(frozen=True)
class WeightLayout:
    """The surface's weight array as a transform of the canonical (C_in, C_out/groups, *k), no flip:
    native = transpose(flip?(swap?(canonical)), perm); swap = per group (C_out, C_in/groups, *k)."""

    perm: tuple[int, ...]
    flip: bool = False
    swap: bool = False
    name: str = "w"                            # what the API calls it (weight, kernel, filters, rhs)

    def axes(self, rank: int) -> tuple[str, ...]:
        spatial = {1: ("kw",), 2: ("kh", "kw"), 3: ("kd", "kh", "kw")}[rank]
        first = ("C_out", "C_in/groups") if self.swap else ("C_in", "C_out/groups")
        names = (*first, *spatial)
        return tuple(names[p] for p in self.perm)

    def label(self, rank: int) -> str:
        return "(" + ", ".join(self.axes(rank)) + ")" + (", taps flipped" if self.flip else "")

    def to_native(self, var: str, conv: Conv) -> str:
        """Code: canonical `var` -> this layout."""
        r, g = conv.rank, conv.groups
        expr = var
        if self.swap:
            expr = (f"{expr}.reshape({g}, {conv.c_in // g}, {conv.c_out // g}, *{conv.kernel}).swapaxes(1, 2)"
                    f".reshape({conv.c_out}, {conv.c_in // g}, *{conv.kernel})")
        if self.flip:
            expr = f"np.flip({expr}, {tuple(range(2, r + 2))})"
        if tuple(self.perm) != tuple(range(r + 2)):
            expr = f"np.transpose({expr}, {tuple(self.perm)})"
        return expr

    def from_native(self, var: str, conv: Conv) -> str:
        """Code: this layout's `var` -> canonical."""
        r, g = conv.rank, conv.groups
        expr = var
        if tuple(self.perm) != tuple(range(r + 2)):
            inverse = tuple(sorted(range(r + 2), key=lambda a: self.perm[a]))
            expr = f"np.transpose({expr}, {inverse})"
        if self.flip:
            expr = f"np.flip({expr}, {tuple(range(2, r + 2))})"
        if self.swap:
            expr = (f"{expr}.reshape({g}, {conv.c_out // g}, {conv.c_in // g}, *{conv.kernel}).swapaxes(1, 2)"
                    f".reshape({conv.c_in}, {conv.c_out // g}, *{conv.kernel})")
        return expr

    def canonical_axes(self, rank: int) -> tuple[int, ...]:
        """Without groups: the canonical axis (0 C_in, 1 C_out, 2.. taps) at each axis of this layout."""
        first = (1, 0) if self.swap else (0, 1)
        base = (*first, *range(2, rank + 2))
        return tuple(base[p] for p in self.perm)

    def shape(self, conv: Conv) -> tuple[int, ...]:
        g = conv.groups
        first = (conv.c_out, conv.c_in // g) if self.swap else (conv.c_in, conv.c_out // g)
        base = (*first, *conv.kernel)
        return tuple(base[p] for p in self.perm)


def convert_weights(source: WeightLayout, target: WeightLayout, var: str, conv: Conv) -> str:
    """Code: `var` in the source layout -> the target layout, in one step where groups allow it."""
    if conv.groups > 1 and source.swap != target.swap:
        return target.to_native(f"({source.from_native(var, conv)})", conv)
    r = conv.rank
    src, dst = source.canonical_axes(r), target.canonical_axes(r)
    expr = var
    if source.flip != target.flip:
        expr = f"np.flip({expr}, {tuple(a for a in range(r + 2) if src[a] >= 2)})"
    order = tuple(src.index(axis) for axis in dst)
    if order != tuple(range(r + 2)):
        expr = f"np.transpose({expr}, {order})"
    return expr


def NO_SEARCH(dim: Dim, n: int) -> tuple:
    """`search` of a parameter solve varies only through its shared values (choices, True/False)."""
    return ()


def channels_last_perm(rank: int) -> tuple[int, ...]:
    """(N, C, *spatial) -> (N, *spatial, C)."""
    return (0, *range(2, rank + 2), 1)


def channels_first_perm(rank: int) -> tuple[int, ...]:
    """(N, *spatial, C) -> (N, C, *spatial)."""
    return (0, rank + 1, *range(1, rank + 1))


@dataclass(frozen=True)
class CallText:
    """The call as its users write it, rendered from the surface's own `arguments` -- the values the shipped call
    (conformance.core.source) hands the framework -- so the text explain/solve/translate show and the call the suite
    runs cannot drift apart. The fields are the arguments, the Conv's fields (rank, c_in, c_out, kernel, stride,
    dilation, groups, bias), `ones` ((1,) per dimension) and `bias_or_none` ('bias' or 'None'). `name`, `positional`
    and `then` are str.format templates over them (values as str() writes them); `keywords` are (the API's keyword,
    a field) pairs, written keyword=value (strings quoted; a None value left out for the fields in `optional`;
    `literals` turns a value into the source text its users write, e.g. 'HIGHEST' -> jax.lax.Precision.HIGHEST)."""

    name: str                                  # e.g. "torch.nn.functional.conv_transpose{rank}d"
    positional: str = ""                       # e.g. "input, weight, {bias_or_none}"
    keywords: tuple[tuple[str, str], ...] = ()
    then: str = ""                             # a call on the result, e.g. "(input, output_size={output_size})"
    optional: tuple[str, ...] = ()
    literals: tuple[tuple[Any, str], ...] = ()

    def render(self, surface: Surface, params: dict, conv: Conv) -> str:
        fields = {"rank": conv.rank, "c_in": conv.c_in, "c_out": conv.c_out, "kernel": conv.kernel,
                  "stride": conv.stride, "dilation": conv.dilation, "groups": conv.groups, "bias": conv.bias,
                  "ones": (1,) * conv.rank, "bias_or_none": "bias" if conv.bias else "None",
                  **surface.arguments(params, conv, "float32", "cpu")}
        literals = dict(self.literals)
        words = [self.positional.format(**fields)] if self.positional else []
        words += [f"{keyword}={_text(fields[key], literals)}" for keyword, key in self.keywords
                  if not (key in self.optional and fields[key] is None)]
        return f"{self.name.format(**fields)}({', '.join(words)}){self.then.format(**fields)}"


def _text(value: Any, literals: dict) -> str:
    try:
        if value in literals:
            return literals[value]
    except TypeError:          # unhashable: a list
        pass
    return repr(value) if isinstance(value, str) else str(value)


@dataclass
class Spelling:
    surface: Surface                           # the adapter's surface (framework-free instance)
    names: tuple[str, ...]                     # first one canonical; "{r}" is the rank for rank-specific names
    params: tuple[Param, ...]
    text: CallText                             # the call as its users write it, from the surface's arguments
    weights: Callable[[dict, Conv], WeightLayout]
    ranked: bool = False                       # names carry the rank (conv2d_transpose), else any rank
    channels_last: Callable[[dict], bool] = lambda params: False
    variants: dict[str, Surface] = field(default_factory=dict)   # e.g. Keras backends: name -> surface
    variant_option: str = ""                   # the option that picks a variant ("--backend")
    default_variant: str = ""
    notes: str = ""

    @property
    def rules(self) -> Rules:
        """The surface's documented semantics (conformance.core.rules), which explain works out."""
        return self.surface.rules

    @property
    def family(self) -> str:
        return self.names[0]

    def name(self, rank: int | None) -> str:
        return self.names[0].replace("{r}", str(rank)) if rank else self.names[0].replace("{r}", "N")

    def with_variant(self, variant: str) -> "Spelling":
        if variant not in self.variants:
            raise KeyError(variant)
        return dataclasses.replace(self, surface=self.variants[variant], default_variant=variant)

    def param(self, key: str) -> Param | None:
        return next((p for p in self.params if p.key == key), None)

    def layout_param(self) -> Param | None:
        return next((p for p in self.params if p.kind == "layout"), None)

    def call(self, params: dict, conv: Conv) -> str:
        """The call as its users write it, for these params (virtual ones included)."""
        return self.text.render(self.surface, self.passed(params), conv)

    def passed(self, params: dict) -> dict:
        """The params dict the surface takes (virtual parameters dropped)."""
        virtual = {p.key for p in self.params if p.virtual}
        return {k: v for k, v in params.items() if k not in virtual}
