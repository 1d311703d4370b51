"""Every non-crashing mutation of tests/fake_adapter.py as its own surface, `fake:mutant/<mutation>` (and the
correct `fake:mutant/none`), so one plugin run judges all of them (tests/test_mutants.py, tests/kill_table.py).

The crashing mutations (abort, segfault) are left out: the plugin runs a call in a child process only when an
expected `crash` entry flags it, so unflagged they would kill the run itself; tests/test_harness.py covers them.
"""

from __future__ import annotations

from conformance.harness.surface import Adapter, Device
from tests.fake_adapter import CRASHING, DOC, MUTATIONS, FakeSurface, fake_call

MUTANTS = tuple(m for m in MUTATIONS if m not in CRASHING)


def surface_id(mutation: str) -> str:
    return f"fake:mutant/{mutation}"


def load() -> Adapter:
    surfaces = [FakeSurface(framework="fake", name=f"mutant/{m}", doc=DOC, groups=True, bias=True,
                            extra={"mutation": m}, call=fake_call, param_keys=("padding", "output_padding"))
                for m in MUTANTS]
    return Adapter(name="fake", version="0.0-mutants", devices=[Device("cpu", "cpu", "NumPy")], surfaces=surfaces)
