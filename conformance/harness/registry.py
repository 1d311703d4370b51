"""The registry of frameworks (adapters/frameworks.toml): which frameworks the suite knows, their adapters, their
Python modules and the environments of the main job. Data, read without importing any framework; the adapters'
loader, the layout test, the CLI, the nightly channels and the tox check all read it (see the file's header)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).resolve().parents[2] / "adapters" / "frameworks.toml"


class RegistryError(ValueError):
    pass


@dataclass(frozen=True)
class Framework:
    name: str
    adapter: str                     # module with load() -> Adapter
    modules: tuple[str, ...]         # import names; modules[0] carries the version


@dataclass(frozen=True)
class Env:
    name: str
    framework: str
    dependency_groups: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    run_s: float = 0.0               # measured warm run (tox's `cmd`) on the 2-core machine: sets the tox order


@dataclass(frozen=True)
class Registry:
    frameworks: dict[str, Framework]
    envs: dict[str, Env]

    @property
    def modules(self) -> set[str]:
        """Every framework's import names."""
        return {m for f in self.frameworks.values() for m in f.modules}

    @property
    def version_modules(self) -> tuple[str, ...]:
        return tuple(f.modules[0] for f in self.frameworks.values())

    @property
    def run_order(self) -> list[str]:
        """The envs longest measured run first: the order tox.ini lists them, the order `tox p` starts them in
        (longest processing time first: the long envs start while every slot is free and the short ones fill the
        end, so no slot waits alone on a long env started last)."""
        return sorted(self.envs, key=lambda name: -self.envs[name].run_s)


def parse(text: str, source: str = str(TABLE)) -> Registry:
    data = tomllib.loads(text)
    if set(data) - {"framework", "env"}:
        raise RegistryError(f"{source}: unknown table(s) {sorted(set(data) - {'framework', 'env'})}")
    frameworks = {}
    for name, spec in data.get("framework", {}).items():
        if set(spec) != {"adapter", "modules"}:
            raise RegistryError(f"{source}: [framework.{name}] needs exactly adapter and modules, has {sorted(spec)}")
        frameworks[name] = Framework(name, spec["adapter"], tuple(spec["modules"]))
    envs = {}
    for name, spec in data.get("env", {}).items():
        if spec.get("framework") not in frameworks:
            raise RegistryError(f"{source}: [env.{name}] framework {spec.get('framework')!r} is not one of "
                                f"{', '.join(frameworks)}")
        unknown = set(spec) - {"framework", "dependency_groups", "env", "run_s"}
        if unknown:
            raise RegistryError(f"{source}: [env.{name}] unknown field(s) {sorted(unknown)}")
        run_s = spec.get("run_s", 0)
        if isinstance(run_s, bool) or not isinstance(run_s, (int, float)) or run_s < 0:
            raise RegistryError(f"{source}: [env.{name}] run_s {run_s!r} is not a number of seconds")
        envs[name] = Env(name, spec["framework"], tuple(spec.get("dependency_groups", ())),
                         {k: str(v) for k, v in spec.get("env", {}).items()}, float(run_s))
    return Registry(frameworks, envs)


@lru_cache(maxsize=None)
def load(path: str | None = None) -> Registry:
    path = Path(path) if path else TABLE
    return parse(path.read_text(), str(path))
