"""`python -m conformance solve SURFACE --input 5x5 -k 3 -s 2 --output 10x10 [--crop 1 | --align same] [--json]`

Every parameter set of the surface (within small bounds: padding modes, pads, output_padding, output_shape /
output_size) whose documented window has the wanted output length (and crop, when one is asked for), best first;
or, when none exists, the closest one. Parameters given on the command line stay fixed; the others are searched.
--align same: the crop TensorFlow's 'SAME' gives that output (tf.nn.conv_transpose's documented window);
--align valid: TensorFlow's 'VALID' (crop 0). Exit 0 with solutions; 2 when none exists or on bad input.
"""

from __future__ import annotations

from conformance.explain.common import (
    CliError,
    Request,
    per_dim,
    read_call,
    register_raw,
    resolve,
    run,
    show_params,
    show_value,
)
from conformance.explain.search import combine, options, searched_ranges, shared_complexity
from conformance.explain.spelling import Param

AXES = {1: ("W",), 2: ("H", "W"), 3: ("D", "H", "W")}
COUNT_LIMIT = 2000          # solutions counted per padding mode; more are reported as "at least"


def register(sub) -> None:
    register_raw(sub, "solve", "every parameter set of a surface that gives a wanted output shape", main)


def main(argv: list[str]) -> int:
    return run("solve", argv, body, __doc__)


def _extra(p) -> None:
    g = p.add_argument_group("solve")
    g.add_argument("-o", "--output", "--want", dest="output", help="the wanted spatial output size, e.g. 10x10")
    g.add_argument("--crop", help="the wanted crop c per dimension (where the output starts in the full result)")
    g.add_argument("--align", choices=["same", "tf-same", "valid", "tf-valid"],
                   help="the wanted crop: as TensorFlow's 'SAME' (or 'VALID') gives this output")
    g.add_argument("--max", type=int, default=12, help="how many parameter sets to list (default 12)")


def wanted_of(req: Request) -> tuple[list[int], list[int] | None]:
    ns, rank = req.options, req.conv.rank
    if ns.output is None:
        raise CliError("missing --output (the wanted spatial output size, e.g. --output 10x10)")
    lengths = per_dim(ns.output, rank, "--output")
    if len(lengths) == rank + 2:
        lengths = lengths[1:-1] if req.channels_last() else lengths[2:]
    if min(lengths) < 1:
        raise CliError(f"--output: size {min(lengths)} is {'negative' if min(lengths) < 0 else 'empty'}; "
                       "sizes start at 1")
    if ns.crop is not None and ns.align is not None:
        raise CliError("give --crop or --align, not both")
    crops = None
    if ns.crop is not None:
        crops = per_dim(ns.crop, rank, "--crop")
    elif ns.align is not None:
        crops = tf_alignment(req, lengths, "VALID" if "valid" in ns.align else "SAME")
    return lengths, crops


def tf_alignment(req: Request, lengths: list[int], mode: str) -> list[int]:
    """The crop tf.nn.conv_transpose documents for this output with `mode`, from its semantic model."""
    try:
        tf = resolve("tf.nn.conv_transpose").spelling
    except CliError:
        raise CliError("--align needs the TensorFlow adapter's model (adapters/tensorflow.py)") from None
    conv = req.conv
    params = {"padding": mode, "output_shape": list(lengths), "data_format": "NHWC"[:1] + "DHW"[3 - conv.rank:] + "C"}
    doc = tf.surface.semantics(params, conv)
    if doc.refused:
        raise CliError(f"--align {mode.lower()}: TensorFlow's {mode!r} cannot give output {'x'.join(map(str, lengths))}"
                       f" from input {'x'.join(map(str, conv.in_size))} ({doc.refusal.reason})")
    return list(doc.window.crop)


def free_params(req: Request) -> list[Param]:
    return [p for p in req.spelling.params if p.searched and p.key not in req.given and not p.virtual]


def solve(req: Request, lengths: list[int], crops: list[int] | None, limit: int) -> dict:
    spelling, conv = req.spelling, req.conv
    free = free_params(req)
    if not free:
        raise CliError(f"nothing to search: every parameter of {spelling.names[0]} that chooses the window was given "
                       "(python -m conformance explain says what they give)")
    base = dict(req.params)
    solutions, near = [], []
    any_capped = False
    for params, per_axis in options(spelling, conv, base, free, lengths):
        shared = shared_complexity(spelling, params, free)

        def exact(axis, o):
            return o.L == lengths[axis] and (crops is None or o.c == crops[axis])

        def score(axis, o, shared=shared):
            f = conv.dims()[axis].full
            outside = max(0, -o.c) + max(0, o.c + o.L - f)
            return (outside, (shared if axis == 0 else 0) + o.complexity())

        matching = [[o for o in opts if exact(a, o)] for a, opts in enumerate(per_axis)]
        found = list(combine(spelling, conv, params, matching, score, COUNT_LIMIT))
        any_capped |= len(found) >= COUNT_LIMIT
        solutions.extend(found)

        def distance(axis, o, shared=shared):
            off = abs(o.L - lengths[axis]) + (0 if crops is None else abs(o.c - crops[axis]))
            return (off, (shared if axis == 0 else 0) + o.complexity())

        near.extend(combine(spelling, conv, params, per_axis, distance, 1))
    solutions.sort(key=lambda f: f.score)
    keys = {p.key for p in free}

    def row(f):
        shown = {k: v for k, v in f.params.items() if k in keys}
        return {"params": spelling.passed(f.params), "crop": list(f.window.crop), "length": list(f.window.length),
                "call": spelling.call(f.params, conv), "text": show_params(spelling, shown)}

    rows = [row(f) for f in solutions[:limit]]
    closest = None
    if not rows and near:
        best = min(near, key=lambda f: f.score)
        closest = row(best)
    return {"surface": spelling.surface.id, "name": spelling.name(conv.rank) if spelling.ranked else spelling.names[0],
            "input": list(conv.in_size), "kernel": list(conv.kernel), "stride": list(conv.stride),
            "dilation": list(conv.dilation), "wanted": {"length": lengths, "crop": crops},
            "fixed": {k: req.params[k] for k in sorted(req.given)},
            "searched": searched_ranges(spelling, conv, free, lengths),
            "solutions": rows, "more": max(0, len(solutions) - len(rows)), "closest": closest,
            "count_capped": any_capped}


def _x(values) -> str:
    return "x".join(map(str, values))


def body(argv: list[str]):
    req = read_call("solve", argv, _extra, free=lambda p: p.searched)
    lengths, crops = wanted_of(req)
    data = solve(req, lengths, crops, max(1, req.options.max))
    conv = req.conv
    want = f"output {_x(lengths)}" + ("" if crops is None else f" at crop {_x(crops)}")
    fixed = ", ".join(f"{k}={show_value(v)}" for k, v in data["fixed"].items())
    head = (f"{data['name']}: input {_x(conv.in_size)}, k={_x(conv.kernel)} s={_x(conv.stride)} "
            f"d={_x(conv.dilation)} (F = {_x(conv.full_size)}) -> {want}" + (f"; fixed: {fixed}" if fixed else ""))
    searched = "; ".join(f"{k} in {v}" for k, v in data["searched"].items())
    if not data["solutions"]:
        closest = data["closest"]
        text = f"no parameters of {data['name']} give {want} (searched {searched})"
        if closest:
            text += (f"; closest: {closest['text']} gives output {_x(closest['length'])} at crop "
                     f"{_x(closest['crop'])}")
        raise CliError(text, data)
    lines = [head, f"searched: {searched}",
             f"{'at least ' if data['count_capped'] else ''}{len(data['solutions']) + data['more']} parameter set(s) "
             "give it"
             + (f"; the first {len(data['solutions'])}, best first (no crop outside the full result, fewest "
                "changes from the defaults, smallest values):" if data["more"] else ":")]
    for n, row in enumerate(data["solutions"], 1):
        lines.append(f"  {n:>2}. {row['text']:<50} crop {_x(row['crop'])}")
        lines.append(f"      {row['call']}")
    if data["more"]:
        lines.append(f"  ... {data['more']} more (narrow them with --crop, --align or by fixing parameters; --max N)")
    return "\n".join(lines), data, 0

