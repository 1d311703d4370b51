"""Command line of the core package: `python -m conformance VERB ...`.

Each verb lives in its own module with `register(subparsers)` (adds its parser and sets `func`) and returns an
exit status: 0 success, 1 the answer is a failure (new divergences), 2 bad input.

  summary    merge records files and print the end-of-run conformance summary (conformance.views.summary_cli)
  matrix     the cross-framework alignment matrix of the portable configurations (conformance.views.matrix_cli)
  errors     the error catalogue's outcomes per surface, side by side (conformance.views.errors_cli)
  entries    per expected-divergence entry: covered, as stated, precision, wide (conformance.views.entries_cli)
  views      matrix (JSON and text), errors, entries and summary into one folder, the records read once
             (conformance.views.views_cli; the summary env of tox.ini)
  explain    one call on one surface: per dimension F, crop c, length L, the formula, the doc (conformance.explain)
  solve      the parameter sets of a surface that give a wanted output shape (conformance.explain)
  translate  the same call on every other surface, as runnable code (conformance.explain)
"""

from __future__ import annotations

import sys

from conformance.verbs import dispatch

# modules that register a verb, in the order `--help` lists them
VERB_MODULES = ["conformance.views.summary_cli", "conformance.views.matrix_cli", "conformance.views.errors_cli",
                "conformance.views.entries_cli", "conformance.views.views_cli",
                "conformance.explain.explain", "conformance.explain.solve", "conformance.explain.translate"]


def main(argv: list[str] | None = None) -> int:
    return dispatch("python -m conformance", __doc__, VERB_MODULES, argv)


if __name__ == "__main__":
    sys.exit(main())
