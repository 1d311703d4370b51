"""Shipped code (conformance.core.source): a surface's call function, and the reference's steps, are printed into
scripts that run in an empty namespace, so they may read no module global; the printed source is the function's
own, without decorators or docstrings, helpers first."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from conformance.core import reference, source
from conformance.core.source import call_line, free_globals, script, shipped, source_of
from conformance.harness import registry

SCALE = 3


@shipped
def _helper(a):
    """Doubles."""
    return 2 * a


@shipped(uses=(_helper,))
def _shipped_call(x, *, k):
    """Uses its helper and a local import only."""
    import numpy as np
    return np.asarray(_helper(x)) + k


def _reads_a_global(x):
    return x * SCALE


def _all_surfaces():
    """Every registered adapter's surfaces, built without importing a framework."""
    out = []
    for fw in registry.load().frameworks.values():
        module = importlib.import_module(fw.adapter)
        out += module.surfaces()
    return out


@pytest.mark.parametrize("surface", _all_surfaces(), ids=lambda s: s.id)
def test_every_surface_ships_a_call_that_reads_no_module_global(surface):
    assert surface.call is not None and hasattr(surface.call, "__shipped_uses__"), f"{surface.id}: not @shipped"
    assert free_globals(surface.call) == set(), f"{surface.id}: {surface.call.__name__} reads module globals"


def test_the_reference_steps_read_no_module_global():
    assert [f.__name__ for f in source.dependencies(reference.reference)] == \
        ["scatter", "cropped", "add_bias", "reference"]
    for f in source.dependencies(reference.reference):
        assert free_globals(f) == set(), f.__name__


def test_a_global_read_is_found():
    assert free_globals(_reads_a_global) == {"SCALE"}
    assert free_globals(_shipped_call) == set()          # its helper's name is allowed


def test_the_source_is_the_functions_own_helpers_first_without_decorators_or_docstrings():
    text = source_of(_shipped_call)
    assert text.index("def _helper(") < text.index("def _shipped_call(")
    assert "@shipped" not in text and "Doubles." not in text and "local import only" not in text
    assert "Doubles." in source_of(_shipped_call, docstrings=True)


def test_a_script_runs_alone_and_gives_what_the_call_gives():
    namespace = {"x": np.arange(3.0)}
    exec(script(_shipped_call, "y", "x", {"k": 1.5}), namespace)  # noqa: S102 - our own source
    np.testing.assert_array_equal(namespace["y"], _shipped_call(np.arange(3.0), k=1.5))


def test_a_long_call_line_puts_one_keyword_per_line():
    short = call_line(_shipped_call, "y", "x", {"k": 1})
    assert short == "y = _shipped_call(x, k=1)"
    long = call_line(_shipped_call, "y", "x", {f"k{n}": "v" * 20 for n in range(6)})
    assert long.splitlines()[0] == "y = _shipped_call(" and long.count("\n") == 8
