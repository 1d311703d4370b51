"""`--verify` against the installed frameworks: for every surface (each Keras backend too), the measured shape,
crop and values agree with the documented prediction, or the mismatch is a listed expected divergence. Each
framework runs in its own child process (conformance.explain.verify), so this module imports no framework; a
framework that is not installed skips with the reason. Kept small (a few drawn cases per surface) to run in
about a minute on two cores."""

from __future__ import annotations

import dataclasses
import importlib.util

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.core.spec import Conv
from conformance.explain import verify
from suites.strategies import HypothesisDrawer, convs
from tests.cli_helpers import cli, cli_json, spellings

DRAWN = 8


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _needs(surface) -> list[str]:
    framework = surface.framework
    if framework.startswith("keras-"):
        return ["keras", framework.split("-", 1)[1]]
    return [framework]


def _surfaces():
    out = []
    for spelling in spellings():
        for surface in (spelling.variants.values() if spelling.variants else [spelling.surface]):
            out.append(surface)
    return out


def _drawn(surface, n: int) -> list[tuple[Conv, dict]]:
    cases = []

    @settings(max_examples=n, derandomize=True, database=None, deadline=None)
    @given(data=st.data())
    def collect(data):
        conv = data.draw(convs(surface))
        conv = dataclasses.replace(conv, batch=1, c_in=min(conv.c_in, 3 * conv.groups),
                                   c_out=min(conv.c_out, 3 * conv.groups))
        cases.append((conv, surface.draw_params(HypothesisDrawer(data), conv)))

    collect()
    return cases[:n]


SURFACES = _surfaces()


def test_every_surface_agrees_or_diverges_as_listed():
    jobs, missing = [], []
    for surface in SURFACES:
        absent = [m for m in _needs(surface) if not _installed(m)]
        if absent:
            missing.append(f"{surface.id} ({', '.join(absent)} not installed)")
            continue
        for seed, (conv, params) in enumerate(_drawn(surface, DRAWN)):
            documented = surface.semantics(params, conv)
            script = verify.call_script(surface, conv, params, "float32", "cpu", seed)
            jobs.append(verify.Job(surface, conv, params, script, documented, "float32", "cpu", seed))
    if not jobs:
        pytest.skip("no framework installed: " + "; ".join(missing))
    results = verify.run_jobs(jobs)
    problems = []
    for job, result in zip(jobs, results):
        verdict = verify.judge(job, result)
        if not verdict.agrees and not verdict.expected:
            problems.append(f"{job.surface.id} {job.conv} {job.params}: {verdict.summary}")
    assert not problems, "\n".join(problems)
    if missing:
        pytest.skip("not checked: " + "; ".join(missing))


@pytest.mark.skipif(not _installed("torch"), reason="torch is not installed")
def test_explain_verify_agrees_on_torch():
    status, got = cli_json(["explain", "torch.nn.ConvTranspose2d", "-i", "7x7", "-k", "4", "-s", "2", "-p", "1",
                            "--output-size", "15x14", "--verify"])
    assert status == 0, got
    assert got["verify"]["agrees"] and got["verify"]["measured_shape"] == [1, 1, 15, 14]
    assert got["verify"]["measured_crop"] == [1, 1]


@pytest.mark.skipif(not (_installed("keras") and _installed("tensorflow")), reason="keras/tensorflow not installed")
def test_explain_verify_shows_a_known_divergence_loudly():
    # Keras 'same' + output_padding=0 with an even kernel: the documented length 8 is one short of what the
    # TensorFlow backend's op accepts (expected divergence keras-tensorflow-same-output-padding-inconsistent)
    status, out, _ = cli(["explain", "keras.layers.Conv2DTranspose", "-i", "5x5", "-k", "4", "-s", "2", "--padding",
                          "same", "--output-padding", "0", "--backend", "tensorflow", "--verify"])
    assert status == 1
    assert "MISMATCH" in out and "keras-tensorflow-same-output-padding-inconsistent" in out


@pytest.mark.skipif(not all(_installed(m) for m in ("torch", "jax")), reason="torch and jax needed")
def test_translate_verify_runs_source_and_targets_against_the_reference():
    status, got = cli_json(["translate", "torch.conv_transpose2d", "-i", "5x4", "-k", "3", "-s", "2", "-p", "1",
                            "--output-padding", "1,0", "--in-channels", "2", "--out-channels", "3",
                            "--to", "jax,torch.nn.ConvTranspose", "--verify"])
    assert status == 0, got
    assert set(got["verify"]) == {"source", "torch.nn.ConvTranspose2d", "jax.lax.conv_transpose",
                                  "jax.lax.conv_general_dilated"}
    assert all(v["agrees"] for v in got["verify"].values()), got["verify"]
