"""Command line of the report package: `python -m reports VERB ...`.

  build    records (files or folders, any number) -> one self-contained HTML page (reports.build)
  merge    shard records files -> one de-duplicated records file, the worst outcome per case (reports.merge)
  diff     new, fixed and changed divergences between two runs, as text for CI logs (reports.diff)
  history  past runs: framework releases -> divergence signatures -> first and last seen (reports.history)

Exit status: 0 success, 1 the answer is a failure (diff: a new divergence) or an input was partly unreadable
(merge), 2 bad input.
"""

from __future__ import annotations

import sys

from conformance.verbs import dispatch

VERB_MODULES = ["reports.build", "reports.merge", "reports.diff", "reports.history"]


def main(argv: list[str] | None = None) -> int:
    return dispatch("python -m reports", __doc__, VERB_MODULES, argv)


if __name__ == "__main__":
    sys.exit(main())
