"""Shared by the tests of `python -m conformance explain|solve|translate`: run the command line in-process, spell
a drawn (conv, params) case as command-line arguments, and the surfaces' spellings."""

from __future__ import annotations

import contextlib
import io
import json

from conformance.__main__ import main
from conformance.core.spec import Conv
from conformance.explain.common import catalog


def cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exc:  # argparse's own exits (only before the verb is known)
            status = exc.code
    return status, out.getvalue(), err.getvalue()


def cli_json(argv: list[str]) -> tuple[int, dict]:
    status, out, _ = cli([*argv, "--json"])
    return status, json.loads(out)


def spellings():
    return catalog()


def spelling_ids():
    return [s.names[0] for s in catalog()]


def by_name(name: str):
    return next(s for s in catalog() if s.names[0] == name)


def x(values) -> str:
    return "x".join(map(str, values))


def call_args(spelling, conv: Conv, params: dict) -> list[str]:
    """SURFACE --input ... with every geometry option and the params dict as --params JSON."""
    name = spelling.name(conv.rank) if spelling.ranked else spelling.names[0]
    return [name, "--input", x(conv.in_size), "--kernel", x(conv.kernel), "--stride", x(conv.stride),
            "--dilation", x(conv.dilation), "--in-channels", str(conv.c_in), "--out-channels", str(conv.c_out),
            "--groups", str(conv.groups), "--batch", str(conv.batch), *(["--bias"] if conv.bias else []),
            "--params", json.dumps(params)]
