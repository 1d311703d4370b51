"""Characterization: which parameters a divergence depends on, found by probing the neighbourhood of one case.

For a divergence (new, or the first case of an expected one on a surface), the case is first shrunk greedily (each
parameter lowered while the behaviour holds, so the probes start from a small case and the boundaries found are the
ones nearest the origin), then varied one parameter at a time and re-run through the same property's check (`probe`,
given by the property):

  geometry    each spatial dimension's kernel, stride, dilation and input size over the strategies' ranges;
              batch, channels, groups, bias
  parameters  each draw the surface made for its own parameters (padding, output_padding, data_format, output
              shape...), replayed with one draw changed (`ReplayDrawer`: the other draws keep their meaning, e.g. an
              output size stays at the same offset in its consistent range)
  dtype       the property's other dtypes

Each probe either shows the same behaviour (the entry's statement holds, or for a new divergence the same
`behaviour.key`) or not. A parameter *matters* when some value of it loses the behaviour; the values that keep it
give its condition (`stride[1] >= 2`, `dtype in ('float16', 'float64')`, `data_format == 'NCHW'`). The result:

  {"summary": "diverges when ...; independent of ...", "predicate": "<conjunction of the conditions>",
   "parameters": {name: {"kept": [...], "lost": [...], "condition": ...}}, "probes": n, "seconds": t}

The proposed predicate is checked against the run's records afterwards (`validate`: precision and recall over the
cases of the surface), by `python -m conformance entries` and the summary. One characterization per surface and
entry (or new behaviour) per run, bounded in probes and seconds.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable

from conformance.core import expr
from conformance.core.spec import Conv
from conformance.harness import behaviour, expectations

# the strategies' ranges (suites/strategies.py): probes stay inside what the suite draws
RANGES = {"kernel": (1, 5), "stride": (1, 4), "dilation": (1, 3)}
MAX_IN_SIZE = {1: 9, 2: 6, 3: 4}
MAX_PROBES = 60
MAX_SHRINK_PROBES = 30
MAX_SECONDS = 15.0          # per characterization
MAX_TOTAL_SECONDS = 90.0    # per process: later characterizations are skipped (and say so in the summary)


class ReplayDrawer:
    """conformance.harness.surface.Drawer answering from a log of earlier draws ((label, kind, spec, value), ...): draw
    n takes the logged answer of the next draw with its label, an integer kept at the same offset from its range's low
    end (clamped), a choice kept if still offered. `override` = (log index, value) answers that one draw differently."""

    def __init__(self, log, override: tuple[int, Any] | None = None):
        self.log = list(log)
        self.override = override
        self.at = 0
        self.made: list[tuple] = []

    def _next(self, label: str):
        for j in range(self.at, len(self.log)):
            if self.log[j][0] == label:
                self.at = j + 1
                if self.override is not None and self.override[0] == j:
                    return j, self.override[1], True
                return j, self.log[j], False
        return None, None, False

    def integer(self, lo: int, hi: int, label: str) -> int:
        j, entry, overridden = self._next(label)
        if entry is None or (overridden and (not isinstance(entry, int) or isinstance(entry, bool))):
            value = lo
        elif overridden:
            value = min(max(entry, lo), hi)
        else:
            old_lo = entry[2][0]
            value = min(max(lo + (entry[3] - old_lo), lo), hi)
        self.made.append((label, "integer", (lo, hi), value))
        return value

    def choice(self, options, label: str):
        options = list(options)
        j, entry, overridden = self._next(label)
        if entry is None:
            value = options[0]
        else:
            wanted = entry if overridden else entry[3]
            value = wanted if wanted in options else options[0]
        self.made.append((label, "choice", tuple(options), value))
        return value

    def boolean(self, label: str) -> bool:
        j, entry, overridden = self._next(label)
        value = False if entry is None else bool(entry if overridden else entry[3])
        self.made.append((label, "boolean", (), value))
        return value


def _alternatives(entry) -> list:
    label, kind, spec, value = entry
    if kind == "integer":
        lo, hi = spec
        values = list(range(lo, hi + 1)) if hi - lo <= 6 else sorted({lo, value - 1, value + 1, hi} & set(
            range(lo, hi + 1)))
        return [v for v in values if v != value]
    if kind == "choice":
        return [v for v in spec if v != value]
    return [not value]


def _conv_variants(conv: Conv):
    """(parameter name, value, conv) for each one-parameter change of the geometry inside the strategies' ranges."""
    for field_name in ("kernel", "stride", "dilation", "in_size"):
        current = getattr(conv, field_name)
        lo, hi = RANGES.get(field_name, (1, MAX_IN_SIZE[conv.rank]))
        for a in range(conv.rank):
            values = range(lo, hi + 1) if hi - lo <= 5 else sorted({lo, current[a] - 1, current[a] + 1, hi})
            for v in values:
                if v == current[a] or not lo <= v <= hi:
                    continue
                new = list(current)
                new[a] = v
                yield f"{field_name}[{a}]", v, dataclasses.replace(conv, **{field_name: tuple(new)})
    for v in (1, 2, 3):
        if v != conv.batch:
            yield "batch", v, dataclasses.replace(conv, batch=v)
    g = conv.groups
    for c in sorted({g, 2 * g, 3 * g}):
        if c != conv.c_in:
            yield "c_in", c, dataclasses.replace(conv, c_in=c)
        if c != conv.c_out:
            yield "c_out", c, dataclasses.replace(conv, c_out=c)
    if g > 1:
        yield "groups", 1, dataclasses.replace(conv, groups=1)
    yield "bias", not conv.bias, dataclasses.replace(conv, bias=not conv.bias)


def _changed_param(before: dict, after: dict) -> tuple[str, Any] | None:
    """(predicate name, new value) of the one parameter a replayed draw changed: 'padding', 'output_padding[1]'."""
    for key in after:
        old, new = before.get(key), after[key]
        if old == new:
            continue
        if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
            diffs = [i for i, (o, n) in enumerate(zip(old, new)) if o != n]
            if len(diffs) == 1 and not isinstance(new[diffs[0]], list):
                return f"{key}[{diffs[0]}]", new[diffs[0]]
        return key, new
    return None


def condition(name: str, kept: list, lost: list) -> str | None:
    """The condition on one parameter that keeps the behaviour, from the values tried (None: independent)."""
    if not lost:
        return None
    kept_set = sorted({_hashable(v) for v in kept}, key=repr)
    numbers = all(isinstance(v, int) and not isinstance(v, bool) for v in kept + lost)
    if numbers:
        lo_lost = [v for v in lost if v < min(kept)]
        hi_lost = [v for v in lost if v > max(kept)]
        if len(lo_lost) + len(hi_lost) == len(lost):
            parts = []
            if lo_lost:
                parts.append(f"{name} >= {min(kept)}")
            if hi_lost:
                parts.append(f"{name} <= {max(kept)}")
            return " and ".join(parts)
    if len(kept_set) == 1:
        return f"{name} == {kept_set[0]!r}"
    return f"{name} in {tuple(kept_set)!r}"


def _hashable(v):
    return tuple(_hashable(e) for e in v) if isinstance(v, list) else v


class Characterizer:
    """Characterizes each (surface, entry or new behaviour) once per run (module doc)."""

    def __init__(self, max_probes: int = MAX_PROBES, max_seconds: float = MAX_SECONDS,
                 max_total_seconds: float = MAX_TOTAL_SECONDS):
        self.max_probes = max_probes
        self.max_seconds = max_seconds
        self.max_total_seconds = max_total_seconds
        self.spent = 0.0
        self.done: set = set()
        self.skipped: list[str] = []

    def characterize(self, prop: str, surface, version: str, case, outcome, expected, probe: Callable,
                     status: str, intent: str | None = None) -> dict | None:
        what = expected.id if expected is not None else behaviour.key(outcome.behaviour)
        key = (surface.id, prop if expected is None else "", repr(what))
        if key in self.done:
            return None
        self.done.add(key)
        if self.spent > self.max_total_seconds:
            self.skipped.append(f"{surface.id}: {what}")
            return None
        try:
            return self._characterize(prop, surface, version, case, outcome, expected, probe, status, intent)
        finally:
            self.spent += time.monotonic() - self._start

    def _characterize(self, prop, surface, version, case, outcome, expected, probe, status, intent):
        def same(o) -> bool:
            if o is None or o.verdict != "divergence" or o.kind != outcome.kind:
                return False
            if expected is not None:
                ns = expectations.case_namespace(o_case.conv, o_case.params, o_case.dtype, o_case.device,
                                                 surface.framework, version, o.documented.window, o_case.poison,
                                                 o_case.mode, prop, o_case.seed, o_case.fault)
                try:
                    return expected.matches(ns) and expected.states(o.behaviour, ns)[0]
                except expectations.ExpectationsError:
                    return False
            return behaviour.key(o.behaviour) == behaviour.key(outcome.behaviour)

        start = self._start = time.monotonic()
        results: dict[str, dict] = {}
        probes = 0

        refused = outcome.documented.refused
        outside = 0

        def attempt(new_case, limit: int) -> bool | None:
            """Whether `new_case` shows the behaviour; None when the budget is spent, the probe cannot run, or the
            docs judge it the other way (a refusal where the case was accepted, or back): that is the docs'
            boundary, already stated by the documented semantics, not the divergence's."""
            nonlocal probes, o_case, outside
            if probes >= limit or time.monotonic() - start > self.max_seconds:
                return None
            o_case = new_case
            try:
                got = probe(new_case)
            except Exception:  # noqa: BLE001 - a probe the harness cannot make (e.g. unsupported) tells nothing
                return None
            probes += 1
            if got is None or got.documented.refused != refused:   # None: the property checks nothing there
                outside += 1
                return None
            return same(got)

        o_case = case
        case = self._shrink(surface, case, intent, attempt)

        def run(name: str, value, new_case) -> None:
            kept = attempt(new_case, self.max_probes + MAX_SHRINK_PROBES)
            if kept is None:
                return
            entry = results.setdefault(name, {"kept": [_current(name, case)], "lost": []})
            entry["kept" if kept else "lost"].append(value)

        for name, value, conv in _conv_variants(case.conv):
            if surface.supports(conv, case.dtype) is not None:
                continue
            try:
                params = _params_for(surface, case, conv, intent)
            except Exception:  # noqa: BLE001 - the surface cannot spell this geometry
                continue
            run(name, value, dataclasses.replace(case, conv=conv, params=params, poison=_poison_for(case, conv)))
        for index, entry in enumerate(case.draws):
            for alt in _alternatives(entry):
                params, made = _replayed(surface, case, (index, alt))
                changed = _changed_param(case.params, params)
                if changed is None:
                    continue
                name, value = changed
                results.setdefault(name, {"kept": [_param_value(case.params, name)], "lost": []})
                run(name, value, dataclasses.replace(case, params=params, draws=tuple(made)))
        for dtype in _dtypes(prop, surface):
            if dtype != case.dtype:
                run("dtype", dtype, dataclasses.replace(case, dtype=dtype))
        conditions, independent = [], []
        parameters = {}
        for name, seen in results.items():
            cond = condition(name, seen["kept"], seen["lost"])
            parameters[name] = {"kept": seen["kept"], "lost": seen["lost"], "condition": cond}
            (conditions.append(cond) if cond else independent.append(name))
        predicate = " and ".join(f"({c})" if " and " in c else c for c in conditions) or "True"
        subject = f"entry {expected.id}" if expected is not None else f"this {outcome.kind} divergence"
        summary = (f"{subject} diverges when {' and '.join(conditions) or 'any probed parameter has any value'}"
                   f"; independent of {', '.join(_grouped(independent, list(results))) or 'nothing probed'}"
                   f" ({probes} probes, {outside} of them across the documented refusal boundary, from the shrunk "
                   f"case {case.conv} {case.dtype}"
                   f"{'; ' + ', '.join(f'{k}={v}' for k, v in case.params.items()) if case.params else ''}, "
                   f"{time.monotonic() - start:.1f} s)")
        return {"summary": summary, "predicate": predicate, "parameters": parameters, "probes": probes,
                "seconds": round(time.monotonic() - start, 2), "entry": expected.id if expected else None,
                "behaviour_key": repr(behaviour.key(outcome.behaviour)), "status": status,
                "shrunk": {"config": dataclasses.asdict(case.conv), "params": case.params, "dtype": case.dtype}}

    @staticmethod
    def _shrink(surface, case, intent, attempt):
        """Lower each parameter (geometry, then the surface's draws) to the smallest value that keeps the behaviour,
        one at a time, two passes at most, within MAX_SHRINK_PROBES."""
        for _ in range(2):
            changed = False
            for name in _geometry_names(case.conv):
                for value in _smaller_values(name, case.conv):
                    conv = _with(case.conv, name, value)
                    if conv is None or surface.supports(conv, case.dtype) is not None:
                        continue
                    try:
                        params, draws = _params_and_draws(surface, case, conv, intent)
                    except Exception:  # noqa: BLE001
                        continue
                    new = dataclasses.replace(case, conv=conv, params=params, poison=_poison_for(case, conv),
                                              draws=draws or case.draws)
                    if attempt(new, MAX_SHRINK_PROBES):
                        case, changed = new, True
                        break
            index = 0
            while index < len(case.draws):          # the log changes when a simpler answer is adopted: re-read it
                adopted = False
                for alt in _simpler(case.draws[index]):
                    params, made = _replayed(surface, case, (index, alt))
                    new = dataclasses.replace(case, params=params, draws=tuple(made))
                    if params != case.params and attempt(new, MAX_SHRINK_PROBES):
                        case, changed, adopted = new, True, True
                        break
                index += 0 if adopted and index < len(case.draws) and _simpler(case.draws[index]) else 1
            if not changed:
                break
        return case


def _current(name: str, case) -> Any:
    if "[" in name:
        field_name, index = name[:-1].split("[")
        source = getattr(case.conv, field_name, None)
        if source is not None:
            return source[int(index)]
        return case.params[field_name][int(index)]
    if hasattr(case.conv, name):
        return getattr(case.conv, name)
    if name == "dtype":
        return case.dtype
    return case.params.get(name)


def _param_value(params: dict, name: str):
    if "[" in name:
        key, index = name[:-1].split("[")
        return params[key][int(index)]
    return params.get(name)


def _grouped(independent: list[str], probed: list[str]) -> list[str]:
    """'stride[0]', 'stride[1]' -> 'stride' when every probed dimension of it is independent."""
    out: list[str] = []
    for n in independent:
        base = n.split("[")[0]
        whole = all(m in independent for m in probed if m.split("[")[0] == base)
        label = base if whole else n
        if label not in out:
            out.append(label)
    return out


def _geometry_names(conv: Conv) -> list[str]:
    return [f"{f}[{a}]" for f in ("kernel", "stride", "dilation", "in_size") for a in range(conv.rank)] + [
        "batch", "c_out", "c_in", "bias"]


def _smaller_values(name: str, conv: Conv) -> list:
    """Smaller values of one geometry parameter, smallest first (channels stay multiples of the groups)."""
    if name == "bias":
        return [False] if conv.bias else []
    if name in ("c_in", "c_out"):
        return [c for c in range(conv.groups, getattr(conv, name), conv.groups)]
    if name == "batch":
        return list(range(1, conv.batch))
    field_name, index = name[:-1].split("[")
    current = getattr(conv, field_name)[int(index)]
    lo = RANGES.get(field_name, (1, 0))[0]
    return list(range(lo, current))


def _with(conv: Conv, name: str, value):
    try:
        if "[" in name:
            field_name, index = name[:-1].split("[")
            values = list(getattr(conv, field_name))
            values[int(index)] = value
            return dataclasses.replace(conv, **{field_name: tuple(values)})
        return dataclasses.replace(conv, **{name: value})
    except ValueError:
        return None


def _simpler(entry) -> list:
    """Simpler answers to the draw `entry` than the one logged, simplest first: an integer's low end, the halfway
    point and the next lower value; the earlier choices; False for True."""
    label, kind, spec, value = entry
    if kind == "integer":
        lo = spec[0]
        return sorted({lo, lo + (value - lo) // 2, value - 1} - {value}) if value > lo else []
    if kind == "choice":
        return list(spec)[:list(spec).index(value)]
    return [False] if value is True else []


def _dtypes(prop: str, surface) -> list[str]:
    pool = ("float16", "bfloat16") if prop == "dtypes" else ("float32", "float64")
    return [d for d in pool if d in surface.dtypes]


def _params_for(surface, case, conv, intent: str | None):
    """The case's parameters for another geometry: its draws replayed, its portable intent re-spelled, or as they
    were."""
    return _params_and_draws(surface, case, conv, intent)[0]


def _params_and_draws(surface, case, conv, intent: str | None):
    if case.draws:
        drawer = ReplayDrawer(case.draws)
        return surface.draw_params(drawer, conv), tuple(drawer.made)
    if intent:
        return surface.spell(intent, conv), ()
    return case.params, ()


def _replayed(surface, case, override):
    drawer = ReplayDrawer(case.draws, override)
    params = surface.draw_params(drawer, case.conv)
    return params, drawer.made


def _poison_for(case, conv):
    """The case's poison moved onto the new geometry (an index past the new array's end drops that element)."""
    if not case.poison:
        return ()
    import math
    sizes = {"x": math.prod(conv.input_shape), "w": math.prod(conv.kernel_shape), "b": conv.c_out if conv.bias else 0}
    return tuple((n, i, v) for n, i, v in case.poison if i < sizes[n]) or case.poison[:0]


# -- validation against the records ------------------------------------------------------------------------------
def namespace_of(record: dict) -> dict | None:
    """The predicate namespace of a record's case (expectations.case_namespace), None if the record lacks a field."""
    try:
        conv = Conv(**record["config"] if "poison" not in record["config"] else
                    {k: v for k, v in record["config"].items() if k != "poison"})
    except (TypeError, ValueError, KeyError):
        return None
    exp = record.get("expected") or {}
    window = None
    if "crop" in exp:
        from conformance.core.spec import Window
        window = Window(exp["crop"], exp["length"])
    poison = tuple(tuple(p) for p in (record["config"].get("poison") or ()))
    params = record.get("params") if isinstance(record.get("params"), dict) else {}
    seed = record.get("seed") if isinstance(record.get("seed"), int) else None
    fault = record.get("fault")
    label = fault.get("case") if isinstance(fault, dict) and record.get("property") == "robustness" else None
    return expectations.case_namespace(conv, params, record.get("dtype", ""), record.get("device", ""),
                                       record.get("framework", ""), record.get("version", ""), window, poison,
                                       record.get("mode", "eager"), record.get("property", ""), seed, label)


def _holds(predicate: str, ns: dict) -> bool:
    try:
        return bool(expr.evaluate(predicate, ns))
    except Exception:  # noqa: BLE001 - a proposed predicate that does not apply to a case (another rank) is False
        return False


def validate(predicate: str, records: list[dict], surface: str, target) -> dict:
    """Precision and recall of a proposed predicate over `records` of `surface`: `target(record)` says whether a record
    shows the behaviour. precision = in-predicate records that show it / in-predicate records; recall = records that
    show it and are in the predicate / records that show it."""
    inside = showing = both = 0
    for r in records:
        if r.get("surface") != surface:
            continue
        ns = namespace_of(r)
        if ns is None:
            continue
        hit = _holds(predicate, ns)
        shows = bool(target(r))
        inside += hit
        showing += shows
        both += hit and shows
    return {"inside": inside, "showing": showing, "both": both,
            "precision": both / inside if inside else None, "recall": both / showing if showing else None}
