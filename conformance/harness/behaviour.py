"""Behaviour: what a divergence did, as data (a record's `behaviour`), and what an expected-divergence entry states it
does (`Statement`: the entry's `behaviour` table).

The judge calls a divergence *expected* only when an entry's predicate covers the case AND the entry's statement holds
for the behaviour observed; a divergence inside a predicate that behaves otherwise is new. Observed behaviour, by
`outcome` (built where the outcome is classified: conformance.harness.check, nonfinite, gradcheck, agreement):

  raised            exception (class name), message (the informative first line), stage ('call', or for gradients
                    'forward' / 'gradient')
  returned          shape, found_crop                       the docs refuse the call and the framework returned
  crash             signal ('SIGABRT', 'SIGSEGV', 'hang', 'exit 3'), stderr (its last lines), key (the signature:
                    signal and the stderr line that says why, numbers normalized; conformance.harness.crashkey)
  shape             shape, length_delta (per spatial dim, actual - documented), found_crop, shift, shifts
  crop              shift, shifts (every equally near shift that matches too), found_crop
  value             err_over_bound, wrong_fraction, models  (conformance.core.models: the named wrong computations
                    it matches)
  nonfinite         classes ('reference->framework' class pairs of the elements that differ), wrong, models
  gradient          wrong, missing, misshapen (among gx gw gb), adjoint (the broken identities), err_over_bound
  adjoint           adjoint
  disagree          differs_in ('verdict' | 'divergence kind' | 'shape' | 'crop' | 'values'), first, second
  nondeterministic  difference

A statement's fields, each a test of one observed field (STATEMENT_FIELDS); which fields a kind may state and which
it must state are in KIND_FIELDS. Regular expressions are Python `re` (`raises`, `signal`: the whole name;
`message`, `stderr`, `first`, `second`, `difference`: searched); `returns` and `relation` are expressions
(conformance.core.expr) over the case's names plus the observed fields; ranges are [low, high], inclusive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from conformance.core import expr
from conformance.harness import crashkey

# statement field -> (type, the observed outcomes it applies to, what it tests)
STATEMENT_FIELDS = {
    "raises": ("regex", ("raised",), "the exception's class name (whole match)"),
    "message": ("regex", ("raised",), "the exception's message (searched)"),
    "stage": ("choice", ("raised",), "where it raised: call, forward or gradient"),
    "returns": ("expression", ("returned",), "an expression over the case and shape, found_crop"),
    "signal": ("regex", ("crash",),
               "the signal (SIGABRT, SIGSEGV), 'hang' (no reply within the timeout) or 'exit N' (whole match)"),
    "stderr": ("regex", ("crash",), "the last lines of the dead process's stderr (searched)"),
    "relation": ("expression", ("shape", "crop"),
                 "an expression over the case and shape, length_delta, found_crop, shift, shifts (every equally near "
                 "matching shift: a constant output matches several)"),
    "model": ("name", ("value", "nonfinite"), "a named computation (conformance.core.models) the result matches, or a "
                                              "list of them (any one)"),
    "err_over_bound": ("range", ("value", "gradient", "adjoint"), "[low, high] of the largest err/bound"),
    "wrong_fraction": ("range", ("value",), "[low, high] of the share of elements beyond the bound"),
    "wrong_elements": ("range", ("value",), "[low, high] of the number of elements beyond the bound"),
    "classes": ("set", ("nonfinite",), "the 'reference->framework' class pairs allowed (non-empty subset)"),
    "wrong": ("set", ("gradient",), "exactly these arrays beyond their bound (gx, gw, gb; gb only where a bias is)"),
    "missing": ("set", ("gradient",), "exactly these arrays missing (gb only where a bias is)"),
    "misshapen": ("set", ("gradient",), "exactly these arrays of another shape than their primal's"),
    "adjoint": ("set", ("gradient", "adjoint"), "exactly these adjoint identities broken (adjoint-x, adjoint-w)"),
    "differs_in": ("choice", ("disagree",), "what the two runs differ in"),
    "first": ("regex", ("disagree",), "the first run (eager / CPU) in one line (searched)"),
    "second": ("regex", ("disagree",), "the second run (the mode / the GPU) in one line (searched)"),
    "difference": ("regex", ("nondeterministic",), "how two calls differed (searched)"),
}
CHOICES = {"stage": ("call", "forward", "gradient"),
           "differs_in": ("verdict", "divergence kind", "shape", "crop", "values")}
# kind -> (fields it may state, alternatives of the fields it must state: every field of one alternative)
KIND_FIELDS = {
    "error-vs-result": ({"raises", "message", "stage", "returns"}, (("raises", "message"), ("returns",))),
    "error-class": ({"raises", "message"}, (("raises", "message"),)),
    "crash": ({"signal", "stderr"}, (("signal", "stderr"),)),
    "shape": ({"relation"}, (("relation",),)),
    "crop": ({"relation"}, (("relation",),)),
    "value": ({"model", "err_over_bound", "wrong_fraction", "wrong_elements"}, (("model",), ("err_over_bound",))),
    "nonfinite": ({"classes", "model"}, (("classes",),)),
    # `adjoint` may be left out where which identities break depends on the wrong values themselves (stale memory
    # whose rows can cancel in <x, gx>): the arrays wrong/missing/misshapen are then the whole statement
    "gradient": ({"wrong", "missing", "misshapen", "adjoint", "err_over_bound"},
                 (("wrong", "missing", "misshapen"),)),
    "adjoint": ({"adjoint", "err_over_bound"}, (("adjoint",),)),
    "mode": ({"differs_in", "first", "second"}, (("differs_in", "first", "second"),)),
    "device": ({"differs_in", "first", "second"}, (("differs_in", "first", "second"),)),
    "nondeterminism": ({"difference"}, (("difference",),)),
}
CLASS_PAIRS = tuple(f"{a}->{b}" for a in ("finite", "nan", "+inf", "-inf") for b in ("finite", "nan", "+inf", "-inf")
                    if a != b)
# the observed names a statement's expressions may read, by outcome
OBSERVED_NAMES = {"returned": ("shape", "found_crop"),
                  "shape": ("shape", "length_delta", "found_crop", "shift", "shifts"),
                  "crop": ("shape", "shift", "shifts", "found_crop")}


class StatementError(ValueError):
    """A malformed statement; the message is one line naming the field."""


@dataclass(frozen=True)
class Statement:
    """What an entry states the framework does: field -> constraint (see the module doc)."""

    kind: str
    fields: dict = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.kind, tuple(sorted(self.fields))))

    def holds(self, observed: dict | None, namespace: dict[str, Any]) -> tuple[bool, str]:
        """(True, '') when every stated field holds for `observed`; else (False, the first field that does not,
        stated vs observed). An expression the case cannot evaluate raises StatementError."""
        if not observed:
            return False, "nothing observed"
        outcome = observed.get("outcome")
        applicable = {k: v for k, v in self.fields.items() if outcome in STATEMENT_FIELDS[k][1]}
        if not applicable:
            stated = ", ".join(f"{k}={v!r}" for k, v in self.fields.items())
            return False, f"states {stated}; the framework's outcome was {describe(observed)}"
        for key, want in applicable.items():
            ok = _test(key, want, observed, namespace)
            if not ok:
                got = observed.get(key if key not in ("raises", "returns", "relation") else
                                   {"raises": "exception", "returns": "shape", "relation": "shape"}[key])
                return False, f"states {key}={want!r}; observed {describe(observed)}" + (
                    f" ({key}: {got!r})" if key in ("err_over_bound", "wrong_fraction", "wrong_elements") else "")
        return True, ""

    def text(self) -> str:
        return "; ".join(f"{k} {_show(v)}" for k, v in self.fields.items())


def _show(v) -> str:
    return f"[{v[0]:g}, {v[1]:g}]" if isinstance(v, tuple) and len(v) == 2 and all(
        isinstance(e, (int, float)) for e in v) else (", ".join(sorted(v)) if isinstance(v, frozenset) else repr(v))


def _test(key: str, want, observed: dict, namespace: dict[str, Any]) -> bool:
    typ = STATEMENT_FIELDS[key][0]
    if key == "raises":
        return bool(want.fullmatch(str(observed.get("exception", ""))))
    if key == "signal":
        return bool(want.fullmatch(str(observed.get("signal", ""))))
    if typ == "regex":
        return bool(want.search(str(observed.get(key, ""))))
    if typ == "choice":
        return observed.get(key) == want
    if typ == "expression":
        ns = dict(namespace)
        ns.update({n: _tupled(observed.get(n)) for n in OBSERVED_NAMES.get(observed["outcome"], ())})
        try:
            return bool(expr.evaluate(want, ns))
        except NameError as exc:
            raise StatementError(f"`{key}` uses {exc.name!r}, which this case does not have") from None
        except Exception as exc:  # noqa: BLE001 - e.g. indexing None
            raise StatementError(f"`{key}` raised {type(exc).__name__}: {exc}") from None
    if typ == "name":
        return any(m in observed.get("models", ()) for m in ((want,) if isinstance(want, str) else want))
    if typ == "range":
        value = observed.get(key)
        return isinstance(value, (int, float)) and want[0] <= value <= want[1]
    if key == "classes":
        got = set(observed.get("classes", ()))
        return bool(got) and got <= want
    if key in ("wrong", "missing", "misshapen") and not namespace.get("bias", True):
        want = want - {"gb"}                          # no bias, no gb: the statement names it for the cases with one
    return set(observed.get(key, ())) == want        # wrong, missing, adjoint: exactly these


def _tupled(v):
    if isinstance(v, list):
        return tuple(_tupled(e) for e in v)
    return v


def parse(kind: str, raw: Any, where: str) -> Statement:
    """The statement of an entry of `kind` from its TOML table; StatementError (one line) when malformed."""
    if not isinstance(raw, dict):
        raise StatementError(f"{where}: `behaviour` must be a table of {', '.join(sorted(KIND_FIELDS[kind][0]))}")
    allowed, required = KIND_FIELDS[kind]
    unknown = set(raw) - allowed
    if unknown:
        raise StatementError(f"{where}: `behaviour` of a {kind!r} entry may state {', '.join(sorted(allowed))}; "
                             f"not {', '.join(sorted(unknown))}")
    if not any(set(alt) <= set(raw) for alt in required):
        raise StatementError(f"{where}: `behaviour` of a {kind!r} entry must state "
                             + " or ".join(" and ".join(alt) for alt in required))
    fields = {}
    for key, value in raw.items():
        typ = STATEMENT_FIELDS[key][0]
        try:
            fields[key] = _parse_field(key, typ, value)
        except (StatementError, re.error, expr.ExpressionError) as exc:
            raise StatementError(f"{where}: behaviour.{key} = {value!r}: {exc}") from None
    return Statement(kind, fields)


def _parse_field(key: str, typ: str, value):
    if typ == "regex":
        if not isinstance(value, str) or not value:
            raise StatementError("a non-empty regular expression (string)")
        return re.compile(value)
    if typ == "expression":
        if not isinstance(value, str):
            raise StatementError("an expression (string)")
        expr.check(value)
        return value
    if typ == "choice":
        if value not in CHOICES[key]:
            raise StatementError(f"one of {', '.join(CHOICES[key])}")
        return value
    if typ == "name":
        from conformance.core import models
        wanted = [value] if isinstance(value, str) else value
        if not (isinstance(wanted, list) and wanted and all(isinstance(v, str) for v in wanted)):
            raise StatementError("a model name, or a list of them (any one of them matching)")
        for v in wanted:
            try:
                models.get(v)
            except KeyError:
                raise StatementError(f"no such model {v!r}; known: {', '.join(models.MODELS)}, and "
                                     f"'<kernel transform>+<model>' ({', '.join(models.KERNEL_TRANSFORMS)})") from None
        return value if isinstance(value, str) else tuple(value)
    if typ == "range":
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value)
                and value[0] <= value[1]):
            raise StatementError("a range [low, high] with low <= high")
        return (float(value[0]), float(value[1]))
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise StatementError("a list of strings")
    allowed = {"classes": CLASS_PAIRS, "wrong": ("gx", "gw", "gb"), "missing": ("gx", "gw", "gb"),
               "misshapen": ("gx", "gw", "gb"), "adjoint": ("adjoint-x", "adjoint-w")}[key]
    bad = [v for v in value if v not in allowed]
    if bad:
        raise StatementError(f"{', '.join(bad)} not among {', '.join(allowed)}")
    return frozenset(value)


# -- observed behaviour, one constructor per outcome ------------------------------------------------------------
def raised(exception: str, message: str, stage: str = "call") -> dict:
    return {"outcome": "raised", "exception": exception, "message": message[:800], "stage": stage}


def returned(shape, found_crop=None) -> dict:
    return {"outcome": "returned", "shape": list(shape), "found_crop": None if found_crop is None else list(found_crop)}


def crash(crash_text: str, stderr_tail: str) -> dict:
    """From conformance.harness.isolate's crash text ('killed by SIGABRT', 'timed out after 300 s', 'exit status 3
    ...')."""
    m = re.match(r"killed by (\S+)", crash_text)
    if m:
        signal = m.group(1)
    elif crash_text.startswith("timed out"):
        signal = "hang"
    else:
        m = re.match(r"exit status (-?\d+)", crash_text)
        signal = f"exit {m.group(1)}" if m else crash_text
    return {"outcome": "crash", "signal": signal, "stderr": stderr_tail[-2000:],
            "key": crashkey.signature(signal, stderr_tail)}


def from_comparison(comparison, wrong_fraction: float | None = None, models: tuple = (),
                    wrong_elements: int | None = None) -> dict:
    """shape, crop or value, from a conformance.core.compare.Comparison of a divergence."""
    expected = comparison.expected
    found = None if comparison.found_crop is None else list(comparison.found_crop)
    shift = None if comparison.shift is None else list(comparison.shift)
    shifts = [list(v) for v in comparison.shifts]
    if comparison.kind == "shape":
        spatial = list(comparison.actual_shape[2:])
        delta = ([a - e for a, e in zip(spatial, expected.length)] if len(spatial) == len(expected.length)
                 else None)
        return {"outcome": "shape", "shape": list(comparison.actual_shape), "length_delta": delta,
                "found_crop": found, "shift": shift, "shifts": shifts}
    if comparison.kind == "crop":
        return {"outcome": "crop", "shape": list(comparison.actual_shape), "shift": shift, "shifts": shifts,
                "found_crop": found}
    return {"outcome": "value", "err_over_bound": _number(comparison.ratio),
            "wrong_fraction": wrong_fraction, "wrong_elements": wrong_elements, "models": list(models)}


def nonfinite(pairs, wrong: int, models: tuple = ()) -> dict:
    return {"outcome": "nonfinite", "classes": sorted(set(pairs)), "wrong": wrong, "models": list(models)}


def gradient(wrong, missing, misshapen, adjoint, err_over_bound) -> dict:
    return {"outcome": "gradient", "wrong": sorted(wrong), "missing": sorted(missing), "misshapen": sorted(misshapen),
            "adjoint": sorted(adjoint), "err_over_bound": _number(err_over_bound)}


def adjoint(broken, err_over_bound) -> dict:
    return {"outcome": "adjoint", "adjoint": sorted(broken), "err_over_bound": _number(err_over_bound)}


def disagree(differs_in: str, first: str, second: str) -> dict:
    return {"outcome": "disagree", "differs_in": differs_in, "first": first, "second": second}


def nondeterministic(difference: str) -> dict:
    return {"outcome": "nondeterministic", "difference": difference}


def _number(v):
    if v is None:
        return None
    v = float(v)
    return v if v == v and abs(v) != float("inf") else float("inf") if v == v else None


def describe(observed: dict | None) -> str:
    """One line: what the framework did."""
    if not observed:
        return "nothing recorded"
    o = observed.get("outcome")
    if o == "raised":
        stage = "" if observed.get("stage") in (None, "call") else f" ({observed['stage']})"
        return f"raised {observed.get('exception')}: {observed.get('message', '')[:160]}{stage}"
    if o == "returned":
        return f"returned shape {tuple(observed.get('shape') or ())}" + (
            f", values at crop {tuple(observed['found_crop'])}" if observed.get("found_crop") else "")
    if o == "crash":
        return f"the process died ({observed.get('signal')})"
    if o == "shape":
        return f"shape {tuple(observed.get('shape') or ())} (length off by {observed.get('length_delta')})"
    if o == "crop":
        return f"values shifted by {observed.get('shift')}"
    if o == "value":
        models = observed.get("models") or []
        return (f"values beyond the bound (err/bound {_g(observed.get('err_over_bound'))}, "
                f"{observed.get('wrong_elements')} elements, {_pct(observed.get('wrong_fraction'))})"
                + (f", matching model {', '.join(models)}" if models else ", matching no known model"))
    if o == "nonfinite":
        return f"{observed.get('wrong')} elements of another IEEE class ({', '.join(observed.get('classes', []))})" + (
            f", matching model {', '.join(observed['models'])}" if observed.get("models") else "")
    if o == "gradient":
        parts = [f"{name} {', '.join(observed[name])}" for name in ("wrong", "missing", "misshapen", "adjoint")
                 if observed.get(name)]
        return "gradients: " + "; ".join(parts)
    if o == "adjoint":
        return f"adjoint identity broken: {', '.join(observed.get('adjoint', []))}"
    if o == "disagree":
        return f"differ in {observed.get('differs_in')}: {observed.get('first')} | {observed.get('second')}"
    if o == "nondeterministic":
        return str(observed.get("difference"))
    return str(observed)


def _g(v) -> str:
    return "?" if v is None else f"{v:.3g}"


def _pct(v) -> str:
    return "?" if v is None else f"{100 * v:.3g}%"


def key(observed: dict | None) -> tuple:
    """A coarse identity of a behaviour, stable across the configurations one bug produces (numbers and shapes
    dropped from messages; which arrays, classes, fields kept): what characterization probes for, and what groups
    a run's new divergences."""
    if not observed:
        return ("none",)
    o = observed.get("outcome")
    if o == "raised":
        return (o, observed.get("exception"), _skeleton(observed.get("message", "")), observed.get("stage"))
    if o == "crash":
        return (o, observed.get("signal"))
    if o == "shape":
        delta = observed.get("length_delta")
        sign = None if delta is None else tuple((d > 0) - (d < 0) for d in delta)
        return (o, sign)
    if o == "crop":
        return (o, tuple((s > 0) - (s < 0) for s in observed.get("shift") or ()))
    if o == "value":
        return (o, tuple(observed.get("models") or ()))
    if o == "nonfinite":
        return (o, tuple(observed.get("classes") or ()))
    if o == "gradient":
        return (o, *(tuple(observed.get(n) or ()) for n in ("wrong", "missing", "misshapen", "adjoint")))
    if o == "adjoint":
        return (o, tuple(observed.get("adjoint") or ()))
    if o == "disagree":
        return (o, observed.get("differs_in"), _skeleton(observed.get("first", "")),
                _skeleton(observed.get("second", "")))
    return (o,)


def _skeleton(text: str) -> str:
    """`text` with numbers, shapes and quoted values replaced, so messages of one check compare equal."""
    text = re.sub(r"\[[^\]]*\]|\([^)]*\)", "(..)", text)
    return re.sub(r"-?\d+(\.\d+)?(e-?\d+)?", "N", text)[:200]
