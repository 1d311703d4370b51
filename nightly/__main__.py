"""Command line of the nightly: `python -m nightly VERB ...` (run, report, sweep). Exit: 0 success, 1 a failure (the
suite's new divergences; report --strict), 2 bad input."""

from __future__ import annotations

import sys

from conformance.verbs import dispatch

VERB_MODULES = ["nightly.run", "nightly.report", "nightly.sweep"]


def main(argv: list[str] | None = None) -> int:
    return dispatch("python -m nightly", __doc__, VERB_MODULES, argv)


if __name__ == "__main__":
    sys.exit(main())
