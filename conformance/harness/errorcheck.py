"""Run one error-catalogue case (conformance.harness.catalogue) on one surface, in the crash-isolating worker.

The documented outcome comes from the catalogue entry's `expect`: the surface's own semantics of the faulty
parameters ("documented"), a refusal ("refusal": the configuration has no transposed convolution), or either
("any": an edge the docs leave open; neither a refusal nor a result is a divergence). A process death is
always a `crash` divergence. The call runs in the worker (conformance.harness.isolate) whatever the case: these are
exactly the calls that take processes down.
"""

from __future__ import annotations

import numpy as np

from conformance.harness.catalogue import PARAM_FAULTS, Entry
from conformance.harness.check import (
    Case,
    Outcome,
    _format_error,
    _raised,
    classify_result,
    crashed,
    make_inputs,
    raised_behaviour,
)
from conformance.harness.isolate import run_isolated
from conformance.harness.reproducer import reproducer
from conformance.harness.surface import Documented, Refusal, Surface, Unexpressible

SEED = 0


def error_case(surface: Surface, entry: Entry, device: str) -> Case:
    """The call for `entry` on `surface`; raises Unexpressible when the surface cannot make it."""
    if entry.fault in PARAM_FAULTS:
        params = surface.spell_fault(entry.fault, entry.base, entry.values())
    else:
        params = _geometry_params(surface, entry)
    conv = entry.faulty_conv()
    if entry.fault == "groups" and not surface.groups:
        raise Unexpressible(f"{surface.id} has no groups parameter")
    return Case(conv, params, "float32", device, SEED)


def _geometry_params(surface: Surface, entry: Entry) -> dict:
    """The 'valid' spelling for the faulty geometry (a size parameter then agrees with it: stride 0 asks for
    output size k'), or for the base where the fault makes sizes meaningless (fractional, negative)."""
    try:
        params = surface.spell("valid", entry.faulty_conv())
    except (ArithmeticError, ValueError, TypeError):
        params = None
    if params is None or not _whole_and_positive(params):
        params = surface.spell("valid", entry.base)
    return params


def _whole_and_positive(value) -> bool:
    if isinstance(value, dict):
        return all(_whole_and_positive(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_whole_and_positive(v) for v in value)
    if isinstance(value, float):
        return False
    return not isinstance(value, int) or isinstance(value, bool) or value >= 0


def documented_outcome(surface: Surface, entry: Entry, case: Case) -> Documented:
    doc = f"{surface.doc} ; {entry.source}:{entry.line}"
    if entry.expect == "documented":
        return surface.semantics(case.params, case.conv)
    if entry.expect == "refusal":
        return Documented(refusal=Refusal(entry.why, doc))
    return Documented(rule=entry.why, doc=doc)


def run_error_case(surface: Surface, entry: Entry, case: Case, version: str = "") -> Outcome:
    documented = documented_outcome(surface, entry, case)
    got = run_isolated(reproducer(surface, case, version, documented=documented))
    if got.crash:
        return crashed(documented, got)
    if got.error_type:
        text = _format_error(got.error_type, got.error_message)
        if documented.window is None and not documented.refused:
            return Outcome("refused", None, documented, error=text, detail="refused (the docs leave it open)",
                           observed="raised " + text)
        return _raised(documented, text, text, raised_behaviour(got.error_type, got.error_message))
    y = np.asarray(got.y)
    if documented.window is None and not documented.refused:
        return Outcome("pass", None, documented, detail="returned (the docs leave it open)",
                       observed=f"returned shape {tuple(y.shape)}", shape=tuple(y.shape))
    x, w, b = make_inputs(case.conv, case.dtype, case.seed)
    return classify_result(documented, y, case, x, w, b)
