"""Adapters on older framework releases. A parameter the installed release does not have (jax.lax.conv_transpose's
use_consistent_padding, added in jax 0.9) is recorded as None, what the surface's rules read for a name the call
lacks: every expected-divergence entry that names it still judges that release's cases, and the call leaves it out.
The release sweep found the contrary: on jax 0.7.2 and 0.8.3 every conv_transpose property stopped with
"entry ...: `when` uses 'use_consistent_padding', which cases of this surface do not have" (ExpectationsError)."""

from __future__ import annotations

import pytest

from adapters import jax as jax_adapter
from conformance.core.spec import Conv
from conformance.harness import expectations as exp
from tests.plugin_runs import ROOT
from tests.strategies import FirstDrawer

CONV = Conv(in_size=(4,), kernel=(3,), stride=(2,), dilation=(1,), batch=1, c_in=1, c_out=1, groups=1, bias=False)
ENTRIES = exp.load(ROOT / "suites" / "expected_divergences.toml")


def transpose(signature):
    return next(s for s in jax_adapter.surfaces(signature) if s.name == "jax.lax.conv_transpose")


@pytest.mark.parametrize("signature, drawn", [((), None), (("use_consistent_padding",), True)],
                         ids=["jax-0.8-without-it", "jax-0.10-with-it"])
def test_a_parameter_the_release_lacks_is_none_in_the_params_and_left_out_of_the_call(signature, drawn):
    surface = transpose(signature)
    params = surface.contract(surface.draw_params(FirstDrawer(True), CONV))
    assert params["use_consistent_padding"] is drawn
    assert surface.contract(surface.spell("same", CONV))["use_consistent_padding"] is (None if drawn is None
                                                                                        else False)
    args = surface.arguments(params, CONV, "float32", "cpu")
    assert args["use_consistent_padding"] is drawn, "None: the call does not pass it to a jax without it"


def test_every_entry_judges_a_case_of_a_release_without_the_parameter():
    surface = transpose(())
    for padding in ([[0, 1]], "SAME", "VALID", "SAME_LOWER"):
        params = {**surface.contract(surface.draw_params(FirstDrawer(True), CONV)), "padding": padding}
        window = surface.semantics(params, CONV).window
        ns = exp.case_namespace(CONV, params, "float32", "cpu", "jax", "0.8.3", window, prop="values", seed=0)
        exp.matching(ENTRIES, surface.id, ns)            # raised ExpectationsError before
        assert ns["use_consistent_padding"] is None
