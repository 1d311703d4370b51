"""Root pytest plugin of the transposed-convolution conformance suite.

Options (the profile, frameworks, device and records also by environment variable; nothing detects CI):
  --framework NAMES   comma list of tensorflow, keras, torch, jax (default: every one; absent ones skip);
                      CONFORMANCE_FRAMEWORKS
  --device NAME       cpu (default), gpu, all, or a device name such as gpu:1; CONFORMANCE_DEVICE. A device that
                      no selected framework has stops the run with one line listing the devices found; a
                      framework without it (others have it) yields one skipped test with the reason
  --surface GLOB      only surfaces whose id matches (e.g. 'torch:*', '*conv_general_dilated*')
  --expectations PATH expected-divergences data file (default suites/expected_divergences.toml)
  --records PATH      JSON-lines records file (default reports/records/<run id>.jsonl); CONFORMANCE_RECORDS
  --isolate MODE      flagged (default) or all: which calls run in the crash-isolating worker; CONFORMANCE_ISOLATE
  --revisit RATE      the share of drawn cases an expected divergence covers that run (the others are drawn again,
                      conformance.harness.judge, Budget); default 0.05; 1 runs every one (to measure entries);
                      CONFORMANCE_REVISIT
  --characterize WHEN first (default): probe the neighbourhood of each new divergence and of the first case of each
                      expected one per surface (conformance.harness.characterize); off; CONFORMANCE_CHARACTERIZE
  Hypothesis profile: --hypothesis-profile dev|ci|nightly, or CONFORMANCE_PROFILE (default dev).

Parametrisation: every test that takes `target` runs once per (surface, device); one that also takes `mode` once
per (surface, device, execution mode other than eager) (suites/test_modes.py). A framework that cannot be imported
yields one skipped test with the reason; it never raises.
"""

from __future__ import annotations

import fnmatch
import gc
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings

ROOT = Path(__file__).parent

# -- Hypothesis profiles ------------------------------------------------------------------------------
# no "explain" phase: its line-coverage notes point into the suite's own code, not at the framework's behaviour
_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
               print_blob=True, phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink])
settings.register_profile("dev", max_examples=25, **_common)
settings.register_profile("ci", max_examples=150, derandomize=True, database=None, **_common)
settings.register_profile("nightly", max_examples=2000, **_common)
PROFILES = ("dev", "ci", "nightly")
# the share of drawn cases an expected-divergence entry covers that run (conformance.harness.judge, Budget)
REVISIT_RATE = 0.05
_env_profile = os.environ.get("CONFORMANCE_PROFILE", "dev")
if _env_profile not in PROFILES:
    raise pytest.UsageError(f"CONFORMANCE_PROFILE={_env_profile!r}: choose one of {', '.join(PROFILES)}")
settings.load_profile(_env_profile)


def pytest_addoption(parser):
    group = parser.getgroup("conformance")
    group.addoption("--framework", default=os.environ.get("CONFORMANCE_FRAMEWORKS", ""),
                    help="comma-separated frameworks to run (default: all)")
    group.addoption("--device", default=os.environ.get("CONFORMANCE_DEVICE", "cpu"),
                    help="cpu, gpu, all, or a device name such as gpu:1 (default cpu)")
    group.addoption("--surface", default="*", help="glob on surface ids (default *)")
    group.addoption("--expectations", default=str(ROOT / "suites" / "expected_divergences.toml"),
                    help="expected-divergences TOML file")
    group.addoption("--records", default=os.environ.get("CONFORMANCE_RECORDS", ""),
                    help="records file (JSON lines); default reports/records/<run id>.jsonl")
    group.addoption("--isolate", default=os.environ.get("CONFORMANCE_ISOLATE", "flagged"), choices=("flagged", "all"),
                    help="run in a worker process only the calls an expected 'crash' entry flags (default), or all "
                         "(a new abort or segfault then becomes a crash record instead of ending the run)")
    group.addoption("--revisit", default=os.environ.get("CONFORMANCE_REVISIT", str(REVISIT_RATE)),
                    help=f"the share of drawn cases an expected divergence covers that run (default {REVISIT_RATE}; "
                         "1: all)")
    group.addoption("--characterize", default=os.environ.get("CONFORMANCE_CHARACTERIZE", "first"),
                    choices=("first", "off"),
                    help="probe the neighbourhood of each new divergence and of each expected one's first case "
                         "(default first), or off")


def _selected_frameworks(config) -> list[str]:
    from adapters import FRAMEWORKS
    raw = [n.strip() for n in config.getoption("--framework").split(",") if n.strip()]
    unknown = [n for n in raw if n not in FRAMEWORKS]
    if unknown:
        raise pytest.UsageError(f"unknown framework(s) {', '.join(unknown)}; known: {', '.join(FRAMEWORKS)}")
    return raw or list(FRAMEWORKS)


def pytest_configure(config):
    from conformance.harness import expectations
    from conformance.harness.judge import Judge
    from conformance.harness.records import RecordWriter

    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistRunId(), "conformance-xdist-run-id")
    if hasattr(config, "workerinput"):          # pytest-xdist worker: share the controller's run id
        run_id = config.workerinput["conformance_run_id"]
    else:
        run_id = os.environ.get("CONFORMANCE_RUN_ID") or time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"
    config._conformance_run_id = run_id
    frameworks = _selected_frameworks(config)
    try:
        expected = expectations.load(config.getoption("--expectations"))
    except expectations.ExpectationsError as exc:
        raise pytest.UsageError(str(exc)) from None
    records = config.getoption("--records") or str(ROOT / "reports" / "records" / f"{run_id}.jsonl")
    profile = config.getoption("hypothesis_profile", None) or _env_profile
    try:
        rate = float(config.getoption("--revisit"))
    except ValueError:
        rate = -1.0
    if not 0 < rate <= 1:
        raise pytest.UsageError(f"--revisit {config.getoption('--revisit')!r}: a share in (0, 1] of the covered cases")
    judge = Judge(expected, RecordWriter(records, fresh=not hasattr(config, "workerinput")), run_id, profile,
                  isolate_all=config.getoption("--isolate") == "all", revisit_rate=rate)
    if config.getoption("--characterize") == "first":
        from conformance.harness.characterize import Characterizer
        judge.characterizer = Characterizer()
    config._conformance = {
        "frameworks": frameworks,
        "expectations": expected,
        "records": Path(records),
        "judge": judge,
    }
    if config.getoption("--device") != "cpu":
        _check_device(config)


def _device_names(adapter, device_opt: str) -> list[str]:
    """The names of the adapter's devices that --device selects."""
    if device_opt == "all":
        return [d.name for d in adapter.devices]
    if device_opt == "gpu":
        return [d.name for d in adapter.devices if d.kind == "gpu"]
    return [d.name for d in adapter.devices if d.name == device_opt]


def _check_device(config) -> None:
    """--device other than cpu: at least one selected framework must have such a device; else stop the run with
    one line that lists the devices each framework found (a UsageError in pytest_configure: one line, exit 4)."""
    from adapters import load
    from conformance.harness.surface import FrameworkUnavailable

    device_opt = config.getoption("--device")
    found = []
    for name in config._conformance["frameworks"]:
        try:
            adapter = load(name)
        except FrameworkUnavailable:
            continue
        if _device_names(adapter, device_opt):
            return
        found.append(f"{adapter.name}: {', '.join(d.description for d in adapter.devices)}")
    what = "a gpu device" if device_opt == "gpu" else f"a device named {device_opt}"
    raise pytest.UsageError(f"--device {device_opt}: no selected framework has {what}; found: "
                            + ("; ".join(found) or "no installed framework"))


class _XdistRunId:
    """pytest-xdist hook (registered only when xdist is installed): hand the run id to workers, so every
    worker appends to the one records file of the run."""

    @staticmethod
    def pytest_configure_node(node):
        node.workerinput["conformance_run_id"] = node.config._conformance_run_id


class Target(tuple):
    """(surface, adapter, device) with a one-line repr, so Hypothesis's falsifying-example print stays short."""

    def __new__(cls, surface, adapter, device):
        return super().__new__(cls, (surface, adapter, device))

    def __repr__(self) -> str:
        return f"<{self[0].id} {self[1].version} on {self[2]}>"


def _targets(config):
    """(surface, adapter, device) triples for the selected frameworks, or skip reasons."""
    from adapters import load
    from conformance.harness.surface import FrameworkUnavailable

    device_opt = config.getoption("--device")
    surface_glob = config.getoption("--surface")
    out = []
    for name in config._conformance["frameworks"]:
        try:
            adapter = load(name)
        except FrameworkUnavailable as exc:
            out.append(pytest.param(None, id=f"{name}-unavailable",
                                    marks=pytest.mark.skip(reason=f"{name} unavailable: {exc}")))
            continue
        devices = _device_names(adapter, device_opt)
        for dev in adapter.devices:
            config._conformance["judge"].device_models[(adapter.name, dev.name)] = dev.model
            for surface in adapter.surfaces:
                config._conformance["judge"].device_models[(surface.framework, dev.name)] = dev.model
        if not devices:
            # another selected framework has it (_check_device stopped the run otherwise): a skip with the reason
            found = ", ".join(d.description for d in adapter.devices)
            out.append(pytest.param(None, id=f"{name}-no-{device_opt}",
                                    marks=pytest.mark.skip(reason=f"--device {device_opt}: {adapter.name} has no "
                                                                  f"such device (found: {found})")))
            continue
        for surface in adapter.surfaces:
            if not fnmatch.fnmatchcase(surface.id, surface_glob):
                continue
            for dev in devices:
                out.append(pytest.param(Target(surface, adapter, dev), id=f"{surface.id}@{dev}"))
    if not out:
        raise pytest.UsageError(f"--surface {surface_glob!r} matches no surface of {config._conformance['frameworks']}")
    return out


def _mode_targets(targets):
    """(target, mode) for every target and each of its surface's modes other than eager; a surface with only
    eager calls yields one skipped test with the reason."""
    out = []
    for param in targets:
        target = param.values[0]
        if target is None:                       # a skipped framework: keep its skip
            out.append(pytest.param(None, None, id=param.id, marks=param.marks))
            continue
        modes = [m for m in target[0].mode_names if m != "eager"]
        if not modes:
            out.append(pytest.param(target, None, id=f"{param.id}/eager-only", marks=pytest.mark.skip(
                reason=f"{target[0].id} has only eager calls (no jit/compiled mode)")))
        out += [pytest.param(target, mode, id=f"{param.id}/{mode}") for mode in modes]
    return out


def pytest_generate_tests(metafunc):
    if "target" in metafunc.fixturenames:
        config = metafunc.config
        if not hasattr(config, "_conformance_targets"):
            config._conformance_targets = _targets(config)
        if "mode" in metafunc.fixturenames:
            metafunc.parametrize("target,mode", _mode_targets(config._conformance_targets))
        else:
            metafunc.parametrize("target", config._conformance_targets)


def pytest_collection_finish(session):
    """Collection has imported the frameworks (the adapters load while tests are generated): their modules, graphs
    and registries live to the end of the run. `gc.freeze()` moves them out of the cyclic collector's reach, so its
    full collections during the cases walk only what the cases made, not TensorFlow's or torch's import graph
    (measured on the torch env, ci profile, 2 cores: 21.2 s and 20.0 s without, 18.4 s and 18.9 s with). Nothing a
    case makes is kept from the collector."""
    if getattr(session.config, "_conformance", None) is not None:
        gc.collect()
        gc.freeze()


@pytest.fixture(scope="session")
def judge(pytestconfig):
    return pytestconfig._conformance["judge"]


@pytest.fixture(autouse=True)
def _conformance_test_id(request):
    """The test the judge is judging for now (its records of skipped revisits name it)."""
    state = getattr(request.config, "_conformance", None)
    if state is not None:
        state["judge"].test_id = request.node.nodeid
    yield


def pytest_report_header(config):
    from adapters import load
    from conformance.harness.surface import FrameworkUnavailable

    lines = [f"conformance: run {config._conformance_run_id}, records -> {config._conformance['records']}"]
    for name in config._conformance["frameworks"]:
        try:
            a = load(name)
            lines.append(f"  {a.name} {a.version}; devices: {', '.join(f'{d.name} ({d.model})' for d in a.devices)}; "
                         f"surfaces: {', '.join(s.short_name for s in a.surfaces)}")
        except FrameworkUnavailable as exc:
            lines.append(f"  {name}: unavailable ({exc})")
    return lines


def pytest_terminal_summary(terminalreporter, config):
    if hasattr(config, "workerinput") or not hasattr(config, "_conformance"):
        return
    from conformance.harness import records
    from conformance.views.summary import summarize

    path = config._conformance["records"]
    if not path.exists() or path.stat().st_size == 0:
        return
    text = summarize(records.read(path), config._conformance["expectations"])
    terminalreporter.write_sep("=", "conformance")
    terminalreporter.write_line(text)
    characterizer = config._conformance["judge"].characterizer
    if characterizer is not None and characterizer.skipped:
        terminalreporter.write_line(
            f"characterization skipped for {len(characterizer.skipped)} divergence(s) after "
            f"{characterizer.spent:.0f} s of probes (conformance.harness.characterize.MAX_TOTAL_SECONDS): "
            + "; ".join(characterizer.skipped[:5]) + (" ..." if len(characterizer.skipped) > 5 else ""))
    terminalreporter.write_line(f"records: {path}")


def pytest_unconfigure(config):
    state = getattr(config, "_conformance", None)
    if state and state["judge"].writer is not None:
        state["judge"].writer.close()
