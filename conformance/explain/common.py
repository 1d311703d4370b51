"""What explain, solve and translate share: finding the surfaces' spellings, reading a call from the command line
(surface name, input shape, geometry, the surface's own parameters), errors and output.

A call on the command line:  SURFACE --input 5x5 --kernel 3 --stride 2 [geometry] [the surface's parameters]
  SURFACE     a name its users write: keras.layers.Conv2DTranspose, torch.nn.functional.conv_transpose2d,
              tf.nn.conv2d_transpose, jax.lax.conv_transpose, ... (`--list` lists them)
  --input     spatial size (5x5), or the whole input shape in the call's layout (1x5x5x3 channels-last)
  per-dimension values: one number for every dimension (3) or one per dimension (3x2, 3,2)
  pairs: lo:hi for every dimension (1:2) or per dimension (1:2,0:0)
Bad input is a one-line error and exit status 2 (with --json, a JSON object {"error": ...}).
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import importlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

from conformance.core.spec import DTYPES, Conv
from conformance.explain.spelling import REQUIRED, Param, Spelling

ADAPTER_PACKAGE = "adapters"          # found at run time, like the pytest plugin does: the core imports no adapter
MAX_EXTENT = 4096                     # largest size, kernel span, stride or dilation per dimension we explain
EXPECTATIONS = Path(__file__).resolve().parents[2] / "suites" / "expected_divergences.toml"


class CliError(Exception):
    """Bad input: the message is the one line the user sees; `data` goes into the JSON error object."""

    def __init__(self, message: str, data: dict | None = None):
        super().__init__(message)
        self.data = data


# -- the catalog of spellings ---------------------------------------------------------------------------------
_catalog: list[Spelling] | None = None


def catalog() -> list[Spelling]:
    """Every spelling every adapter module declares (its `spellings()`), in the adapters' report order."""
    global _catalog
    if _catalog is None:
        try:
            package = importlib.import_module(ADAPTER_PACKAGE)
        except ImportError as exc:
            raise CliError(f"cannot find the adapters package {ADAPTER_PACKAGE!r} ({exc}); run from the suite's "
                           "root folder") from None
        found: list[Spelling] = []
        for module_name in getattr(package, "FRAMEWORKS", {}).values():
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
            declare = getattr(module, "spellings", None)
            if callable(declare):
                found.extend(declare())
        _catalog = found
    return _catalog


@dataclass(frozen=True)
class Entry:
    """One name a user can type, and what it means."""

    name: str
    spelling: Spelling
    rank: int | None          # rank-specific names fix the rank


def entries() -> list[Entry]:
    out = []
    for spelling in catalog():
        ranks = spelling.surface.ranks if spelling.ranked else (None,)
        for name in spelling.names:
            for rank in ranks:
                out.append(Entry(name.replace("{r}", str(rank)) if rank else name, spelling, rank))
    return out


def resolve(text: str) -> Entry:
    """The entry a typed name means: exact (any case), else the one name ending with it."""
    key = text.strip().lower()
    all_entries = entries()
    exact = [e for e in all_entries if e.name.lower() == key]
    if not exact:
        exact = [e for e in all_entries if e.spelling.surface.id.lower() == key
                 or e.spelling.surface.short_name.lower() == key]
        exact = [dataclasses.replace(e, rank=None) for e in exact][:1]
    if not exact:
        exact = [e for e in all_entries if e.name.lower().endswith("." + key)]
    families = {(id(e.spelling), e.rank) for e in exact}
    if len(families) == 1:
        return exact[0]
    if len(families) > 1:
        raise CliError(f"surface {text!r} is ambiguous: {', '.join(sorted({e.name for e in exact}))}")
    close = difflib.get_close_matches(key, [e.name.lower() for e in all_entries], n=3, cutoff=0.6)
    names = {e.name.lower(): e.name for e in all_entries}
    hint = f"; did you mean {' or '.join(names[c] for c in close)}?" if close else ""
    raise CliError(f"unknown surface {text!r}{hint} (python -m conformance explain --list lists them)")


def listing() -> tuple[str, list[dict]]:
    rows, lines = [], []
    for spelling in catalog():
        names = [n for n in spelling.names]
        variants = (f"  {spelling.variant_option} {'|'.join(spelling.variants)} (default {spelling.default_variant})"
                    if spelling.variants else "")
        params = " ".join(f"{p.flags[0]}" for p in spelling.params)
        lines.append(f"{spelling.names[0]:<40} {spelling.surface.id}")
        lines.append(f"    also: {', '.join(names[1:])}" if names[1:] else "    (no other names)")
        lines.append(f"    parameters: {params}{variants}")
        rows.append({"name": spelling.names[0], "names": names, "surface": spelling.surface.id,
                     "ranks": list(spelling.surface.ranks), "rank_in_name": spelling.ranked,
                     "parameters": [p.flags[0] for p in spelling.params],
                     "variants": list(spelling.variants), "doc": spelling.surface.doc})
    lines.append("{r} is the rank (1, 2, 3); names without it take the rank from --input.")
    return "\n".join(lines), rows


# -- values ---------------------------------------------------------------------------------------------------
_SPLIT = re.compile(r"[x,;\s]+")


def _numbers(text: str, what: str) -> list[int]:
    body = text.strip().strip("()[]").strip()
    if not body:
        raise CliError(f"{what}: no value given")
    try:
        return [int(v) for v in _SPLIT.split(body) if v]
    except ValueError:
        raise CliError(f"{what}: {text!r} is not a number or a list of numbers (e.g. 3, 3x3, 3,2)") from None


def per_dim(text: str | None, rank: int, what: str, default: int | None = None, minimum: int | None = None
            ) -> list[int]:
    if text is None:
        if default is None:
            raise CliError(f"missing {what}")
        return [default] * rank
    values = _numbers(text, what)
    if len(values) == 1:
        values = values * rank
    if len(values) != rank:
        raise CliError(f"{what}: {text!r} has {len(values)} values for {rank} spatial dimensions")
    if minimum is not None and min(values) < minimum:
        bad = min(values)
        word = "negative" if bad < 0 else "zero" if bad == 0 else "too small"
        raise CliError(f"{what}: {bad} is {word}; it must be at least {minimum}")
    return values


def _pairs(text: str, rank: int, what: str) -> list[list[int]]:
    body = text.strip()
    if body.startswith("["):
        try:
            value = json.loads(body)
            pairs = [[int(lo), int(hi)] for lo, hi in value]
        except (ValueError, TypeError):
            raise CliError(f"{what}: {text!r} is not a list of [lo, hi] pairs") from None
    else:
        items = [t for t in re.split(r"[,;\s]+", body.strip("()")) if t]
        pairs = []
        for item in items:
            lo, sep, hi = item.partition(":")
            try:
                pairs.append([int(lo), int(hi if sep else lo)])
            except ValueError:
                raise CliError(f"{what}: {item!r} is not lo:hi (e.g. 1:2)") from None
    if len(pairs) == 1:
        pairs = pairs * rank
    if len(pairs) != rank:
        raise CliError(f"{what}: {text!r} has {len(pairs)} pairs for {rank} spatial dimensions")
    return pairs


def layout_word(text: str) -> str | None:
    t = text.strip().lower()
    if t in ("first", "channels_first", "channels-first") or re.fullmatch(r"nc[dhw]{1,3}", t):
        return "first"
    if t in ("last", "channels_last", "channels-last") or re.fullmatch(r"n[dhw]{1,3}c", t):
        return "last"
    return None


def parse_value(param: Param, text: str, rank: int) -> Any:
    what = param.flags[0]
    low = text.strip().lower()
    for choice in param.choices:
        if choice is None and low in ("none", "null"):
            return None
        if isinstance(choice, str) and low == choice.lower():
            return choice
    if param.kind == "bool":
        if low in ("", "true", "1", "yes", "on"):
            return True
        if low in ("false", "0", "no", "off"):
            return False
        raise CliError(f"{what}: {text!r} is not true or false")
    if param.kind == "layout":
        which = layout_word(text)
        if which is None:
            raise CliError(f"{what}: {text!r} is neither channels-first (NCHW, channels_first) nor channels-last "
                           f"(NHWC, channels_last)")
        return param.layouts(rank, which)
    if param.kind in ("ints", "ints|none"):
        return per_dim(text, rank, what)
    if param.kind in ("pairs", "choice|pairs"):
        if param.kind == "choice|pairs" and not re.search(r"\d", text):
            raise CliError(f"{what}: {text!r} is not one of {', '.join(map(repr, param.choices))} nor lo:hi pairs")
        return _pairs(text, rank, what)
    raise CliError(f"{what}: {text!r} is not one of {', '.join(repr(c) for c in param.choices)}")


def show_value(value: Any) -> str:
    if isinstance(value, list):
        if value and isinstance(value[0], list):
            return ",".join(f"{lo}:{hi}" for lo, hi in value)
        return "x".join(map(str, value))
    return repr(value) if isinstance(value, str) else str(value)


def show_params(spelling: Spelling, params: dict) -> str:
    return ", ".join(f"{k}={show_value(v)}" for k, v in spelling.passed(params).items())


# -- reading a call -------------------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    def error(self, message):  # noqa: D401 - argparse hook
        raise CliError(message)


def parser_for(verb: str, spelling: Spelling | None, extra: Callable[[argparse.ArgumentParser], None],
               name: str = ""):
    description = None
    if spelling is not None:
        description = (f"{spelling.surface.id}, documented at {spelling.surface.doc}. Also named: "
                       f"{', '.join(spelling.names[1:]) or '-'}. Per-dimension values: 3 or 3x2; pairs: 1:2 or "
                       "1:2,0:0; a negative value as --option=-1.")
    p = _Parser(prog=f"python -m conformance {verb} " + (name or (spelling.names[0] if spelling else "SURFACE")),
                add_help=False, allow_abbrev=False, description=description)
    g = p.add_argument_group("the call")
    g.add_argument("-i", "--input", help="input size: spatial (5x5) or the whole shape in the call's layout")
    g.add_argument("-k", "--kernel", "--kernel-size", dest="kernel", help="kernel size per dimension")
    g.add_argument("-s", "--stride", "--strides", dest="stride", help="stride per dimension (default 1)")
    g.add_argument("-d", "--dilation", "--dilation-rate", "--dilations", "--rhs-dilation", dest="dilation",
                   help="dilation per dimension (default 1)")
    g.add_argument("--in-channels", type=int, help="input channels (default 1, or from a whole --input shape)")
    g.add_argument("--out-channels", "--filters", dest="out_channels", type=int, help="output channels (default 1)")
    g.add_argument("--groups", type=int, default=1)
    g.add_argument("--batch", type=int, help="batch size (default 1, or from a whole --input shape)")
    g.add_argument("--bias", action="store_true", help="with a bias")
    g.add_argument("--dtype", default="float32", choices=[d for d in DTYPES if d in ("float32", "float64")])
    g.add_argument("--params", help="the surface's params dict as JSON (the adapter's keys), overriding options")
    if spelling is not None:
        s = p.add_argument_group(f"{spelling.names[0]} parameters")
        for param in spelling.params:
            kw: dict[str, Any] = {"dest": "param_" + param.key, "default": None, "help": param.help or None,
                                  "metavar": _metavar(param)}
            if param.kind == "bool":
                kw.update(nargs="?", const="true")
            s.add_argument(*param.flags, **kw)
        if spelling.variants:
            s.add_argument(spelling.variant_option, dest="variant", choices=list(spelling.variants),
                           default=spelling.default_variant, help="which implementation runs it")
    extra(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("-h", "--help", action="store_true", help="this help")
    return p


def _metavar(param: Param) -> str:
    words = "|".join("none" if c is None else str(c) for c in param.choices)
    return {"ints": "N[xN..]", "ints|none": "N[xN..]|none", "pairs": "LO:HI[,LO:HI..]",
            "choice|pairs": f"{words}|LO:HI[,LO:HI..]", "choice": words, "bool": "[true|false]",
            "layout": "channels_first|channels_last"}[param.kind]


@dataclass
class Request:
    entry: Entry
    spelling: Spelling
    conv: Conv
    params: dict                          # every parameter, virtual ones included
    given: set[str]                       # parameter keys the user gave
    missing: list[Param]                  # required parameters not given (solve searches them)
    dtype: str
    options: argparse.Namespace

    @property
    def surface(self):
        return self.spelling.surface

    @property
    def passed(self) -> dict:
        return self.spelling.passed(self.params)

    def channels_last(self, params: dict | None = None) -> bool:
        return bool(self.spelling.channels_last(params if params is not None else self.params))

    def input_shape(self, params: dict | None = None) -> tuple[int, ...]:
        c = self.conv
        return ((c.batch, *c.in_size, c.c_in) if self.channels_last(params) else (c.batch, c.c_in, *c.in_size))


def _rank_of(entry: Entry, sizes: list[int]) -> tuple[int, bool]:
    """(rank, whether --input is the whole shape)."""
    if entry.rank:
        if len(sizes) == entry.rank:
            return entry.rank, False
        if len(sizes) == entry.rank + 2:
            return entry.rank, True
        raise CliError(f"--input has {len(sizes)} sizes; {entry.name} takes {entry.rank} spatial sizes "
                       f"or a whole shape of {entry.rank + 2}")
    if 1 <= len(sizes) <= 3:
        return len(sizes), False
    if len(sizes) in (4, 5):
        return len(sizes) - 2, True
    raise CliError(f"--input has {len(sizes)} sizes; give 1 to 3 spatial sizes or a whole shape of 3 to 5")


def _limit(conv: Conv) -> None:
    for what, values in (("input size", conv.in_size), ("kernel span d(k-1)+1", conv.effective_kernel),
                         ("stride", conv.stride), ("dilation", conv.dilation)):
        if max(values) > MAX_EXTENT:
            raise CliError(f"{what} {max(values)} is larger than this tool handles (at most {MAX_EXTENT} per "
                           "dimension)")


def read_call(verb: str, argv: list[str], extra: Callable[[argparse.ArgumentParser], None] = lambda p: None,
              free: Callable[[Param], bool] = lambda p: False) -> Request:
    """Parse `SURFACE [options]`; `free(param)` says which unset required parameters the verb fills itself."""
    if not argv or argv[0].startswith("-"):
        raise CliError(f"name the surface first: python -m conformance {verb} SURFACE --input 5x5 ... "
                       "(python -m conformance explain --list lists them)")
    entry = resolve(argv[0])
    spelling = entry.spelling
    parser = parser_for(verb, spelling, extra, entry.name)
    ns = parser.parse_args(_negative_values(parser, argv[1:]))
    if ns.help:
        raise HelpRequested(parser.format_help())
    if getattr(ns, "variant", None) and ns.variant != spelling.default_variant:
        spelling = spelling.with_variant(ns.variant)
    if ns.input is None:
        raise CliError("missing --input (the input's spatial size, e.g. --input 5x5)")
    sizes = _numbers(ns.input, "--input")
    if min(sizes) < 0:
        raise CliError(f"--input: size {min(sizes)} is negative")
    rank, whole = _rank_of(entry, sizes)
    if rank not in spelling.surface.ranks:
        raise CliError(f"{spelling.surface.id} has no rank-{rank} form")
    overrides = _json_params(ns.params)
    # the layout first: a whole --input shape is read in it
    params: dict[str, Any] = {}
    given: set[str] = set()
    layout = spelling.layout_param()
    if layout is not None:
        _fill(layout, ns, overrides, params, given, rank, None)
    batch, c_in = ns.batch, ns.in_channels
    if whole:
        last = bool(spelling.channels_last(params)) if layout is not None else False
        n, c = sizes[0], (sizes[-1] if last else sizes[1])
        spatial = sizes[1:-1] if last else sizes[2:]
        if (batch is not None and batch != n) or (c_in is not None and c_in != c):
            raise CliError(f"--input {ns.input} says batch {n}, {c} channels; --batch/--in-channels disagree")
        batch, c_in, sizes = n, c, spatial
    if min(sizes) < 1:
        raise CliError(f"--input: spatial size {min(sizes)} is empty; sizes start at 1")
    kernel = per_dim(ns.kernel, rank, "--kernel", minimum=1)
    stride = per_dim(ns.stride, rank, "--stride", default=1, minimum=1)
    dilation = per_dim(ns.dilation, rank, "--dilation", default=1, minimum=1)
    for what, value in (("--batch", batch), ("--in-channels", c_in), ("--out-channels", ns.out_channels),
                        ("--groups", ns.groups)):
        if value is not None and value < 1:
            raise CliError(f"{what}: {value} must be at least 1")
    try:
        conv = Conv(in_size=tuple(sizes), kernel=tuple(kernel), stride=tuple(stride), dilation=tuple(dilation),
                    batch=batch or 1, c_in=c_in or 1, c_out=ns.out_channels or 1, groups=ns.groups, bias=ns.bias)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    _limit(conv)
    missing = []
    for param in spelling.params:
        if param is layout:
            continue
        if not _fill(param, ns, overrides, params, given, rank, conv) and not free(param):
            missing.append(param)
    if missing:
        names = ", ".join(p.flags[0] for p in missing)
        raise CliError(f"missing {names}: {spelling.name(rank)} needs it" + (
            " (python -m conformance solve finds the values that fit)" if verb != "solve" else ""))
    unknown = set(overrides) - {p.key for p in spelling.params}
    if unknown:
        raise CliError(f"--params: {', '.join(sorted(unknown))} not parameters of {spelling.surface.id} "
                       f"({', '.join(p.key for p in spelling.params)})")
    reason = spelling.surface.supports(conv, ns.dtype)
    if reason:
        raise CliError(reason)
    return Request(entry, spelling, conv, params, given, [], ns.dtype, ns)


def _negative_values(parser: argparse.ArgumentParser, args: list[str]) -> list[str]:
    """`--crop -1x0`, `-p -1:2`: argparse takes only plain negative numbers as values; join the others."""
    out, n = [], 0
    while n < len(args):
        action = parser._option_string_actions.get(args[n])  # noqa: SLF001 - argparse has no public lookup
        if (action is not None and action.nargs is None and n + 1 < len(args)
                and re.match(r"^-\d", args[n + 1])):
            out.append(f"{args[n]}={args[n + 1]}")
            n += 2
            continue
        out.append(args[n])
        n += 1
    return out


def _json_params(text: str | None) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CliError(f"--params is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise CliError("--params must be a JSON object of the surface's parameters")
    return value


def _fill(param: Param, ns, overrides: dict, params: dict, given: set, rank: int, conv: Conv | None) -> bool:
    """Set params[param.key] from the option, --params or the default; False when required and not given."""
    text = getattr(ns, "param_" + param.key, None)
    if text is not None:
        params[param.key] = parse_value(param, text, rank)
        given.add(param.key)
    elif param.key in overrides:
        params[param.key] = overrides[param.key]
        given.add(param.key)
    elif param.default is REQUIRED:
        return False
    else:
        geometry = conv if conv is not None else SimpleNamespace(rank=rank)   # the layout is read before the conv
        params[param.key] = param.default(geometry, params) if callable(param.default) else param.default
    return True


class HelpRequested(Exception):
    pass


# -- running a verb -------------------------------------------------------------------------------------------
def register_raw(sub, name: str, help: str, func: Callable[[list[str]], int]) -> None:
    """A verb that reads its own arguments (they depend on the surface named first): the sub-parser hands
    everything after the verb to `func` untouched, so bad input never reaches argparse's own exit."""
    p = sub.add_parser(name, help=help, add_help=False)

    def parse_known_args(args=None, namespace=None):
        ns = namespace if namespace is not None else argparse.Namespace()
        ns.argv = list(args or [])
        ns.func = lambda a: func(a.argv)
        return ns, []

    p.parse_known_args = parse_known_args


def fail(json_mode: bool, verb: str, message: str, data: dict | None = None) -> int:
    message = " ".join(message.split())
    if json_mode:
        print(json.dumps({"error": message, "verb": verb, **(data or {})}))
    else:
        print(f"error: {message}", file=sys.stderr)
    return 2


def run(verb: str, argv: list[str], body: Callable[[list[str]], tuple[str, Any, int]], usage: str) -> int:
    """Run `body(argv) -> (text, json data, exit status)`; bad input -> fail(); --list and --help handled."""
    json_mode = "--json" in argv
    try:
        if not argv or argv[0] in ("-h", "--help"):
            print(usage)
            return 0
        if argv[0] == "--list" or (argv[0] == "--json" and argv[1:2] == ["--list"]):
            text, rows = listing()
            print(json.dumps({"surfaces": rows}, indent=2) if json_mode else text)
            return 0
        if argv[0] == "--json":
            argv = argv[1:]
        text, data, status = body(argv)
    except HelpRequested as exc:
        print(exc)
        return 0
    except CliError as exc:
        return fail(json_mode, verb, str(exc), exc.data)
    print(json.dumps(data, indent=2) if json_mode else text)
    return status
