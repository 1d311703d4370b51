"""The fake adapter as an installed framework with releases, for the release sweep's self-test
(tests/test_nightly_sweep.py): each release of the wheel `convtfake` carries a mutation of tests/fake_adapter.py
(`convtfake.MUTATION`), and this adapter reports the installed release's version and runs its mutation, so a sweep
over the releases sees a bug appear in one release and go in a later one."""

from __future__ import annotations

import dataclasses
import os
from importlib import metadata


def load():
    import convtfake  # the release installed in the sweep's venv

    os.environ["FAKE_MUTATION"] = convtfake.MUTATION            # read by the fake's calls, and by its workers
    from tests import fake_adapter

    return dataclasses.replace(fake_adapter.load(), version=metadata.version("convtfake"))
