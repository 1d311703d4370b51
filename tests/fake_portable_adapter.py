"""The fake adapter (tests/fake_adapter.py) with portable-intent spellings: its documented semantics are
PyTorch's functional ones, so it spells intents the way the torch adapter does (adapters.torch is importable
without torch). Lets the self-tests run suites/test_portable.py and the matrix without a framework."""

from __future__ import annotations

from adapters.torch import spell_functional
from tests import fake_adapter


def load():
    adapter = fake_adapter.load()
    for surface in adapter.surfaces:
        surface.spell = spell_functional
    return adapter
