"""Command line of the core package: `python -m conformance VERB ...`.

Each verb lives in its own module with `register(subparsers)` (adds its parser and sets `func`) and returns an
exit status: 0 success, 1 the answer is a failure (new divergences), 2 bad input.

  summary    merge records files and print the end-of-run conformance summary (conformance.summary_cli)
  matrix     the cross-framework alignment matrix of the portable configurations (conformance.matrix_cli)
  errors     the error catalogue's outcomes per surface, side by side (conformance.errors_cli)
  entries    per expected-divergence entry: cases covered, diverged as stated, precision, wide (conformance.entries_cli)
  explain    one call on one surface: per dimension F, crop c, length L, the formula, the doc (conformance.cli)
  solve      the parameter sets of a surface that give a wanted output shape (conformance.cli)
  translate  the same call on every other surface, as runnable code (conformance.cli)
"""

from __future__ import annotations

import sys

from conformance.verbs import dispatch

# modules that register a verb, in the order `--help` lists them
VERB_MODULES = ["conformance.summary_cli", "conformance.matrix_cli", "conformance.errors_cli",
                "conformance.entries_cli",
                "conformance.cli.explain", "conformance.cli.solve", "conformance.cli.translate"]


def main(argv: list[str] | None = None) -> int:
    return dispatch("python -m conformance", __doc__, VERB_MODULES, argv)


if __name__ == "__main__":
    sys.exit(main())
