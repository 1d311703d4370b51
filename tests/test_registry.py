"""The registry of frameworks (adapters/frameworks.toml) is the one list: the loader, tox.ini and the nightly
channel groups agree with it, and a bad registry fails on load with one line."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest

from conformance.harness import registry

ROOT = Path(__file__).resolve().parents[1]
REG = registry.load()


def _tox() -> configparser.ConfigParser:
    cp = configparser.ConfigParser(interpolation=None, strict=False)
    cp.read(ROOT / "tox.ini")
    return cp


def _list(value: str) -> list[str]:
    return [v for v in re.split(r"[,\s]+", value.strip()) if v]


def _set_env(section) -> dict[str, str]:
    out = {}
    for line in section.get("set_env", "").splitlines():
        key, eq, value = line.partition("=")
        if eq and not line.lstrip().startswith("#"):
            out[key.strip()] = value.strip()
    return out


def test_the_loader_knows_exactly_the_registered_frameworks():
    import adapters
    assert adapters.FRAMEWORKS == {n: f.adapter for n, f in REG.frameworks.items()}
    for fw in REG.frameworks.values():
        assert (ROOT / (fw.adapter.replace(".", "/") + ".py")).is_file(), fw


def test_tox_main_job_runs_every_registered_env_in_order_and_the_summary_waits_for_them():
    cp = _tox()
    envs = list(REG.envs)
    labels = {}
    for line in cp["tox"]["labels"].splitlines():
        name, eq, value = line.partition("=")
        if eq:
            labels[name.strip()] = _list(value)
    order = REG.run_order
    assert sorted(order) == sorted(envs)
    assert _list(cp["tox"]["env_list"]) == order + ["summary"], "tox.ini lists the envs longest run_s first"
    assert labels["conformance"] == order
    assert labels["ci"] == ["selftest"] + order + ["summary"]
    assert sorted(_list(cp["testenv:summary"]["depends"])) == sorted(envs)


def test_run_order_is_longest_measured_run_first_and_run_s_is_checked():
    text = """
[framework.a]
adapter = "adapters.a"
modules = ["a"]
[env.short]
framework = "a"
run_s = 3
[env.unmeasured]
framework = "a"
[env.long]
framework = "a"
run_s = 40.5
"""
    reg = registry.parse(text, "t.toml")
    assert reg.run_order == ["long", "short", "unmeasured"]
    assert list(reg.envs) == ["short", "unmeasured", "long"]      # the file's order stays the channel groups' order
    for bad in ('"fast"', "-1", "true"):
        with pytest.raises(registry.RegistryError, match="run_s"):
            registry.parse(text.replace("run_s = 3", f"run_s = {bad}"), "t.toml")


@pytest.mark.parametrize("env", list(REG.envs))
def test_each_tox_env_runs_its_registered_framework_with_its_environment_and_groups(env):
    spec, section = REG.envs[env], _tox()[f"testenv:{env}"]
    set_env = _set_env(section)
    assert set_env.get("FRAMEWORK") == spec.framework, f"tox.ini [testenv:{env}] FRAMEWORK"
    for key, value in spec.env.items():
        assert set_env.get(key) == value, f"tox.ini [testenv:{env}] {key}"
    assert _list(section["dependency_groups"]) == list(spec.dependency_groups)


def test_nightly_channel_groups_are_the_registered_envs_with_their_framework_and_environment():
    from nightly import channels
    table = channels.load_table(channels.TABLE)
    assert list(table) == list(REG.envs)
    for name, group in table.items():
        assert (group.framework, group.env) == (REG.envs[name].framework, REG.envs[name].env)


@pytest.mark.parametrize("text, message", [
    ('[framework.x]\nadapter = "adapters.x"\n', "needs exactly adapter and modules"),
    ('[framework.x]\nadapter = "a"\nmodules = ["x"]\n[env.y]\nframework = "z"\n', "framework 'z' is not one of x"),
    ('[frameworks.x]\n', "unknown table"),
])
def test_a_bad_registry_fails_on_load_with_one_line(text, message):
    with pytest.raises(registry.RegistryError, match=re.escape(message)):
        registry.parse(text, "<test>")


# -- the params contract (conformance.harness.surface.Surface): every params dict has exactly the declared keys --------
def test_the_contract_names_missing_and_undeclared_keys():
    from conformance.harness.surface import ParamsContractError
    from tests.fake_adapter import load
    surface = load().surfaces[0]
    params = {"padding": [0], "output_padding": [0]}
    assert surface.contract(params) is params
    with pytest.raises(ParamsContractError, match=r"missing \['output_padding'\]: give None"):
        surface.contract({"padding": [0]})
    with pytest.raises(ParamsContractError, match=r"undeclared \['groups'\]"):
        surface.contract({**params, "groups": 1})


def test_the_plugin_fails_a_surface_whose_draws_break_the_contract(tmp_path):
    from tests.plugin_runs import run_plugin
    run = run_plugin(tmp_path, "-x", "-k", "shape", paths=("suites/test_conformance.py",),
                     env={"FAKE_DROP_PARAM": "output_padding"})
    assert run.returncode != 0, run.output[-3000:]
    assert "ParamsContractError" in run.output and "missing ['output_padding']" in run.output, run.output[-3000:]


def test_a_surface_without_documented_semantics_cannot_be_built():
    from conformance.harness.surface import Surface

    class Bare(Surface):
        def draw_params(self, draw, conv):
            return {}

        def arguments(self, params, conv, dtype, device, mode="eager"):
            return {}

    with pytest.raises(TypeError, match="states no documented semantics"):
        Bare(framework="x", name="x.conv_transpose", doc="")
