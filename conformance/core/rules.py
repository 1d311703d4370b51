"""A surface's documented semantics, written once as data: what the judge compares with and what explain prints.

The docs of every API state its output window per spatial dimension as a formula (torch's H_out, Keras's
new_rows, TensorFlow's forward-conv rules, XLA's padded base) plus conditions on the call. `Rules` holds exactly
that, in the one restricted expression language (conformance.core.expr):

  * `cases`: per dimension, the first `Case` whose `when` holds gives lines "name = expression", evaluated in
    order, that must define the crop `c` and the length `L` (conformance.core.spec: y[o] = full[o + c]); its
    `checks` are the conditions the docs put on that dimension;
  * `checks`: conditions on the whole call (a layout string that must match the rank, strides incompatible with
    dilation, ...).
A failing check is a documented refusal, with the check's reason and doc; a failing `open` check is an edge the docs
leave open (their formula reaches a case they say nothing about): neither a refusal nor a result diverges there, and
a refusal elsewhere in the call wins over it. `evaluate(rules, params, conv)` is the
semantic model the harness judges by (conformance.harness.surface.Surface.semantics), and `work` the same
evaluation with every line's numbers filled in, which `python -m conformance explain` prints: the two cannot
disagree because they are one computation.

Symbols, per spatial dimension: i k s d (input, kernel, stride, dilation), kd = d(k-1)+1, F = (i-1)s + kd (the
full scatter), D = (i-1)s + 1 (the stride-dilated input); every parameter by its key, at its value in this
dimension (an int, a string, a bool or None; 'pairs' for a (lo, hi) pair, whose numbers are `lo` and `hi`).
Of the whole call: rank, in_size, kernel, stride, dilation, groups, batch, c_in, c_out, bias, and every parameter
by its key (lists as tuples; 'pairs' for a list of (lo, hi) pairs). A parameter a rule names but the params dict
lacks reads as None. Functions: those of conformance.core.expr (max, min, abs, ceil_div, ...).
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, field
from typing import Any

from conformance.core import expr
from conformance.core.spec import Conv, Dim

AXES = ("first", "second", "third")


@dataclass(frozen=True)
class Check:
    """A condition the docs put on the call; failing, the call is refused for `reason` (cite `doc`)."""

    expr: str
    reason: str = ""                 # the docs' words for the condition ("" = the expression itself)
    doc: str = ""                    # where they say it ("" = the case's or the rules' doc)
    open: bool = False               # failing, the docs leave the call open (not a refusal: either outcome passes)


@dataclass(frozen=True)
class Case:
    """One documented case of the window rule: used in a dimension when `when` holds there."""

    lines: tuple[str, ...]           # "name = expression", in order; define c and L
    when: str = ""                   # expression over the dimension's symbols; "" = always
    checks: tuple[Check, ...] = ()   # conditions the docs put on this dimension
    source: str = ""                 # where this case is written (doc URL and section)

    def text(self) -> str:
        return (f"{self.when}: " if self.when else "") + "; ".join(self.lines)


@dataclass(frozen=True)
class Rules:
    cases: tuple[Case, ...]
    checks: tuple[Check, ...] = ()   # conditions on the whole call, checked before the dimensions
    doc: str = ""                    # the API's documentation (the default doc of a refusal)

    def __post_init__(self) -> None:
        for text in self.expressions():
            expr.check(text)         # one line naming the bad expression, at import
        for case in self.cases:
            names = {line.partition("=")[0].strip() for line in case.lines}
            if not {"c", "L"} <= names:
                raise expr.ExpressionError(f"case {case.text()!r} must define c and L")

    @functools.cached_property
    def absent(self) -> dict[str, None]:
        """Every name the rules read, as None: what a name the params dict lacks reads as."""
        return {name: None for text in self.expressions() for name in expr.names(text)}

    def scope(self, symbols: dict[str, Any]) -> expr.Scope:
        return expr.Scope({**self.absent, **symbols})

    def expressions(self) -> list[str]:
        out = [ch.expr for ch in self.checks]
        for case in self.cases:
            out += [case.when] if case.when else []
            out += [line.partition("=")[2].strip() for line in case.lines] + [ch.expr for ch in case.checks]
        return out


# -- symbols ----------------------------------------------------------------------------------------------------
def _frozen(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, (list, tuple)) for v in value):
            return "pairs"
        return tuple(_frozen(v) for v in value)
    return value


def call_symbols(params: dict, conv: Conv) -> dict[str, Any]:
    out: dict[str, Any] = {"rank": conv.rank, "in_size": conv.in_size, "kernel": conv.kernel, "stride": conv.stride,
                           "dilation": conv.dilation, "groups": conv.groups, "batch": conv.batch, "c_in": conv.c_in,
                           "c_out": conv.c_out, "bias": conv.bias}
    out.update({key: _frozen(value) for key, value in params.items()})
    return out


def dimension_symbols(params: dict, conv: Conv, axis: int) -> dict[str, Any]:
    i, k, s, d = conv.in_size[axis], conv.kernel[axis], conv.stride[axis], conv.dilation[axis]
    dim = Dim(i, k, s, d)
    out: dict[str, Any] = {"i": dim.i, "k": dim.k, "s": dim.s, "d": dim.d, "kd": dim.kd, "F": dim.full,
                           "D": (dim.i - 1) * dim.s + 1}
    for key, value in params.items():
        if isinstance(value, (list, tuple)):
            item = value[axis] if axis < len(value) else None
            if isinstance(item, (list, tuple)):
                out["lo"], out["hi"] = (list(item) + [None, None])[:2]
                out[key] = "pairs"
            else:
                out[key] = item
        else:
            out[key] = value
    return out


def _holds(text: str, scope: expr.Scope) -> bool:
    """A condition over values of the wrong kind (None where a number goes: a malformed call) does not hold."""
    try:
        return bool(expr.evaluate_in(text, scope))
    except (TypeError, ValueError, ZeroDivisionError, IndexError):
        return False


class _Fill(ast.NodeTransformer):
    def __init__(self, symbols):
        self.symbols = symbols

    def visit_Call(self, node):
        node.args = [self.visit(a) for a in node.args]
        return node

    def visit_Name(self, node):
        if node.id in self.symbols and node.id not in expr.FUNCTIONS and not node.id.startswith("__"):
            value = self.symbols[node.id]
            if isinstance(value, int) and not isinstance(value, bool) and value < 0:
                return ast.copy_location(ast.Name(id=f"({value})", ctx=ast.Load()), node)   # 1 - (-1), not 1 - -1
            return ast.copy_location(ast.Constant(value), node)
        return node


def filled(text: str, symbols: dict[str, Any]) -> str:
    """`text` with every symbol replaced by its value."""
    return ast.unparse(_Fill(symbols).visit(expr.check(text)))


# -- worked evaluation -------------------------------------------------------------------------------------------
@dataclass(slots=True)
class Line:
    name: str
    template: str
    value: Any
    symbols: dict = field(repr=False, compare=False)    # the scope it was evaluated in

    @property
    def filled(self) -> str:
        return filled(self.template, self.symbols)

    def __str__(self) -> str:
        text = f"{self.name} = {self.template}"
        if self.filled not in (self.template, repr(self.value), str(self.value)):
            text += f" = {self.filled}"
        if str(self.value) != self.template:
            text += f" = {self.value}"
        return text


@dataclass(slots=True)
class Worked:
    """A check or a dimension's case worked out with the numbers."""

    check: Check
    ok: bool
    symbols: dict = field(repr=False, compare=False)    # the scope it was evaluated in

    @property
    def template(self) -> str:
        return self.check.expr

    @property
    def filled(self) -> str:
        return filled(self.check.expr, self.symbols)

    def __str__(self) -> str:
        return f"{self.check.expr}: {self.filled} {'ok' if self.ok else 'OPEN' if self.check.open else 'FAILS'}"


@dataclass(slots=True)
class Dimension:
    """One dimension's case, worked out: its lines and checks with the numbers, and the resulting c and L (None
    when no case applies, or a line cannot be evaluated: `error` says why)."""

    axis: int
    case: Case | None
    lines: tuple[Line, ...] = ()
    checks: tuple[Worked, ...] = ()
    c: int | None = None
    L: int | None = None
    error: str = ""


def work_call(rules: Rules, params: dict, conv: Conv) -> tuple[Worked, ...]:
    scope = rules.scope(call_symbols(params, conv))
    return tuple(Worked(ch, _holds(ch.expr, scope), scope) for ch in rules.checks)


def work(rules: Rules, params: dict, conv: Conv, axis: int) -> Dimension:
    """The case of `rules` for dimension `axis`, with the numbers filled in (lazily: `filled` of a line or a check)."""
    scope = rules.scope(dimension_symbols(params, conv, axis))
    for case in rules.cases:
        if case.when and not _holds(case.when, scope):
            continue
        lines = []
        for line in case.lines:
            name, _, text = line.partition("=")
            name, text = name.strip(), text.strip()
            try:
                value = expr.evaluate_in(text, scope)
            except (TypeError, ValueError, ZeroDivisionError, IndexError) as exc:
                return Dimension(axis, case, tuple(lines), error=f"{name} = {filled(text, scope)}: {exc}")
            lines.append(Line(name, text, value, scope))   # later lines only add names this one does not read
            scope[name] = value
        checks = tuple(Worked(ch, _holds(ch.expr, scope), scope) for ch in case.checks)
        return Dimension(axis, case, tuple(lines), checks, scope.get("c"), scope.get("L"))
    return Dimension(axis, None)


# -- the semantic model ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """What `rules` document for a call: a window (crop, length per dimension) or a refusal (reason, doc)."""

    crop: tuple[int, ...] | None = None
    length: tuple[int, ...] | None = None
    rule: str = ""
    doc: str = ""
    refusal: str = ""
    open: str = ""                   # an edge the docs leave open (an `open` check failed): no window, no refusal


def _case_keys(rules: Rules) -> list[str]:
    names: list[str] = []
    for case in rules.cases:
        for name in sorted(expr.names(case.when)) if case.when else ():
            if name not in names:
                names.append(name)
    return names


@functools.lru_cache(maxsize=None)
def _names(text: str) -> tuple[str, ...]:
    return tuple(sorted(expr.names(text)))


def _refused(check: Worked, where: str, doc: str) -> Outcome:
    reason = check.check.reason or "documented condition"
    values = ", ".join(f"{name}={check.symbols.get(name)!r}" for name in _names(check.check.expr))
    return Outcome(refusal=f"{reason} ({where}{check.check.expr} fails with {values})", doc=check.check.doc or doc)


def evaluate(rules: Rules, params: dict, conv: Conv) -> Outcome:
    """The documented outcome: the first failing check (the call's, then each dimension's in order) refuses; with no
    refusal, the first failing `open` check leaves the call open."""
    left_open: list[Outcome] = []
    for check in work_call(rules, params, conv):
        if not check.ok:
            if check.check.open:
                left_open.append(_refused(check, "", rules.doc))
                continue
            return _refused(check, "", rules.doc)
    dims = [work(rules, params, conv, axis) for axis in range(conv.rank)]
    for dim in dims:
        where = f"{AXES[dim.axis]} spatial dimension: "
        if dim.case is None:
            symbols = dimension_symbols(params, conv, dim.axis)
            shown = ", ".join(f"{k}={symbols.get(k)!r}" for k in _case_keys(rules))
            return Outcome(refusal=f"no documented case for {shown} ({AXES[dim.axis]} spatial dimension)",
                           doc=rules.doc)
        if dim.error:
            return Outcome(refusal=f"the documented formula does not apply ({where}{dim.error})",
                           doc=dim.case.source or rules.doc)
        for check in dim.checks:
            if not check.ok:
                if check.check.open:
                    left_open.append(_refused(check, where, dim.case.source or rules.doc))
                    continue
                return _refused(check, where, dim.case.source or rules.doc)
    if left_open:
        first = left_open[0]
        return Outcome(open=first.refusal, rule=f"open: {first.refusal}", doc=first.doc)
    used = list(dict.fromkeys(dim.case for dim in dims))
    return Outcome(crop=tuple(int(dim.c) for dim in dims), length=tuple(int(dim.L) for dim in dims),
                   rule=" | ".join(case.text() for case in used),
                   doc="; ".join(dict.fromkeys(case.source or rules.doc for case in used)))
