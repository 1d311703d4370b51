"""Expected divergences: a reviewed TOML data file, loaded and validated here.

Each entry names a surface (glob on the surface id, or several joined by '|'), a predicate `when` over the case,
a kind, a reason and an upstream link. The predicate is a small Python expression restricted to comparisons,
boolean logic, arithmetic, subscripts, tuples and comprehensions over these names:

    the surface's own parameters (by their keys in the case's params dict), and
    in_size kernel stride dilation kd full   (tuples, one entry per spatial dimension)
    crop length                              (the documented window's tuples; None when the docs refuse)
    batch c_in c_out groups bias dtype device rank framework version
    mode                                     (the execution mode: 'eager', or one of the surface's modes)
    poison                                   (NaN/Inf set in the inputs: ((array, flat index, 'nan'|'inf'|'-inf'), ...))
    any all min max len zip abs sum range    (the only callables)

A malformed file (bad TOML, unknown field, unparseable or disallowed predicate, unknown name) raises
ExpectationsError naming the entry, so the run stops with one clear line instead of silently mis-judging.
"""

from __future__ import annotations

import ast
import fnmatch
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .spec import Conv

KINDS = ("shape", "crop", "value", "error-vs-result", "error-class", "crash", "nondeterminism", "device", "mode",
         "nonfinite", "gradient", "adjoint")
FIELDS = {"id", "surface", "when", "kind", "reason", "link", "first_seen"}
REQUIRED = {"id", "surface", "when", "kind", "reason"}
CASE_NAMES = {"in_size", "kernel", "stride", "dilation", "kd", "full", "batch", "c_in", "c_out", "groups",
              "bias", "dtype", "device", "rank", "framework", "version", "crop", "length", "poison", "mode"}
FUNCTIONS = {"any": any, "all": all, "min": min, "max": max, "len": len, "zip": zip, "abs": abs, "sum": sum,
             "range": range}
_ALLOWED_NODES = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.Compare,
                  ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot,
                  ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod, ast.Name, ast.Load, ast.Store,
                  ast.Constant, ast.Tuple, ast.List, ast.Subscript, ast.Slice, ast.Call, ast.GeneratorExp,
                  ast.ListComp, ast.comprehension, ast.IfExp)


class ExpectationsError(ValueError):
    pass


@dataclass(frozen=True)
class Expectation:
    id: str
    surface: str
    when: str
    kind: str
    reason: str
    link: str = ""
    first_seen: str = ""

    def applies_to(self, surface_id: str) -> bool:
        """`surface` is a glob on surface ids, or several joined by '|'."""
        return any(fnmatch.fnmatchcase(surface_id, glob.strip()) for glob in self.surface.split("|"))

    def matches(self, namespace: dict[str, Any]) -> bool:
        try:
            # one globals dict (no locals), so comprehensions inside the predicate see every name
            return bool(eval(_compiled(self.when), {"__builtins__": {}, **FUNCTIONS, **namespace}))  # noqa: S307
        except NameError as exc:
            # the surface glob matched but the predicate names something the case does not have: a typo or
            # an entry whose glob is too wide. Mis-judging silently would hide divergences, so stop loudly.
            raise ExpectationsError(f"entry {self.id!r}: `when` uses {exc.name!r}, which cases of this surface "
                                    f"do not have (names: {', '.join(sorted(namespace))})") from None
        except Exception as exc:  # noqa: BLE001 - e.g. indexing `length`, which is None for a documented refusal
            raise ExpectationsError(f"entry {self.id!r}: `when` raised {type(exc).__name__}: {exc} on a case with "
                                    + ", ".join(f"{k}={namespace[k]!r}" for k in sorted(namespace))) from None


def matching(entries: list[Expectation], surface_id: str, namespace: dict[str, Any], kind: str | None = None,
             lenient: bool = False) -> list[Expectation]:
    """The entries (of `kind`, if given) whose surface glob and predicate cover a case. A predicate that cannot be
    evaluated on the case raises ExpectationsError, or, with `lenient` (the command line's partial cases), just
    does not match."""
    out = []
    for entry in entries:
        if not entry.applies_to(surface_id) or (kind is not None and entry.kind != kind):
            continue
        try:
            if entry.matches(namespace):
                out.append(entry)
        except ExpectationsError:
            if not lenient:
                raise
    return out


_cache: dict[str, Any] = {}


def _compiled(expr: str):
    if expr not in _cache:
        _cache[expr] = compile(ast.parse(expr, mode="eval"), "<when>", "eval")
    return _cache[expr]


def _validate_predicate(entry_id: str, expr: str) -> None:
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise ExpectationsError(f"entry {entry_id!r}: `when` is not an expression: {exc.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ExpectationsError(f"entry {entry_id!r}: `when` may not use {type(node).__name__}: {expr}")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS):
            raise ExpectationsError(f"entry {entry_id!r}: `when` may only call {', '.join(FUNCTIONS)}: {expr}")
        if isinstance(node, ast.Name) and node.id.startswith("__"):
            raise ExpectationsError(f"entry {entry_id!r}: name {node.id!r} is not allowed")


def parse(text: str, source: str = "<expectations>") -> list[Expectation]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ExpectationsError(f"{source}: not valid TOML: {exc}") from None
    unknown_top = set(data) - {"divergence"}
    if unknown_top:
        raise ExpectationsError(f"{source}: unknown top-level key(s) {sorted(unknown_top)}; expected [[divergence]]")
    out, seen = [], set()
    for n, raw in enumerate(data.get("divergence", []), 1):
        where = f"{source}: divergence #{n} ({raw.get('id', 'no id')})"
        if not isinstance(raw, dict):
            raise ExpectationsError(f"{where}: not a table")
        if set(raw) - FIELDS:
            raise ExpectationsError(f"{where}: unknown field(s) {sorted(set(raw) - FIELDS)}")
        if REQUIRED - set(raw):
            raise ExpectationsError(f"{where}: missing field(s) {sorted(REQUIRED - set(raw))}")
        if not all(isinstance(v, str) for v in raw.values()):
            raise ExpectationsError(f"{where}: every field must be a string")
        if raw["kind"] not in KINDS:
            raise ExpectationsError(f"{where}: kind {raw['kind']!r} not one of {', '.join(KINDS)}")
        if raw["id"] in seen:
            raise ExpectationsError(f"{where}: duplicate id")
        seen.add(raw["id"])
        raw = dict(raw, when=" ".join(line.strip() for line in raw["when"].strip().splitlines()))
        _validate_predicate(raw["id"], raw["when"])
        out.append(Expectation(**raw))
    return out


def load(path: str | Path) -> list[Expectation]:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ExpectationsError(f"{path}: cannot read: {exc.strerror}") from None
    return parse(text, str(path))


def case_namespace(conv: Conv, params: dict, dtype: str, device: str, framework: str = "",
                   version: str = "", window=None, poison: tuple = (), mode: str = "eager") -> dict[str, Any]:
    """The names a `when` predicate sees for one case; `window` is the documented one (None if refused)."""
    ns = {k: (tuple(v) if isinstance(v, list) else v) for k, v in params.items()}
    ns.update(in_size=conv.in_size, kernel=conv.kernel, stride=conv.stride, dilation=conv.dilation,
              kd=conv.effective_kernel, full=conv.full_size, batch=conv.batch, c_in=conv.c_in,
              c_out=conv.c_out, groups=conv.groups, bias=conv.bias, dtype=dtype, device=device,
              rank=conv.rank, framework=framework, version=version,
              crop=None if window is None else window.crop, length=None if window is None else window.length,
              poison=tuple((name, index, str(value)) for name, index, value in poison), mode=mode)
    return ns
