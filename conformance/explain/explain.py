"""`python -m conformance explain SURFACE --input 5x5 --kernel 3 --stride 2 [its parameters] [--verify] [--json]`

Per spatial dimension: the full length F = (i-1)s + k', the crop c and the output length L (y[o] = full[o + c]),
the documented formula with the numbers filled in and the documentation it comes from; or the documented
refusal and why. --verify runs the installed framework in a child process and shows the measured shape and crop
beside the prediction. Exit 0; 1 when --verify finds a mismatch; 2 on bad input.
"""

from __future__ import annotations

import re

from conformance.core import rules
from conformance.explain import verify as verify_mod
from conformance.explain.common import Request, read_call, register_raw, run
from conformance.explain.spelling import Spelling
from conformance.harness.surface import Documented

AXES = {1: ("W",), 2: ("H", "W"), 3: ("D", "H", "W")}


def register(sub) -> None:
    register_raw(sub, "explain", "per dimension: full length, crop, output length, formula and doc of one call",
                 main)


def main(argv: list[str]) -> int:
    return run("explain", argv, body, __doc__)


def _extra(p) -> None:
    g = p.add_argument_group("explain")
    g.add_argument("--verify", action="store_true", help="run the installed framework (child process) and compare")
    g.add_argument("--seed", type=int, default=0, help="seed of the --verify inputs")


def body(argv: list[str]):
    req = read_call("explain", argv, _extra)
    data = explain(req)
    status = 0
    if req.options.verify:
        verdict = run_verify(req, data["_documented"])
        data["verify"] = verdict.to_json()
        data["_verdict"] = verdict
        status = 0 if verdict.agrees else 1
    return render(req, data), public(data), status


def public(data: dict) -> dict:
    return {k: v for k, v in data.items() if not k.startswith("_")}


def layout_name(req: Request, params: dict | None = None) -> str:
    sp = "".join(AXES[req.conv.rank])
    return f"N{sp}C" if req.channels_last(params) else f"NC{sp}"


def output_shape(req: Request, lengths) -> tuple[int, ...]:
    c = req.conv
    return (c.batch, *lengths, c.c_out) if req.channels_last() else (c.batch, c.c_out, *lengths)


def checks_json(checks) -> list[dict]:
    return [{"condition": ch.template, "with_numbers": ch.filled, "ok": ch.ok, "reason": ch.check.reason}
            for ch in checks]


def worked_json(w: rules.Dimension) -> dict:
    return {"lines": [str(line) for line in w.lines], "checks": checks_json(w.checks),
            "source": w.case.source if w.case else None, "error": w.error or None, "c": w.c, "L": w.L}


def explain(req: Request) -> dict:
    conv, spelling = req.conv, req.spelling
    documented: Documented = req.surface.semantics(req.passed, conv)
    dims = []
    disagreements = []
    for axis, (dim, name) in enumerate(zip(conv.dims(), AXES[conv.rank])):
        worked = rules.work(spelling.rules, req.params, conv, axis)
        row = {"axis": name, "i": dim.i, "k": dim.k, "s": dim.s, "d": dim.d, "kd": dim.kd, "F": dim.full,
               "c": None, "L": None, "formula": worked_json(worked), "_worked": worked}
        if documented.window is not None:
            row["c"], row["L"] = documented.window.crop[axis], documented.window.length[axis]
            if worked.case and (worked.c, worked.L) != (row["c"], row["L"]):
                # the same rules, worked with the command line's params (virtual ones included) and judged with the
                # params the surface takes: a virtual parameter that changes the window would show here
                disagreements.append(f"{name}: the worked formula gives c={worked.c} L={worked.L}, the semantic "
                                     f"model c={row['c']} L={row['L']}")
        dims.append(row)
    refused = documented.refusal
    left_open = documented.window is None and refused is None      # an edge the docs leave open (rules: open checks)
    return {
        "surface": req.surface.id, "name": spelling.name(conv.rank) if spelling.ranked else spelling.names[0],
        "call": spelling.call(req.params, conv), "params": req.passed,
        "conv": {"in_size": list(conv.in_size), "kernel": list(conv.kernel), "stride": list(conv.stride),
                 "dilation": list(conv.dilation), "batch": conv.batch, "c_in": conv.c_in, "c_out": conv.c_out,
                 "groups": conv.groups, "bias": conv.bias},
        "layout": layout_name(req), "input_shape": list(req.input_shape()),
        "output_shape": None if refused or left_open else list(output_shape(req, documented.window.length)),
        "window": None if refused or left_open else {"crop": list(documented.window.crop),
                                                     "length": list(documented.window.length)},
        "refused": None if refused is None else {"reason": refused.reason, "doc": refused.doc},
        "open": {"reason": documented.rule, "doc": documented.doc} if left_open else None,
        "rule": documented.rule, "doc": documented.doc or (refused.doc if refused else req.surface.doc),
        "call_checks": checks_json(rules.work_call(spelling.rules, req.params, conv)),
        "dims": [{k: v for k, v in row.items() if not k.startswith("_")} for row in dims],
        "formula_disagreements": disagreements, "notes": spelling.notes or None,
        "_documented": documented, "_dims": dims,
    }


def run_verify(req: Request, documented: Documented) -> verify_mod.Verdict:
    seed = req.options.seed
    job = verify_mod.Job(req.surface, req.conv, req.passed,
                         verify_mod.call_script(req.surface, req.conv, req.passed, req.dtype, "cpu", seed),
                         documented, req.dtype, "cpu", seed)
    result, = verify_mod.run_jobs([job])
    return verify_mod.judge(job, result)


def _x(values) -> str:
    return "x".join(map(str, values))


def dimension_lines(spelling: Spelling, dims: list[dict]) -> list[str]:
    lines = []
    previous = None
    for row in dims:
        w: rules.Dimension = row["_worked"]
        key = (row["i"], row["k"], row["s"], row["d"], tuple(str(line) for line in w.lines))
        if key == previous:
            lines.append(f"  {row['axis']}: as {dims[0]['axis'] if len(dims) == 2 else 'above'}")
            continue
        previous = key
        i, s, kd = row["i"], row["s"], row["kd"]
        uses_d = w.case is not None and any(re.search(r"\bD\b", t)
                                            for t in (*w.case.lines, *(ch.expr for ch in w.case.checks)))
        lines.append(f"  {row['axis']}: F = (i-1)*s + k' = ({i}-1)*{s} + {kd} = {row['F']}"
                     + (f"   (k' = d*(k-1)+1 = {row['d']}*({row['k']}-1)+1 = {kd})" if row["d"] > 1 else "")
                     + (f"   (D = (i-1)*s+1 = {(i - 1) * s + 1}, the stride-dilated input)" if uses_d else ""))
        for line in w.lines:
            lines.append(f"     {line}")
        if w.checks:
            lines.append("     checks: " + "; ".join(str(ch) for ch in w.checks))
        if w.error:
            lines.append(f"     cannot be evaluated: {w.error}")
        if w.case is None:
            lines.append("     (no documented formula applies to these parameters)")
        elif w.case.source:
            lines.append(f"     from: {w.case.source}")
    return lines


def render(req: Request, data: dict) -> str:
    conv = req.conv
    lines = [data["call"], f"  surface {data['surface']}; input {tuple(data['input_shape'])} {data['layout']}"
             + ("" if data["refused"] or data["open"] else f" -> output {tuple(data['output_shape'])}")]
    if data["notes"]:
        lines.append(f"  note: {data['notes']}")
    lines.append("")
    header = f"  {'dim':<4}{'i':>5}{'k':>4}{'s':>4}{'d':>4}{chr(39) + 'k':>5}{'F':>6}{'c':>6}{'L':>6}"
    lines.append(header.replace("'k", "k'"))
    for row in data["_dims"]:
        c = "-" if row["c"] is None else row["c"]
        n = "-" if row["L"] is None else row["L"]
        lines.append(f"  {row['axis']:<4}{row['i']:>5}{row['k']:>4}{row['s']:>4}{row['d']:>4}{row['kd']:>5}"
                     f"{row['F']:>6}{c:>6}{n:>6}")
    lines.append("")
    if data["call_checks"]:
        lines.append("  the call: " + "; ".join(f"{ch['condition']}: {ch['with_numbers']} "
                                                f"{'ok' if ch['ok'] else 'FAILS'}" for ch in data["call_checks"]))
    lines.extend(dimension_lines(req.spelling, data["_dims"]))
    lines.append("")
    if data["refused"]:
        lines.append(f"REFUSED by the documentation: {data['refused']['reason']}")
        lines.append(f"  doc: {data['refused']['doc']}")
    elif data["open"]:
        lines.append(f"LEFT OPEN by the documentation (a result or a refusal both conform): "
                     f"{data['open']['reason'].removeprefix('open: ')}")
        lines.append(f"  doc: {data['open']['doc']}")
    else:
        win = data["window"]
        spans = ", ".join(f"{row['axis']} {c}..{c + n - 1} of 0..{row['F'] - 1}"
                          for row, c, n in zip(data["_dims"], win["crop"], win["length"]))
        lines.append(f"output: y[o] = full[o + c] with c = {_x(win['crop'])}, L = {_x(win['length'])}  ({spans}; "
                     "outside the full result is zero)")
        lines.append(f"  rule: {data['rule']}")
        lines.append(f"  doc:  {data['doc']}")
    for note in data["formula_disagreements"]:
        lines.append(f"WARNING formula template and semantic model disagree: {note}")
    if "_verdict" in data:
        predicted = ("refused" if data["refused"] else "a result or a refusal (left open)" if data["open"] else
                     f"shape {(conv.batch, conv.c_out, *data['window']['length'])} (N, C, ...), "
                     f"crop {_x(data['window']['crop'])}")
        lines.append("")
        lines.extend(verify_mod.describe(data["_verdict"], predicted))
    return "\n".join(lines)
