"""Expected divergences: a reviewed TOML data file, loaded and validated here.

Each entry names a surface (glob on the surface id, or several joined by '|'), a predicate `when` over the case,
a kind, the behaviour it states (`behaviour`, conformance.harness.behaviour: the exception and message, the signal, the
shift, the value pattern...), a reason and an upstream link. The judge calls a divergence expected only when the
predicate covers the case AND the stated behaviour is what happened; inside the predicate, anything else is new.

The predicate is a restricted expression (conformance.core.expr) over these names:

    the surface's own parameters (by their keys in the case's params dict), and
    in_size kernel stride dilation kd full   (tuples, one entry per spatial dimension)
    crop length                              (the documented window's tuples; None when the docs refuse)
    batch c_in c_out groups bias dtype device rank framework version
    mode                                     (the execution mode: 'eager', or one of the surface's modes)
    property                                 (the property judging the case: shapes, values, gradients, ...)
    poison                                   (NaN/Inf set in the inputs: ((array, flat index, 'nan'|'inf'|'-inf'), ...))
    cpu_threads cpu_avx512                   (this machine: the CPUs this process may run on, or TF_NUM_INTRAOP_THREADS
                                             when set, as TensorFlow sizes its intra-op pool; whether the CPU has
                                             AVX-512. oneDNN picks kernels by both: machine_facts)
    tf_onednn                                (this machine: TensorFlow runs its oneDNN kernels by default, from the
                                             CPU's features and TF_ENABLE_ONEDNN_OPTS: tf_onednn_default)
    any all min max len zip abs sum prod range tuple sorted set   (the only callables, and:)
    differs('<model>')                       (the named wrong computation of conformance.core.models gives another
                                             result than the reference on this case's own inputs: another IEEE
                                             class somewhere, or a value beyond the bound; False where the model
                                             does not apply. So an entry that states a model covers exactly the
                                             cases where that model predicts a divergence.)

Named conditions: a top-level [conditions] table (name = "expression") defines conditions several predicates share
(which calls reach TensorFlow's Eigen CPU kernels, say); a predicate uses them by name, evaluated on the same case.

An entry whose behaviour does not happen on every case its predicate covers says so, with its measured `rate` (the
share of the covered cases that diverge as stated) and where it was `measured`: in a `nondeterministic` table when the
same case may or may not diverge (a heap corruption that kills a later call, a read of uninitialised memory), in an
`undetermined` table when each case always does the same but what decides it is not pinned down (a library's choice
of kernel that the case's parameters do not show). Its precision is then judged against that rate.

Each entry's status, all optional: `detected` (YYYY-MM-DD, the date the suite first found it), `reported` (the http(s)
address of the upstream issue or pull request that reports this very behaviour; `link` is a doc, a source file or a
related report) and `fixed_in` (the framework version that fixed it). A bad date or an address that is not http(s) is a
load error like any other.

A malformed file (bad TOML, unknown field, unparseable or disallowed predicate or statement, a bad regular
expression) raises ExpectationsError naming the entry, so the run stops with one clear line instead of silently
mis-judging.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import functools
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.core import expr
from conformance.core.spec import Conv
from conformance.harness import behaviour

KINDS = ("shape", "crop", "value", "error-vs-result", "error-class", "crash", "nondeterminism", "device", "mode",
         "nonfinite", "gradient", "adjoint")
STRING_FIELDS = {"id", "surface", "when", "kind", "reason", "link", "first_seen", "reported", "fixed_in"}
# `detected` is a string or a bare TOML date (detected = 2026-11-25), both read as YYYY-MM-DD
FIELDS = STRING_FIELDS | {"behaviour", "nondeterministic", "undetermined", "detected"}
REQUIRED = {"id", "surface", "when", "kind", "reason", "behaviour"}
CASE_NAMES = {"in_size", "kernel", "stride", "dilation", "kd", "full", "batch", "c_in", "c_out", "groups",
              "bias", "dtype", "device", "rank", "framework", "version", "crop", "length", "poison", "mode",
              "property", "cpu_threads", "cpu_avx512", "tf_onednn"}
FUNCTIONS = expr.FUNCTIONS


class ExpectationsError(ValueError):
    pass


@dataclass(frozen=True)
class Partial:
    """A behaviour that does not happen on every covered case: the measured share that diverge, where it was measured,
    and why not every case: 'nondeterministic' (the same case varies) or 'undetermined' (what decides it is unknown)."""

    rate: float
    measured: str
    cause: str = "nondeterministic"


@dataclass(frozen=True)
class Expectation:
    id: str
    surface: str
    when: str
    kind: str
    reason: str
    link: str = ""
    first_seen: str = ""
    detected: str = ""      # YYYY-MM-DD: when the suite first found it ('' unknown)
    reported: str = ""      # the upstream issue or pull request reporting it ('' none known)
    fixed_in: str = ""      # the framework version that fixed it ('' none known)
    behaviour: behaviour.Statement | None = None
    partial: Partial | None = None
    # the file's named conditions ([conditions]: name -> expression) this entry's predicate may use, as items
    conditions: tuple = ()

    def applies_to(self, surface_id: str) -> bool:
        """`surface` is a glob on surface ids, or several joined by '|'."""
        return _globs_match(self.surface, surface_id)

    def matches(self, namespace: dict[str, Any]) -> bool:
        try:
            if self.conditions:
                namespace = with_conditions(self.when, namespace, dict(self.conditions))
            return bool(expr.evaluate(self.when, namespace))
        except NameError as exc:
            # the surface glob matched but the predicate names something the case does not have: a typo or
            # an entry whose glob is too wide. Mis-judging silently would hide divergences, so stop loudly.
            raise ExpectationsError(f"entry {self.id!r}: `when` uses {exc.name!r}, which cases of this surface "
                                    f"do not have (names: {', '.join(sorted(namespace))})") from None
        except Exception as exc:  # noqa: BLE001 - e.g. indexing `length`, which is None for a documented refusal
            raise ExpectationsError(f"entry {self.id!r}: `when` raised {type(exc).__name__}: {exc} on a case with "
                                    + ", ".join(f"{k}={namespace[k]!r}" for k in sorted(namespace))) from None

    def states(self, observed: dict | None, namespace: dict[str, Any]) -> tuple[bool, str]:
        """(True, '') when the divergence observed is the one this entry states (its kind's behaviour); else
        (False, why not). A statement the case cannot evaluate raises ExpectationsError naming the entry."""
        if self.behaviour is None:
            return False, "the entry states no behaviour"
        try:
            return self.behaviour.holds(observed, namespace)
        except behaviour.StatementError as exc:
            raise ExpectationsError(f"entry {self.id!r}: behaviour {exc}") from None


@functools.lru_cache(maxsize=None)
def _globs_match(globs: str, surface_id: str) -> bool:
    """Cached: every judged case asks it of every entry (some 240,000 times in a torch run)."""
    return any(fnmatch.fnmatchcase(surface_id, glob.strip()) for glob in globs.split("|"))


def with_conditions(text: str, namespace: dict[str, Any], conditions: dict[str, str]) -> dict[str, Any]:
    """`namespace` plus the value of every named condition `text` uses (and those they use), evaluated on it."""
    out = dict(namespace)

    def evaluate(name: str) -> None:
        # the conditions it uses first (depth first; the file has no cycles: _conditions refuses them)
        for used in sorted(expr.names(conditions[name])):
            if used in conditions and used not in out:
                evaluate(used)
        out[name] = bool(expr.evaluate(conditions[name], out))

    for name in sorted(expr.names(text)):
        if name in conditions and name not in out:
            evaluate(name)
    return out


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


def _validate_predicate(entry_id: str, text: str) -> None:
    try:
        expr.check(text)
    except expr.ExpressionError as exc:
        raise ExpectationsError(f"entry {entry_id!r}: `when` {'is ' if str(exc).startswith('not') else ''}{exc}") \
            from None


def parse(text: str, source: str = "<expectations>") -> list[Expectation]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ExpectationsError(f"{source}: not valid TOML: {exc}") from None
    unknown_top = set(data) - {"divergence", "conditions"}
    if unknown_top:
        raise ExpectationsError(f"{source}: unknown top-level key(s) {sorted(unknown_top)}; expected [[divergence]] "
                                "and [conditions]")
    conditions = _conditions(data.get("conditions", {}), source)
    out, seen = [], set()
    for n, raw in enumerate(data.get("divergence", []), 1):
        where = f"{source}: divergence #{n} ({raw.get('id', 'no id')})"
        if not isinstance(raw, dict):
            raise ExpectationsError(f"{where}: not a table")
        if set(raw) - FIELDS:
            raise ExpectationsError(f"{where}: unknown field(s) {sorted(set(raw) - FIELDS)}")
        if REQUIRED - set(raw):
            raise ExpectationsError(f"{where}: missing field(s) {sorted(REQUIRED - set(raw))}")
        if not all(isinstance(raw[k], str) for k in STRING_FIELDS & set(raw)):
            raise ExpectationsError(f"{where}: {', '.join(sorted(STRING_FIELDS))} must be strings")
        raw = dict(raw, **_status(raw, where))
        if raw["kind"] not in KINDS:
            raise ExpectationsError(f"{where}: kind {raw['kind']!r} not one of {', '.join(KINDS)}")
        if raw["id"] in seen:
            raise ExpectationsError(f"{where}: duplicate id")
        seen.add(raw["id"])
        raw = dict(raw, when=" ".join(line.strip() for line in raw["when"].strip().splitlines()))
        _validate_predicate(raw["id"], raw["when"])
        try:
            raw["behaviour"] = behaviour.parse(raw["kind"], raw["behaviour"], where)
        except behaviour.StatementError as exc:
            raise ExpectationsError(str(exc)) from None
        causes = [c for c in ("nondeterministic", "undetermined") if c in raw]
        if len(causes) > 1:
            raise ExpectationsError(f"{where}: `nondeterministic` and `undetermined` exclude each other")
        if causes:
            raw["partial"] = _partial(raw.pop(causes[0]), where, causes[0])
        used = expr.names(raw["when"]) & set(conditions)
        out.append(Expectation(**raw, conditions=tuple(sorted(conditions.items())) if used else ()))
    return out


DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
URL = re.compile(r"https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?")


def _status(raw: dict, where: str) -> dict:
    """The entry's status fields, checked: `detected` a real date written YYYY-MM-DD (or a bare TOML date), `reported`
    an http(s) address, `fixed_in` a non-empty one-line version."""
    out = {}
    if "detected" in raw:
        value = raw["detected"]
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = value.isoformat()
        try:
            ok = isinstance(value, str) and bool(DATE.fullmatch(value)) and bool(dt.date.fromisoformat(value))
        except ValueError:
            ok = False
        if not ok:
            raise ExpectationsError(f"{where}: `detected` must be a date written YYYY-MM-DD (when the suite first "
                                    f"found it), got {raw['detected']!r}")
        out["detected"] = value
    reported = raw.get("reported")
    if isinstance(reported, str) and not URL.fullmatch(reported):
        raise ExpectationsError(f"{where}: `reported` must be the http(s) address of the upstream issue or pull "
                                f"request, got {reported!r} (leave the field out when none is known)")
    fixed = raw.get("fixed_in")
    if isinstance(fixed, str) and (not fixed.strip() or "\n" in fixed):
        raise ExpectationsError(f"{where}: `fixed_in` must be the framework version that fixed it, on one line "
                                "(leave the field out when none is known)")
    return out


def _conditions(raw, source: str) -> dict[str, str]:
    """The file's [conditions] table: name -> expression, shared by the entries' predicates (validated; a name may
    not shadow a case name, and the conditions may not refer to each other in a cycle)."""
    if not isinstance(raw, dict):
        raise ExpectationsError(f"{source}: [conditions] must be a table of name = \"expression\"")
    out = {}
    for name, text in raw.items():
        where = f"{source}: condition {name!r}"
        if not isinstance(text, str):
            raise ExpectationsError(f"{where}: must be an expression (a string)")
        if name in CASE_NAMES or name in FUNCTIONS or not name.isidentifier():
            raise ExpectationsError(f"{where}: not a usable name (it is a case name, a function or not an identifier)")
        text = " ".join(line.strip() for line in text.strip().splitlines())
        try:
            expr.check(text)
        except expr.ExpressionError as exc:
            raise ExpectationsError(f"{where}: {exc}") from None
        out[name] = text
    for name in out:                                  # no cycles: each condition's closure must not reach itself
        seen, stack = set(), [n for n in expr.names(out[name]) if n in out]
        while stack:
            n = stack.pop()
            if n == name:
                raise ExpectationsError(f"{source}: condition {name!r} refers to itself")
            if n not in seen:
                seen.add(n)
                stack += [m for m in expr.names(out[n]) if m in out]
    return out


def _partial(raw, where: str, cause: str) -> Partial:
    if not (isinstance(raw, dict) and set(raw) == {"rate", "measured"} and isinstance(raw["rate"], (int, float))
            and 0 < raw["rate"] <= 1 and isinstance(raw["measured"], str) and raw["measured"]):
        raise ExpectationsError(f"{where}: `{cause}` must be a table {{rate = <0..1, the measured share of "
                                f"covered cases that diverge as stated>, measured = \"<where and when>\"}}")
    return Partial(float(raw["rate"]), raw["measured"], cause)


def load(path: str | Path) -> list[Expectation]:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ExpectationsError(f"{path}: cannot read: {exc.strerror}") from None
    return parse(text, str(path))


def case_namespace(conv: Conv, params: dict, dtype: str, device: str, framework: str = "",
                   version: str = "", window=None, poison: tuple = (), mode: str = "eager",
                   prop: str = "", seed: int | None = None, fault: str | None = None) -> dict[str, Any]:
    """The names a `when` predicate sees for one case; `window` is the documented one (None if refused); `fault` the
    robustness property's fault label (None elsewhere)."""
    ns = {k: (tuple(v) if isinstance(v, list) else v) for k, v in params.items()}
    ns.update(in_size=conv.in_size, kernel=conv.kernel, stride=conv.stride, dilation=conv.dilation,
              kd=conv.effective_kernel, full=conv.full_size, batch=conv.batch, c_in=conv.c_in,
              c_out=conv.c_out, groups=conv.groups, bias=conv.bias, dtype=dtype, device=device,
              rank=conv.rank, framework=framework, version=version,
              crop=None if window is None else window.crop, length=None if window is None else window.length,
              poison=tuple((name, index, str(value)) for name, index, value in poison), mode=mode, property=prop,
              fault=fault, **machine_facts())
    if seed is not None:
        ns["differs"] = _differs(conv, window, dtype, seed, poison)
    return ns


@functools.lru_cache(maxsize=1)
def machine_facts() -> dict[str, Any]:
    """cpu_threads: TensorFlow's default intra-op pool size, the CPUs this process may be scheduled on
    (tensorflow/core/platform/default/port.cc NumSchedulableCPUs, sched_getaffinity), unless TF_NUM_INTRAOP_THREADS
    sets it; cpu_avx512: the CPU reports avx512f (Linux /proc/cpuinfo; False where unknown); tf_onednn: TensorFlow
    runs its oneDNN kernels here by default (tf_onednn_default)."""
    threads = os.environ.get("TF_NUM_INTRAOP_THREADS", "")
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        flags = []
    return {"cpu_threads": int(threads) if threads.isdigit() and int(threads) > 0 else cpus,
            "cpu_avx512": "avx512f" in flags, "tf_onednn": tf_onednn_default(flags, os.environ)}


# TensorFlow turns its oneDNN kernels on by default on Linux only for CPUs with these features (tensorflow/core/util/
# port.cc, DefaultOneDnnPolicy: AVX512_VNNI, AVX512_BF16, AVX_VNNI, AMX_TILE, AMX_INT8, AMX_BF16; their /proc/cpuinfo
# names), and TF_ENABLE_ONEDNN_OPTS ('0'/'false', '1'/'true') overrides that default (IsMklEnabled)
ONEDNN_CPU_FLAGS = ("avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16")


def tf_onednn_default(flags, environ) -> bool:
    """Whether TensorFlow (x86 Linux build) runs its oneDNN kernels in a process started with `environ` on a CPU
    reporting `flags` (ONEDNN_CPU_FLAGS)."""
    setting = environ.get("TF_ENABLE_ONEDNN_OPTS", "").strip().lower()
    if setting in ("1", "true"):
        return True
    if setting in ("0", "false"):
        return False
    return any(flag in flags for flag in ONEDNN_CPU_FLAGS)


def _differs(conv: Conv, window, dtype: str, seed: int, poison: tuple):
    """differs(name) for one case (module doc), computed once per model name."""
    cache: dict[str, bool] = {}

    def differs(name: str) -> bool:
        if name not in cache:
            from conformance.core import models
            from conformance.core.spec import Problem
            from conformance.harness.check import make_inputs
            try:
                models.get(name)
            except KeyError:
                raise ValueError(f"differs({name!r}): no such model; known: {', '.join(models.names())}") from None
            cache[name] = window is not None and models.differs_from_reference(
                name, *make_inputs(conv, dtype, seed, _floats(poison)), Problem(conv, window, dtype))
        return cache[name]
    return differs


def _floats(poison: tuple) -> tuple:
    """The poison entries with their values as numbers (a namespace holds them as text)."""
    return tuple((name, index, float(value)) for name, index, value in poison)
