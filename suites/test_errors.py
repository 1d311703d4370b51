"""Error behaviour: every case of the error catalogue (suites/error_catalogue.toml: invalid and edge
configurations) on every surface that can express it, in the crash-isolating worker.

Each call is judged against what the catalogue says the docs lead a user to expect (the surface's documented
semantics, a refusal, or either) and recorded with its outcome: refused (exception class and message),
accepted (shape), or crashed. `python -m conformance errors RECORDS` shows which surface refuses what another
accepts.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conformance.harness import catalogue
from conformance.harness.errorcheck import error_case, run_error_case
from conformance.harness.surface import Unexpressible

# CONFORMANCE_ERROR_CATALOGUE names another catalogue file (the self-tests use small ones)
CATALOGUE = catalogue.load(os.environ.get("CONFORMANCE_ERROR_CATALOGUE")
                           or Path(__file__).with_name("error_catalogue.toml"))


@pytest.mark.parametrize("entry", CATALOGUE, ids=[e.id for e in CATALOGUE])
def test_error_behaviour(target, judge, entry):
    surface, adapter, device = target
    reason = surface.supports(entry.base, "float32")
    if reason is not None:
        pytest.skip(reason)
    try:
        case = error_case(surface, entry, device)
    except Unexpressible as exc:
        pytest.skip(f"{surface.id} cannot express '{entry.id}': {exc}")
    outcome = run_error_case(surface, entry, case, adapter.version)
    judge.judge("errors", surface, adapter.version, case, outcome, intent=entry.id, fault=entry.fault_json())
