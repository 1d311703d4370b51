"""Release channels (nightly/): which version a channel means, the CUDA guard's input, the tox envs and the
constraints, and a channel that does not install: recorded as "not installable" with pip's last lines, shown by
the report. Hermetic: pip runs against a folder of hand-made wheels, with no index and no pip configuration."""

from __future__ import annotations

import configparser
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from nightly import channels
from nightly.channels import ChannelError, SameAsCurrent, Version, pick
from reports import channels as manifests
from tests.plugin_runs import ROOT
from tests.wheels import wheel


def V(*vs):
    return [Version(v) for v in vs]


def test_current_previous_and_pre_from_the_index_versions():
    vs = V("0.8.3", "0.9.0", "0.9.2", "0.10.0", "0.10.2", "0.11.0rc1", "0.11.0.dev20261101")
    assert pick(vs, "current") == Version("0.10.2")
    assert pick(vs, "previous") == Version("0.9.2"), "the newest release of the minor before current's"
    assert pick(vs, "pre", current=Version("0.10.2")) == Version("0.11.0rc1")
    assert pick(V("2.0.0", "3.0.1", "3.1.0"), "previous") == Version("3.0.1")
    assert pick(V("1.9.5", "2.0.0"), "previous") == Version("1.9.5"), "across a major release"


def test_pre_with_nothing_newer_than_current_is_same_as_current():
    with pytest.raises(SameAsCurrent):
        pick(V("0.9.2", "0.10.2"), "pre", current=Version("0.10.2"))


def test_no_previous_minor_is_not_installable():
    with pytest.raises(ChannelError, match="no release of a minor before 1.4"):
        pick(V("1.4.0", "1.4.1"), "previous")


def test_cpu_builds_only_where_asked_and_the_cuda_builds_are_named():
    vs = V("2.15.0", "2.14.1", "2.13.0", "2.13.0+cpu", "2.12.1")
    assert pick(vs, "current", cpu_local="cpu") == Version("2.13.0+cpu")
    assert pick(vs, "current") == Version("2.15.0")
    with pytest.raises(ChannelError) as exc:
        pick(vs, "previous", cpu_local="cpu")
    assert "only +cpu builds" in exc.value.reason and "2.12.1" in exc.value.reason
    with pytest.raises(ChannelError, match="the newest release, 2.15.0, is a CUDA build"):
        pick(vs, "pre", cpu_local="cpu", current=Version("2.13.0+cpu"))


def test_pip_index_versions_output_is_parsed():
    out = "torch (2.15.0)\nAvailable versions: 2.15.0, 2.13.0+cpu, 2.13.0, not-a-version, 1.13.1\n"
    assert channels.parse_versions(out) == V("1.13.1", "2.13.0", "2.13.0+cpu", "2.15.0")
    assert channels.parse_versions("ERROR: nothing") == []


def test_env_names_split_into_group_and_channel():
    group, channel = channels.split_env("keras-jax-previous")
    assert (group.name, group.framework, group.backend, channel) == ("keras-jax", "keras", "jax", "previous")
    assert group.env == {"KERAS_BACKEND": "jax", "JAX_ENABLE_X64": "1"}
    for bad in ("jax", "jax-nightly", "mxnet-current"):
        with pytest.raises(ValueError):
            channels.split_env(bad)


def test_extra_indexes_per_package_and_channel():
    env = {"CHANNELS_EXTRA_INDEX_TORCH": "https://a.invalid/cpu", "CHANNELS_EXTRA_INDEX_TORCH_PRE": "https://b.invalid"}
    assert channels.extra_indexes("torch", "current", env) == ["https://a.invalid/cpu"]
    assert channels.extra_indexes("torch", "pre", env) == ["https://a.invalid/cpu", "https://b.invalid"]
    assert channels.extra_indexes("tensorflow-cpu", "pre", env) == []


def _tox() -> configparser.ConfigParser:
    cp = configparser.ConfigParser(interpolation=None, strict=False)
    cp.read(ROOT / "tox.ini")
    return cp


def test_tox_has_one_env_per_group_and_channel_and_keeps_the_main_envs():
    cp = _tox()
    gen = [s for s in cp.sections() if s.startswith("testenv:{") and "current" in s]
    assert len(gen) == 1, gen
    groups, chans = re.fullmatch(r"testenv:\{(.+)\}-\{(.+)\}", gen[0]).groups()
    assert groups.split(",") == list(channels.load_table()), "tox's factors are the groups of channels.toml"
    assert tuple(chans.split(",")) == channels.CHANNELS
    for group in channels.load_table():
        assert f"testenv:{group}" in cp.sections(), f"the channel groups are named after the main envs: {group}"
    assert "channels" not in cp["tox"]["env_list"], "the channel envs stay out of the default run"
    assert "{env_name}" in cp[gen[0]]["commands"] and "nightly run" in cp[gen[0]]["commands"]
    assert "CHANNELS_*" in cp[gen[0]]["pass_env"]


def test_constraints_pin_the_test_tooling_as_pyproject_does():
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]
    pinned = {re.split("==", r)[0]: r for g in ("test", "report") for r in groups[g] if "==" in r}
    lines = [ln.strip() for ln in channels.CONSTRAINTS.read_text().splitlines() if ln.strip() and ln[0] != "#"]
    assert lines, "constraints.txt pins nothing"
    for line in lines:
        name = line.split("==")[0]
        assert pinned.get(name) == line, f"{line} differs from pyproject.toml ({pinned.get(name)})"
    assert set(pinned) - {ln.split("==")[0] for ln in lines} == {"numpy"}, "all tooling but numpy is pinned"


# -- a channel that does not install: hermetic pip against hand-made wheels -------------------------------------

@pytest.fixture
def fake_index(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for v in ("1.0", "2.1", "2.2rc1"):        # every release needs a dependency no index has
        wheel(wheels, "convtfake", v, ["convt-absent-dependency"])
    for v in ("0.9", "1.0"):
        wheel(wheels, "convtfaketwo", v, ["convt-absent-dependency"])
    table = tmp_path / "channels.toml"
    table.write_text('[groups.fake]\nframework = "fake"\npackages = ["convtfake"]\n\n'
                     '[groups.faketwo]\nframework = "fake"\npackages = ["convtfaketwo"]\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "CHANNELS_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels), CHANNELS_TABLE=str(table),
               PIP_DISABLE_PIP_VERSION_CHECK="1", CHANNELS_RUN="t")
    return tmp_path, env


def _run(env_name: str, records: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nightly", "run", env_name, "--records-dir", str(records)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_a_channel_that_does_not_install_is_recorded_with_pips_last_lines(fake_index):
    tmp, env = fake_index
    records = tmp / "records"
    proc = _run("fake-current", records, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr          # the matrix goes on
    assert "not installable" in proc.stdout
    m = json.loads((records / "fake-current.cpu.channel.json").read_text())
    assert m["status"] == "not installable" and m["channel"] == "current" and m["group"] == "fake"
    assert m["requirements"] == ["convtfake==2.1"]
    assert "pip cannot resolve convtfake==2.1" in m["reason"]
    assert any("convt-absent-dependency" in line for line in m["pip_tail"]), m["pip_tail"]
    assert not (records / "fake-current.cpu.jsonl").exists()

    assert _run("fake-previous", records, env).returncode == 0
    m = json.loads((records / "fake-previous.cpu.channel.json").read_text())
    assert m["requirements"] == ["convtfake==1.0"] and m["status"] == "not installable"
    assert _run("fake-pre", records, env).returncode == 0
    m = json.loads((records / "fake-pre.cpu.channel.json").read_text())
    assert m["requirements"] == ["convtfake==2.2rc1"] and "--pre" in m["pip_args"]
    assert _run("faketwo-pre", records, env).returncode == 0
    m = json.loads((records / "faketwo-pre.cpu.channel.json").read_text())
    assert m["status"] == "same as current" and "1.0" in m["reason"]
    assert _run("faketwo-nightly", records, env).returncode == 2

    chans, problems = manifests.read([records])
    assert not problems
    assert [(c.env, c.status) for c in chans] == [
        ("fake-previous", "not installable"), ("fake-current", "not installable"), ("fake-pre", "not installable"),
        ("faketwo-pre", "same as current")]
    assert manifests.pair_diffs(chans) == []
    text = manifests.render_text(chans, [])
    assert "fake-current [cpu]: not installable: pip cannot resolve convtfake==2.1" in text


def test_the_report_lists_not_installable_channels_with_pips_lines(fake_index, tmp_path):
    pytest.importorskip("jinja2")
    from reports import build

    tmp, env = fake_index
    records = tmp / "records"
    assert _run("fake-current", records, env).returncode == 0
    page = build.build([records], tmp_path / "p.html", expectations_path=None, channels_from=[records]).read_text()
    assert 'id="channels"' in page and "fake-current" in page
    assert "not installable" in page and "pip's last lines (" in page
    assert "convt-absent-dependency" in page
