"""How a user writes a call to one surface: what `python -m conformance explain|solve|translate` reads.

A `Spelling` belongs to an adapter (declared next to its surfaces, framework-free) and says, for one API name
family (`torch.nn.functional.conv_transpose{1,2,3}d`, `keras.layers.Conv{1,2,3}DTranspose`, ...):
  * the names a user types for it, and the surface whose documented semantics it is;
  * its parameters as command-line options (`Param`): what kind of value, the documented default, which ones
    choose the window (those `solve` searches, with the candidates to try);
  * the documented formulas as templates (`Formula`): expressions over the dimension's symbols that the command
    line fills in with the numbers ("L = (i-1)*s - 2*padding + ... = (7 - 1) * 2 - 2 * 1 + ... = 14"). The window
    itself always comes from the surface's `semantics`; the self-tests check the templates agree with it;
  * the layout of the weights (`WeightLayout`) and whether the input is channels-last, so `translate` can spell
    out the conversion between two surfaces' weights as code;
  * the call as its users write it (`call`).

Symbols of a formula, per spatial dimension: i k s d (input, kernel, stride, dilation), kd = d(k-1)+1,
F = (i-1)s + kd (the full scatter), D = (i-1)s + 1 (the stride-dilated input); every parameter by its key (its
value in this dimension: an int, a string, a bool or None); a pair-valued parameter as lo and hi. Functions:
max, min, abs, ceil_div(a, b). Lines are "name = expression", evaluated in order, and must define c and L.
"""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from conformance.core import expr
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
class Formula:
    """One documented case of the window rule: used in a dimension when `when` holds there."""

    lines: tuple[str, ...]                     # "name = expression", in order; define c and L
    when: str = ""                             # expression over the symbols; "" = always
    checks: tuple[str, ...] = ()               # conditions the docs put on the call (a failing one = refusal)
    source: str = ""                           # where this case is written


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


@dataclass
class Spelling:
    surface: Surface                           # the adapter's surface (framework-free instance)
    names: tuple[str, ...]                     # first one canonical; "{r}" is the rank for rank-specific names
    params: tuple[Param, ...]
    formulas: tuple[Formula, ...]
    call: Callable[[dict, Conv], str]          # the call as its users write it
    weights: Callable[[dict, Conv], WeightLayout]
    ranked: bool = False                       # names carry the rank (conv2d_transpose), else any rank
    channels_last: Callable[[dict], bool] = lambda params: False
    variants: dict[str, Surface] = field(default_factory=dict)   # e.g. Keras backends: name -> surface
    variant_option: str = ""                   # the option that picks a variant ("--backend")
    default_variant: str = ""
    notes: str = ""

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

    def passed(self, params: dict) -> dict:
        """The params dict the surface takes (virtual parameters dropped)."""
        virtual = {p.key for p in self.params if p.virtual}
        return {k: v for k, v in params.items() if k not in virtual}


# -- formula templates (written in the one restricted language, conformance.core.expr) --------------------------
FUNCTIONS = expr.FUNCTIONS


class FormulaError(ValueError):
    pass


def _parse(text: str) -> ast.Expression:
    try:
        return expr.check(text)
    except expr.ExpressionError as exc:
        raise FormulaError(f"formula: {exc}") from None


def evaluate(text: str, symbols: dict[str, Any]) -> Any:
    _parse(text)
    try:
        return expr.evaluate(text, symbols)
    except NameError as exc:
        raise FormulaError(f"formula {text!r} uses {exc.name!r}, not a symbol here") from None


class _Fill(ast.NodeTransformer):
    def __init__(self, symbols):
        self.symbols = symbols

    def visit_Call(self, node):
        node.args = [self.visit(a) for a in node.args]
        return node

    def visit_Name(self, node):
        if node.id in self.symbols:
            value = self.symbols[node.id]
            if isinstance(value, int) and not isinstance(value, bool) and value < 0:
                return ast.copy_location(ast.Name(id=f"({value})", ctx=ast.Load()), node)   # 1 - (-1), not 1 - -1
            return ast.copy_location(ast.Constant(value), node)
        return node


def filled(expr: str, symbols: dict[str, Any]) -> str:
    """`expr` with every symbol replaced by its number."""
    return ast.unparse(_Fill(symbols).visit(_parse(expr)))


def symbols_for(spelling: Spelling, params: dict, conv: Conv, axis: int) -> dict[str, Any]:
    dim = conv.dims()[axis]
    out: dict[str, Any] = {"i": dim.i, "k": dim.k, "s": dim.s, "d": dim.d, "kd": dim.kd, "F": dim.full,
                           "D": (dim.i - 1) * dim.s + 1}
    for p in spelling.params:
        value = params.get(p.key)
        if isinstance(value, (list, tuple)):
            item = value[axis] if axis < len(value) else None
            if isinstance(item, (list, tuple)):
                out["lo"], out["hi"] = int(item[0]), int(item[1])
                out[p.key] = "pairs"
            else:
                out[p.key] = item
        else:
            out[p.key] = value
    return out


@dataclass(frozen=True)
class Line:
    name: str
    template: str
    filled: str
    value: Any

    def __str__(self) -> str:
        text = f"{self.name} = {self.template}"
        if self.filled not in (self.template, repr(self.value), str(self.value)):
            text += f" = {self.filled}"
        if str(self.value) != self.template:
            text += f" = {self.value}"
        return text


@dataclass(frozen=True)
class Check:
    template: str
    filled: str
    ok: bool

    def __str__(self) -> str:
        return f"{self.template}: {self.filled} {'ok' if self.ok else 'FAILS'}"


@dataclass(frozen=True)
class Worked:
    """One dimension's formula, worked out: its lines and checks with the numbers, and the resulting c and L."""

    formula: Formula | None
    lines: tuple[Line, ...] = ()
    checks: tuple[Check, ...] = ()
    c: int | None = None
    L: int | None = None

    @property
    def ok(self) -> bool:
        return all(ch.ok for ch in self.checks)


def work(spelling: Spelling, params: dict, conv: Conv, axis: int) -> Worked:
    """The formula of `spelling` for dimension `axis`, with the numbers filled in (None if no case applies)."""
    symbols = symbols_for(spelling, params, conv, axis)
    for formula in spelling.formulas:
        try:
            applies = not formula.when or bool(evaluate(formula.when, symbols))
        except (FormulaError, TypeError):
            applies = False
        if not applies:
            continue
        env = dict(symbols)
        lines = []
        for line in formula.lines:
            name, _, expr = line.partition("=")
            name, expr = name.strip(), expr.strip()
            value = evaluate(expr, env)
            lines.append(Line(name, expr, filled(expr, env), value))
            env[name] = value
        checks = []
        for expr in formula.checks:
            try:
                ok = bool(evaluate(expr, env))
            except TypeError:
                ok = False
            checks.append(Check(expr, filled(expr, env), ok))
        return Worked(formula, tuple(lines), tuple(checks), env.get("c"), env.get("L"))
    return Worked(None)
