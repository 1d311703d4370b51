"""The one restricted-expression evaluator of the data files and tables: the expected divergences (`when`
predicates, `returns` / `relation` statements of their behaviour), the error catalogue's per-dimension `value`s,
and the spellings' formulas (conformance.explain.spelling: how a surface's parameter maps onto the canonical crop).

An expression is one Python expression built from comparisons, boolean logic, arithmetic, constants, names,
tuples/lists, subscripts and slices, conditional expressions and comprehensions, calling only FUNCTIONS. It is
checked once when the data file is loaded (`check`, which raises ExpressionError with a one-line message) and
compiled once (`compiled`). Evaluation sees the given names and FUNCTIONS, nothing else (no builtins).
"""

from __future__ import annotations

import ast
import functools
import math
from typing import Any


def _no_case(*args):
    raise NameError("differs() needs a case (its inputs): it is bound by "
                    "conformance.harness.expectations.case_namespace", name="differs")


FUNCTIONS = {"any": any, "all": all, "min": min, "max": max, "len": len, "zip": zip, "abs": abs, "sum": sum,
             "range": range, "tuple": tuple, "sorted": sorted, "set": set, "prod": math.prod,
             "ceil_div": lambda a, b: -(-a // b),
             # differs('<model>'): the named wrong computation (conformance.core.models) gives another result than the
             # reference on this case's inputs; bound per case by expectations.case_namespace
             "differs": _no_case}
_ALLOWED_NODES = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.Compare,
                  ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot,
                  ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod, ast.Name, ast.Load, ast.Store,
                  ast.Constant, ast.Tuple, ast.List, ast.Subscript, ast.Slice, ast.Call, ast.GeneratorExp,
                  ast.ListComp, ast.comprehension, ast.IfExp, ast.Starred)


class ExpressionError(ValueError):
    """An expression that is not allowed, does not parse, or names something its context lacks."""


def check(expr: str) -> ast.Expression:
    """Parse `expr` and refuse anything outside the restricted language (ExpressionError, one line)."""
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"not an expression: {exc.msg}: {expr}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ExpressionError(f"may not use {type(node).__name__}: {expr}")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS):
            raise ExpressionError(f"may only call {', '.join(FUNCTIONS)}: {expr}")
        if isinstance(node, ast.Name) and node.id.startswith("__"):
            raise ExpressionError(f"name {node.id!r} is not allowed: {expr}")
    return tree


@functools.lru_cache(maxsize=None)
def names(expr: str) -> frozenset[str]:
    """The free names `expr` reads (comprehension variables and FUNCTIONS excluded). Cached per text: the judge asks
    it of every entry's predicate and named condition for every case (88,000 parses in a tf run's shapes and values,
    three quarters of their wall before the cache; bench/README.md)."""
    tree = check(expr)
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return frozenset({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
                     - bound - set(FUNCTIONS))


_cache: dict[str, Any] = {}


def compiled(expr: str):
    code = _cache.get(expr)
    if code is None:
        code = _cache[expr] = compile(check(expr), "<expression>", "eval")
    return code


class Scope(dict):
    """A namespace for evaluating several expressions in turn (`evaluate_in`), built once: FUNCTIONS, no builtins, and
    the given names; a caller may add names between expressions (a formula's earlier lines)."""

    def __init__(self, names: dict[str, Any]):
        super().__init__({"__builtins__": {}, **FUNCTIONS, **names})


def evaluate_in(expr: str, scope: Scope) -> Any:
    """The value of `expr` in `scope` (as `evaluate`, without building a namespace per expression)."""
    return eval(compiled(expr), scope)  # noqa: S307 - checked by compiled()


def evaluate(expr: str, namespace: dict[str, Any]) -> Any:
    """The value of `expr` over `namespace`. A name the namespace lacks raises NameError (the caller says which
    entry and which names exist); other exceptions propagate."""
    # one globals dict (no locals), so comprehensions inside the expression see every name
    return eval(compiled(expr), {"__builtins__": {}, **FUNCTIONS, **namespace})  # noqa: S307 - checked above
