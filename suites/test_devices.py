"""Cross-device: the same case on each GPU and on the CPU, each against the reference, and against each other.

Runs on GPU targets (--device gpu, all or gpu:N; the tox envs tf-gpu, torch-gpu, jax-gpu). Per drawn case (the
conformance properties' strategies, mostly accepted calls: suites/strategies.mostly_accepted; every dtype the surface
takes), on GPU g:
  devices            the case on g against the reference, bounded in the precision the framework documents for
                     it there (TF32 for float32 where it is on by default: Surface.accumulation)
  device-agreement   the case on g against the same case on the CPU: kind "device" when verdicts, divergence kinds,
                     shapes or crops differ, or values differ by more than both bounds (conformance.harness.agreement)
  determinism        the call on g made twice: kind "nondeterminism" when the two differ and the framework does not
                     document that they may (Surface.nondeterminism quotes it where it does)
On a CPU target it is a skip that says why: no GPU found, or the GPU targets were not selected.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.harness import agreement
from conformance.harness.check import Case, dtype_unavailable
from suites.strategies import judged, mostly_accepted, scaled, seeds
from suites.test_conformance import _is_final

EXAMPLES = 50          # per surface and GPU in the ci profile


def no_gpu_reason(adapter, device: str) -> str | None:
    """Why the cross-device property does not run on this target, or None on a GPU target."""
    if device != "cpu":
        return None
    found = ", ".join(d.description for d in adapter.devices)
    if not any(d.kind == "gpu" for d in adapter.devices):
        return f"cross-device: {adapter.name} found no GPU (devices: {found})"
    return (f"cross-device runs on GPU targets, each against the CPU ({adapter.name} found: {found}; --device gpu "
            "or all selects them)")


def test_devices(target, judge):
    reason = no_gpu_reason(target[1], target[2])
    if reason:
        pytest.skip(reason)
    _cpu_and_gpu(target, judge)


@settings(max_examples=scaled(EXAMPLES))
@given(data=st.data())
def _cpu_and_gpu(target, judge, data):
    surface, adapter, device = target
    version, final = adapter.version, _is_final()

    def draw_case() -> Case:
        conv, params, draws = mostly_accepted(surface, data)
        dtype = data.draw(st.sampled_from([d for d in surface.dtypes if dtype_unavailable(d) is None]), label="dtype")
        return Case(conv, params, dtype, device, data.draw(seeds(), label="seed"), draws=draws)

    def isolated(case: Case) -> bool:
        on_cpu = agreement.on_device(case, "cpu")
        return any(judge.isolates(p, surface, version, c) for p in ("devices", "device-agreement")
                   for c in (case, on_cpu))

    def probe_gpu(case: Case):
        return agreement.run(surface, case, isolated(case)).outcome

    def probe_agreement(case: Case):
        isolate = isolated(case)
        return agreement.agree("device", surface, agreement.run(surface, agreement.on_device(case, "cpu"), isolate),
                               agreement.run(surface, case, isolate))

    case = judged(judge, ("devices", "device-agreement"), surface, version, data, draw_case)
    on_cpu = agreement.on_device(case, "cpu")
    isolate = isolated(case)
    gpu = agreement.run(surface, case, isolate)
    judge.judge("devices", surface, version, case, gpu.outcome, final=final, probe=probe_gpu)
    cpu = agreement.run(surface, on_cpu, isolate)
    judge.judge("device-agreement", surface, version, case, agreement.agree("device", surface, cpu, gpu),
                final=final, probe=probe_agreement)
    if not isolate:
        again = agreement.run(surface, case)
        judge.judge("determinism", surface, version, case, agreement.determinism(surface, gpu, again), final=final)
