"""One dispatcher for the command lines of the packages (`python -m conformance|reports|nightly VERB ...`): each verb
lives in its own module with `register(subparsers)` (adds its parser and sets `func`), which returns the exit
status."""

from __future__ import annotations

import argparse
import importlib


def dispatch(prog: str, doc: str, modules: list[str], argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=doc.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    for name in modules:
        importlib.import_module(name).register(sub)
    args = parser.parse_args(argv)
    return args.func(args)
