"""`python -m conformance translate SURFACE --input 5x5 -k 3 -s 2 [its parameters] [--to NAMES] [--verify] [--code]`

The call on every other surface that computes the same thing: the same weights (the layout conversion and flip
written out as code), the same output shape and the same values. Each target's parameters are searched for the
source's documented window (crop c and length L per dimension); where the target cannot express it, the closest
window that covers it is used and an explicit crop (or zero pad, where the source's window reaches past the full
result) follows the call. Calls that an expected divergence (suites/expected_divergences.toml) covers are avoided
when another spelling exists, and flagged otherwise. The code is one runnable script (--code prints only it);
--verify runs the source and each target in their own child processes and compares each with the reference.
Exit 0; 1 when --verify finds a mismatch; 2 on bad input.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from conformance.core.spec import Conv, Window
from conformance.explain import verify as verify_mod
from conformance.explain.common import (
    EXPECTATIONS,
    CliError,
    Request,
    catalog,
    read_call,
    register_raw,
    run,
    show_params,
)
from conformance.explain.search import combine, options, shared_complexity
from conformance.explain.spelling import (
    REQUIRED,
    Spelling,
    WeightLayout,
    channels_first_perm,
    channels_last_perm,
    convert_weights,
)
from conformance.harness import expectations as exp
from conformance.harness.surface import Documented

CANDIDATES = 60          # best-first candidates per target checked against the expected divergences


def register(sub) -> None:
    register_raw(sub, "translate", "the same call on every other surface, as runnable code", main)


def main(argv: list[str]) -> int:
    return run("translate", argv, body, __doc__)


def _extra(p) -> None:
    g = p.add_argument_group("translate")
    g.add_argument("--to", help="only targets whose name or surface id contains one of these (comma-separated)")
    g.add_argument("--verify", action="store_true", help="run source and targets (child processes) and compare")
    g.add_argument("--code", action="store_true", help="print only the runnable script")
    g.add_argument("--seed", type=int, default=0, help="seed of the script's random inputs")


@dataclass
class Adjust:
    """Per dimension: y[o] = target_output[o + start]; zeros where that index is outside the target's output."""

    start: int
    pad_before: int
    pad_after: int


@dataclass
class Translation:
    spelling: Spelling
    name: str
    params: dict | None = None
    window: Window | None = None
    exact: bool = False
    adjust: list[Adjust] = field(default_factory=list)
    skipped: str | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    add_bias: bool = False          # the target has no bias argument: the bias is added after the call


def _expectations() -> list:
    try:
        return exp.load(EXPECTATIONS)
    except exp.ExpectationsError:
        return []


def known_divergences(spelling: Spelling, params: dict, conv: Conv, dtype: str, window: Window | None,
                      entries: list | None = None) -> list:
    """Expected-divergence entries whose predicate holds for this call on the CPU."""
    entries = _expectations() if entries is None else entries
    ns = exp.case_namespace(conv, spelling.passed(params), dtype, "cpu", spelling.surface.framework, "", window)
    return exp.matching(entries, spelling.surface.id, ns, lenient=True)


def defaults(spelling: Spelling, conv: Conv) -> dict:
    params: dict = {}
    for p in spelling.params:
        if p.default is not REQUIRED:
            params[p.key] = p.default(conv, params) if callable(p.default) else p.default
    return params


def translate_to(target: Spelling, conv: Conv, want: Window, dtype: str) -> Translation:
    """The target's parameters for the window `want` of `conv` (exact, else the closest covering one + adjust)."""
    name = target.name(conv.rank) if target.ranked else target.names[0]
    add_bias = conv.bias and not target.surface.bias
    if add_bias:
        conv = dataclasses.replace(conv, bias=False)
    reason = target.surface.supports(conv, dtype)
    if reason:
        return Translation(target, name, skipped=reason)
    base = defaults(target, conv)
    free = [p for p in target.params if p.searched and not p.virtual]
    dims = conv.dims()
    entries = _expectations()
    exact, covering = [], []
    for params, per_axis in options(target, conv, base, free, list(want.length)):
        shared = shared_complexity(target, params, free)
        matching = [[o for o in opts if (o.c, o.L) == (want.crop[a], want.length[a])]
                    for a, opts in enumerate(per_axis)]

        def score(axis, o, shared=shared):
            return (0, (shared if axis == 0 else 0) + o.complexity())

        exact.extend(combine(target, conv, params, matching, score, CANDIDATES))

        def needed(axis):
            c, n, f = want.crop[axis], want.length[axis], dims[axis].full
            return max(c, 0), max(min(c + n, f), max(c, 0))

        def covers(axis, o):
            lo, hi = needed(axis)
            return hi == lo or (o.c <= lo and o.c + o.L >= hi)

        def cost(axis, o, shared=shared):
            c, n = want.crop[axis], want.length[axis]
            return (abs(c - o.c) + abs(c + n - o.c - o.L), (shared if axis == 0 else 0) + o.complexity())

        cover = [[o for o in opts if covers(a, o)] for a, opts in enumerate(per_axis)]
        covering.extend(combine(target, conv, params, cover, cost, CANDIDATES))
    pool = sorted(exact, key=lambda f: f.score) or sorted(covering, key=lambda f: f.score)
    if not pool:
        return Translation(target, name, skipped="no parameters within the searched bounds give a window that "
                                                 "covers the source's")
    best, known = pool[0], None
    for found in pool:
        hits = known_divergences(target, found.params, conv, dtype, found.window, entries)
        if not hits:
            best, known = found, []
            break
        if known is None:
            known = hits
    t = Translation(target, name, best.params, best.window, exact=bool(exact), add_bias=add_bias)
    for c, n, tc, tn in zip(want.crop, want.length, best.window.crop, best.window.length):
        start = c - tc
        t.adjust.append(Adjust(start, max(0, -start), max(0, start + n - tn)))
    for entry in known or []:
        t.warnings.append(f"known divergence {entry.id!r} ({entry.kind}) applies to every spelling found: "
                          f"{' '.join(entry.reason.split())[:240]}")
    if t.spelling.notes:
        t.notes.append(t.spelling.notes)
    return t


# -- code ---------------------------------------------------------------------------------------------------
AXES = {1: ("W",), 2: ("H", "W"), 3: ("D", "H", "W")}


def _var(spelling: Spelling, rank: int) -> str:
    last = re.sub(r"\W+", "_", spelling.name(rank).split(".")[-1])
    return f"y_{re.sub(r'[^a-z0-9]+', '_', spelling.surface.framework.lower())}_{last}"


def layout_text(last: bool, rank: int) -> str:
    sp = "".join(AXES[rank])
    return f"N{sp}C" if last else f"NC{sp}"


def header(req: Request, documented: Documented, seed: int) -> list[str]:
    conv, src = req.conv, req.spelling
    layout: WeightLayout = src.weights(req.params, conv)
    last = req.channels_last()
    x_shape = req.input_shape()
    lines = [
        f"# translate {src.call(req.params, conv)}",
        f"#   input {x_shape} {layout_text(last, conv.rank)}; documented window per spatial dimension: crop "
        f"{'x'.join(map(str, documented.window.crop))}, length {'x'.join(map(str, documented.window.length))} "
        f"of the full {'x'.join(map(str, conv.full_size))}",
        "import numpy as np",
        f"rng = np.random.default_rng({seed})",
        "# your data, in the source's layouts (random here: put your input and your layer's weights instead)",
        f"x_src = rng.standard_normal({x_shape}).astype({req.dtype!r})  # {layout_text(last, conv.rank)}",
        f"w_src = rng.standard_normal({layout.shape(conv)}).astype({req.dtype!r})  # {src.names[0].split('.')[0]} "
        f"{layout.name} {layout.label(conv.rank)}",
        (f"b = rng.standard_normal({conv.c_out}).astype({req.dtype!r})  # bias (C_out,)" if conv.bias
         else "b = None  # no bias"),
        *canonical_lines(req),
    ]
    return lines


def canonical_lines(req: Request) -> list[str]:
    conv = req.conv
    layout = req.spelling.weights(req.params, conv)
    to_first = (f"np.ascontiguousarray(np.transpose(x_src, {channels_first_perm(conv.rank)}))"
                if req.channels_last() else "x_src")
    return [
        "# canonical forms every section starts from: x (N, C_in, *spatial); w (C_in, C_out/groups, *k), taps "
        "not flipped",
        f"x = {to_first}",
        f"w = np.ascontiguousarray({layout.from_native('w_src', conv)})  # {layout.label(conv.rank)} -> canonical",
    ]


def to_source_layout(req: Request, var: str) -> str:
    conv = req.conv
    return f"np.transpose({var}, {channels_last_perm(conv.rank)})" if req.channels_last() else var


def section(req: Request, t: Translation, source_window: Window) -> list[str]:
    """The target's code: canonical x, w, b in; y (canonical layout) out, with the source's window."""
    conv = req.conv
    target = t.spelling
    src_layout = req.spelling.weights(req.params, conv)
    dst_layout = target.weights(t.params, conv)
    how = "the same window" if t.exact else "a window covering it; an explicit crop/pad follows"
    lines = [f"# ---- {t.name} ({target.surface.id}): {how} ----",
             f"# {target.call(t.params, conv)}"]
    for warning in t.warnings:
        lines.append(f"# WARNING {warning}")
    for note in t.notes:
        lines.append(f"# note: {note}")
    lines += [f"{dst_layout.name}_t = {convert_weights(src_layout, dst_layout, 'w_src', conv)}  "
              f"# {target.names[0].split('.')[0]} {dst_layout.name} {dst_layout.label(conv.rank)}, straight from "
              "the source's",
              f"assert np.array_equal({dst_layout.name}_t, {dst_layout.to_native('w', conv)})  "
              "# the same array the call below builds from w"]
    call_conv = dataclasses.replace(conv, bias=False) if t.add_bias else conv
    lines.append(target.surface.source(target.passed(t.params), call_conv, req.dtype, "cpu"))
    lines.extend(_crop_pad(t, source_window, bias_in_call=conv.bias and not t.add_bias))
    if t.add_bias:
        lines.append(f"y = y + b.reshape(1, -1{', 1' * conv.rank})  # the bias: {t.name} has no bias argument")
    return lines


def _crop_pad(t: Translation, want: Window, bias_in_call: bool = False) -> list[str]:
    pads = [(a.pad_before, a.pad_after) for a in t.adjust]
    lines = []
    if any(p != (0, 0) for p in pads) and bias_in_call:
        # outside the full result the source's output is its bias alone (the target added it to its own elements)
        spec = f"[(0, 0), (0, 0), {', '.join(map(str, pads))}]"
        lines.append(f"y = np.pad(y, {spec}) + np.pad(np.zeros_like(y), {spec}, constant_values=1) * b.reshape(1, -1"
                     f"{', 1' * len(pads)}).astype(y.dtype)  # the bias alone where the source's window lies outside "
                     "the full result")
    elif any(p != (0, 0) for p in pads):
        lines.append(f"y = np.pad(y, [(0, 0), (0, 0), {', '.join(map(str, pads))}])  # zeros where the source's "
                     "window lies outside the full result")
    starts = [a.start + a.pad_before for a in t.adjust]
    sizes = list(t.window.length)
    sizes = [n + pb + pa for n, (pb, pa) in zip(sizes, pads)]
    if starts != [0] * len(starts) or sizes != list(want.length):
        cut = ", ".join(f"{s}:{s + n}" for s, n in zip(starts, want.length))
        what = ", ".join(f"{ax} {s}..{s + n - 1} of {tn}" for ax, s, n, tn in
                         zip(AXES[len(starts)], starts, want.length, sizes))
        lines.append(f"y = y[:, :, {cut}]  # explicit crop ({what}): the target's own parameters cannot place "
                     "the window there")
    return lines


def translate(req: Request) -> tuple[Documented, list[Translation]]:
    documented = req.surface.semantics(req.passed, req.conv)
    if documented.refused:
        raise CliError(f"the source call is refused by its documentation: {documented.refusal.reason} "
                       f"[{documented.refusal.doc}]")
    if documented.window is None:
        raise CliError(f"the source call's documentation leaves it open ({documented.rule}); nothing to translate")
    if min(documented.window.length) < 1:
        raise CliError(f"the source call's output is empty ({documented.window}); nothing to translate")
    wanted = [w.strip().lower() for w in (req.options.to or "").split(",") if w.strip()]
    out = []
    for target in catalog():
        if target.names[0] == req.spelling.names[0]:
            continue
        if target.ranked and req.conv.rank not in target.surface.ranks:
            continue
        name = target.name(req.conv.rank) if target.ranked else target.names[0]
        if wanted and not any(w in name.lower() or w in target.surface.id.lower() for w in wanted):
            continue
        out.append(translate_to(target, req.conv, documented.window, req.dtype))
    if not out:
        raise CliError(f"no target surface matches --to {req.options.to!r}")
    return documented, out


def script(req: Request, documented: Documented, targets: list[Translation]) -> tuple[str, dict]:
    """The runnable script, and per section (source and targets) its code for the child processes."""
    seed, conv = req.options.seed, req.conv
    lines = header(req, documented, seed)
    src_var = "y_source"
    source_code = [f"# ---- source: {req.spelling.name(conv.rank) if req.spelling.ranked else req.spelling.names[0]}"
                   f" ({req.surface.id}) ----",
                   req.surface.source(req.passed, conv, req.dtype, "cpu")]
    sections = {"source": source_code}
    lines += ["", *source_code, f"{src_var} = {to_source_layout(req, 'y')}"]
    names = []
    for t in targets:
        if t.skipped:
            continue
        code = section(req, t, documented.window)
        sections[t.name] = code
        var = _var(t.spelling, conv.rank)
        names.append((t.name, var))
        lines += ["", *code, f"{var} = {to_source_layout(req, 'y')}  # back to the source's layout"]
    lines += ["", "# every target against the source: same shape, same values (up to rounding)"]
    for name, var in names:
        lines.append(f"print({name!r}, {var}.shape == {src_var}.shape and float(np.abs({var} - {src_var}).max()))")
    return "\n".join(lines), sections


def verify_script(req: Request, code: list[str]) -> str:
    """A section's child-process script: inputs from the seed (canonical), put into the source's layouts, then
    read back exactly as the emitted script does, then the section."""
    conv = req.conv
    layout = req.spelling.weights(req.params, conv)
    to_src = (f"np.transpose(x, {channels_last_perm(conv.rank)})" if req.channels_last() else "x")
    return "\n".join([*verify_mod.inputs_lines(conv, req.dtype, req.options.seed),
                      f"x_src, w_src = {to_src}, {layout.to_native('w', conv)}",
                      *canonical_lines(req)[1:], *code])


def body(argv: list[str]):
    req = read_call("translate", argv, _extra)
    documented, targets = translate(req)
    code, sections = script(req, documented, targets)
    conv = req.conv
    data = {
        "source": {"name": req.spelling.name(conv.rank) if req.spelling.ranked else req.spelling.names[0],
                   "surface": req.surface.id, "call": req.spelling.call(req.params, conv), "params": req.passed,
                   "input_shape": list(req.input_shape()), "crop": list(documented.window.crop),
                   "length": list(documented.window.length), "full": list(conv.full_size)},
        "targets": [], "skipped": [], "code": code,
    }
    source_known = known_divergences(req.spelling, req.params, conv, req.dtype, documented.window)
    data["source"]["warnings"] = [f"known divergence {e.id!r} ({e.kind}): {' '.join(e.reason.split())[:240]}"
                                  for e in source_known]
    for t in targets:
        if t.skipped:
            data["skipped"].append({"name": t.name, "surface": t.spelling.surface.id, "reason": t.skipped})
            continue
        data["targets"].append({
            "name": t.name, "surface": t.spelling.surface.id, "params": t.spelling.passed(t.params),
            "call": t.spelling.call(t.params, conv), "exact": t.exact, "crop": list(t.window.crop),
            "length": list(t.window.length),
            "adjust": [{"start": a.start, "pad_before": a.pad_before, "pad_after": a.pad_after} for a in t.adjust],
            "warnings": t.warnings, "notes": t.notes, "code": "\n".join(sections[t.name])})
    status = 0
    verdicts = {}
    if req.options.verify:
        verdicts = run_verify(req, documented, targets, sections)
        data["verify"] = {name: v.to_json() for name, v in verdicts.items()}
        status = 0 if all(v.agrees for v in verdicts.values()) else 1
    if req.options.code:
        return code, data, status
    return render(req, documented, targets, code, verdicts, data["source"]["warnings"]), data, status


def run_verify(req: Request, documented: Documented, targets: list[Translation], sections: dict) -> dict:
    jobs, names = [], []
    conv = req.conv
    for name, code in sections.items():
        if name == "source":
            surface, params, own = req.surface, req.passed, documented
        else:
            t = next(t for t in targets if t.name == name)
            surface, params = t.spelling.surface, t.spelling.passed(t.params)
            own = surface.semantics(params, conv)
        job = verify_mod.Job(surface, conv, params, verify_script(req, code), documented, req.dtype, "cpu",
                             req.options.seed, own=own)
        jobs.append(job)
        names.append(name)
    results = verify_mod.run_jobs(jobs)
    return {name: verify_mod.judge(job, result) for name, job, result in zip(names, jobs, results)}


def render(req: Request, documented: Documented, targets: list[Translation], code: str, verdicts: dict,
           source_warnings: list[str]) -> str:
    conv = req.conv
    win = documented.window
    x = lambda t: "x".join(map(str, t))  # noqa: E731
    lines = [f"source: {req.spelling.call(req.params, conv)}",
             f"  {req.surface.id}; input {req.input_shape()} {layout_text(req.channels_last(), conv.rank)}; window "
             f"crop {x(win.crop)}, length {x(win.length)} of the full {x(conv.full_size)}"]
    for warning in source_warnings:
        lines.append(f"  warning: the source call itself: {warning}")
    if "source" in verdicts:
        lines.extend("  " + line for line in verify_mod.describe(verdicts["source"], f"crop {x(win.crop)}, "
                                                                                     f"length {x(win.length)}"))
    lines += ["", "targets:"]
    for t in targets:
        if t.skipped:
            lines.append(f"  {t.name:<40} not expressible: {t.skipped}")
            continue
        how = "exact" if t.exact else (f"window crop {x(t.window.crop)} length {x(t.window.length)} + explicit "
                                       "crop/pad")
        lines.append(f"  {t.name:<40} {how}: {show_params(t.spelling, _shown(t))}")
        for warning in t.warnings:
            lines.append(f"      warning: {warning}")
        for note in t.notes:
            lines.append(f"      note: {note}")
        if t.name in verdicts:
            lines.extend("      " + line for line in verify_mod.describe(
                verdicts[t.name], f"the source's window, crop {x(win.crop)}, length {x(win.length)}"))
    lines += ["", "code (runnable; --code prints only this):", "", code]
    return "\n".join(lines)


def _shown(t: Translation) -> dict:
    keys = [p.key for p in t.spelling.params if p.searched or p.kind == "layout"]
    return {k: t.params[k] for k in keys if k in t.params}
