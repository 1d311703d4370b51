"""Command line of the nightly: `python -m nightly VERB ...` (run, report). Exit: 0 success, 1 a failure (the
suite's new divergences; report --strict), 2 bad input."""

from __future__ import annotations

import argparse
import importlib
import sys

VERB_MODULES = ["nightly.run", "nightly.report"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nightly", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    for name in VERB_MODULES:
        importlib.import_module(name).register(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
