"""The error-behaviour catalogue: invalid and edge configurations, one reviewed data file, validated on load.

Each `[[case]]` of suites/error_catalogue.toml starts from a valid base configuration and changes one thing:

  a parameter fault (the surface spells it in its own parameters, Surface.spell_fault):
      output-padding     output_padding per dimension = `value`
      padding            padding per dimension = `value` (PyTorch/TF meaning: crop of the full result; JAX:
                         pads of the stride-dilated input)
      output-size        output size (output_shape / output_size) per dimension = `value`
      output-size-rank   an output size with one entry too many
  a geometry fault (the same canonical field for every surface; the call gets it as its own argument):
      stride, dilation, groups, in_size, batch, c_in  = `value`

`value` is a number or an expression over the base's per-dimension names s d k kd i full (in the one restricted
language of the data files, conformance.core.expr). `expect` says what the documentation leads a user to expect:
  documented   the surface's own documented semantics decide (Surface.semantics of the faulty parameters)
  refusal      no transposed convolution is defined (e.g. stride 0): the call must raise; `why` says why
  any          an edge the docs leave open (empty input): raising or returning are both recorded as fine
Whatever is expected, a call that kills its process is a `crash` divergence; every case runs in the worker.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.core import expr
from conformance.core.spec import Conv

PARAM_FAULTS = ("output-padding", "padding", "output-size", "output-size-rank")
GEOMETRY_FAULTS = ("stride", "dilation", "groups", "in_size", "batch", "c_in")
EXPECT = ("documented", "refusal", "any")
FIELDS = {"id", "what", "fault", "value", "expect", "why", "base"}
REQUIRED = {"id", "what", "fault", "expect", "why"}
BASE_FIELDS = {"in_size", "kernel", "stride", "dilation", "batch", "c_in", "c_out", "groups", "bias"}
DEFAULT_BASE = dict(in_size=(5, 5), kernel=(3, 3), stride=(2, 2), dilation=(1, 1), batch=1, c_in=2, c_out=2)
VALUE_NAMES = {"s", "d", "k", "kd", "i", "full"}
PER_DIMENSION = ("stride", "dilation", "in_size")


class CatalogueError(ValueError):
    """A malformed catalogue; the message names the file and line of the offending case."""


class RawConv(Conv):
    """A Conv whose fields are not validated: the geometry faults (stride 0, groups not dividing ...) are
    configurations no transposed convolution has, handed to the framework as they are."""

    def __post_init__(self) -> None:
        for name in ("in_size", "kernel", "stride", "dilation"):
            value = getattr(self, name)
            object.__setattr__(self, name, tuple(value) if isinstance(value, (list, tuple)) else (value,))


@dataclass(frozen=True)
class Entry:
    id: str
    what: str
    fault: str
    value: Any
    expect: str
    why: str
    base: Conv
    line: int = 0
    source: str = ""

    def values(self, conv: Conv | None = None) -> list:
        """`value` per spatial dimension of the base."""
        return [_evaluate(self.value, dim, self.id) for dim in (conv or self.base).dims()]

    def faulty_conv(self) -> Conv:
        """The configuration the call gets: the base, or the base with the geometry fault."""
        if self.fault not in GEOMETRY_FAULTS:
            return self.base
        b = self.base
        fields = dict(in_size=b.in_size, kernel=b.kernel, stride=b.stride, dilation=b.dilation, batch=b.batch,
                      c_in=b.c_in, c_out=b.c_out, groups=b.groups, bias=b.bias)
        fields[self.fault] = tuple(self.values()) if self.fault in PER_DIMENSION else _evaluate(self.value, None,
                                                                                               self.id)
        return RawConv(**fields)

    def fault_json(self) -> dict:
        if self.fault == "output-size-rank":
            value = None
        elif self.fault in PER_DIMENSION or self.fault in PARAM_FAULTS:
            value = self.values()
        else:
            value = _evaluate(self.value, None, self.id)
        return {"case": self.id, "fault": self.fault, "value": value, "expect": self.expect}


def _evaluate(value, dim, entry_id):
    if not isinstance(value, str):
        return value
    names = {} if dim is None else {"s": dim.s, "d": dim.d, "k": dim.k, "kd": dim.kd, "i": dim.i, "full": dim.full}
    try:
        return expr.evaluate(value, names)
    except Exception as exc:  # noqa: BLE001
        raise CatalogueError(f"case {entry_id!r}: value {value!r} could not be evaluated: {exc}") from None


def _line_of(text: str, case_id: str) -> int:
    m = re.search(rf'^\s*id\s*=\s*["\']{re.escape(case_id)}["\']', text, re.M)
    return text[:m.start()].count("\n") + 1 if m else 0


def parse(text: str, source: str = "<catalogue>") -> list[Entry]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{source}: not valid TOML: {exc}") from None
    if set(data) - {"case"}:
        raise CatalogueError(f"{source}: unknown top-level key(s) {sorted(set(data) - {'case'})}; expected [[case]]")
    out, seen = [], set()
    for n, raw in enumerate(data.get("case", []), 1):
        line = _line_of(text, str(raw.get("id", "")))
        where = f"{source}:{line}: case #{n} ({raw.get('id', 'no id')})"
        if set(raw) - FIELDS:
            raise CatalogueError(f"{where}: unknown field(s) {sorted(set(raw) - FIELDS)}; known: {sorted(FIELDS)}")
        if REQUIRED - set(raw):
            raise CatalogueError(f"{where}: missing field(s) {sorted(REQUIRED - set(raw))}")
        if raw["id"] in seen:
            raise CatalogueError(f"{where}: duplicate id")
        seen.add(raw["id"])
        if raw["fault"] not in PARAM_FAULTS + GEOMETRY_FAULTS:
            raise CatalogueError(f"{where}: fault {raw['fault']!r} is one no surface can express; known: "
                                 f"{', '.join(PARAM_FAULTS + GEOMETRY_FAULTS)}")
        if raw["expect"] not in EXPECT:
            raise CatalogueError(f"{where}: expect {raw['expect']!r} not one of {EXPECT}")
        if raw["fault"] != "output-size-rank" and "value" not in raw:
            raise CatalogueError(f"{where}: fault {raw['fault']!r} needs a value")
        value = raw.get("value")
        if isinstance(value, str):
            try:
                expr.check(value)
            except expr.ExpressionError as exc:
                raise CatalogueError(f"{where}: value {exc}") from None
            unknown = expr.names(value) - VALUE_NAMES
            if unknown:
                raise CatalogueError(f"{where}: value uses {sorted(unknown)}; it may use {sorted(VALUE_NAMES)}")
        base_raw = raw.get("base", {})
        if set(base_raw) - BASE_FIELDS:
            raise CatalogueError(f"{where}: unknown base field(s) {sorted(set(base_raw) - BASE_FIELDS)}")
        try:
            base = Conv(**{**DEFAULT_BASE, **base_raw})
        except (TypeError, ValueError) as exc:
            raise CatalogueError(f"{where}: the base must be a valid configuration: {exc}") from None
        entry = Entry(raw["id"], raw["what"], raw["fault"], value, raw["expect"], raw["why"], base, line, source)
        entry.values()                       # evaluates every expression once: a bad one fails at load
        out.append(entry)
    return out


def load(path: str | Path) -> list[Entry]:
    path = Path(path)
    return parse(path.read_text(), str(path))
