"""Release channels: which version of a framework a channel means today, and installing it with pip.

The table is nightly/channels.toml (groups, packages, the channels' rules). Versions come from the index through
pip's own client (`pip index versions`), so pip's configuration (indexes, find-links, constraints) applies as it
does to the install. Nothing here imports a framework.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

try:
    from packaging.version import InvalidVersion, Version
except ImportError:                                  # pragma: no cover - pip always vendors it
    from pip._vendor.packaging.version import InvalidVersion, Version

HERE = Path(__file__).resolve().parent
TABLE = HERE / "channels.toml"
CONSTRAINTS = HERE / "constraints.txt"
CHANNELS = ("current", "previous", "pre")
CUDA_DIST = re.compile(r"^(nvidia-|cuda-)", re.I)
PIP_TAIL = 25


class ChannelError(Exception):
    """The channel cannot be installed; `tail` holds the last lines of what pip said."""

    def __init__(self, reason: str, tail: list[str] | None = None):
        super().__init__(reason)
        self.reason = reason
        self.tail = tail or []


class SameAsCurrent(Exception):
    pass


@dataclass
class Group:
    name: str
    framework: str
    packages: list[str]
    gpu_packages: list[str] = field(default_factory=list)
    pre_package: str | None = None
    cpu_local: str | None = None
    backend: str | None = None
    sweep: int | str | None = None
    env: dict[str, str] = field(default_factory=dict)

    def install_names(self, device: str) -> list[str]:
        return self.gpu_packages if device.startswith("gpu") and self.gpu_packages else self.packages


def load_table(path: Path | None = None) -> dict[str, Group]:
    """The groups of nightly/channels.toml (CHANNELS_TABLE names another file: the self-tests' fake groups). A
    group is an env of the registry (adapters/frameworks.toml): its framework and environment come from there
    unless the table states them (the fake groups do)."""
    from conformance.harness import registry
    envs = registry.load().envs
    data = tomllib.loads(Path(path or os.environ.get("CHANNELS_TABLE") or TABLE).read_text())
    groups = {}
    for name, spec in data["groups"].items():
        known = envs.get(name)
        if known is None and "framework" not in spec:
            raise ValueError(f"channel group {name!r} is no env of adapters/frameworks.toml and names no framework")
        defaults = {"framework": known.framework, "env": dict(known.env)} if known else {}
        groups[name] = Group(name=name, **{**defaults, **spec})
    return groups


def split_env(env_name: str, table: dict[str, Group] | None = None) -> tuple[Group, str]:
    """`keras-jax-previous` -> (the keras-jax group, "previous")."""
    table = table or load_table()
    group, _, channel = env_name.rpartition("-")
    if channel not in CHANNELS or group not in table:
        raise ValueError(f"{env_name!r} is not <group>-<channel> with group in {', '.join(table)} and channel in "
                         f"{', '.join(CHANNELS)}")
    return table[group], channel


def dist_name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0]


def extra_indexes(package: str, channel: str, environ=os.environ) -> list[str]:
    key = "CHANNELS_EXTRA_INDEX_" + re.sub(r"[^A-Za-z0-9]", "_", package).upper()
    urls = environ.get(key, "").split()
    if channel == "pre":
        urls += environ.get(key + "_PRE", "").split()
    return urls


def parse_versions(pip_output: str) -> list[Version]:
    """The versions of `pip index versions` output ("Available versions: 1.2, 1.1, ...")."""
    for line in pip_output.splitlines():
        if line.strip().startswith("Available versions:"):
            out = []
            for v in line.split(":", 1)[1].split(","):
                try:
                    out.append(Version(v.strip()))
                except InvalidVersion:
                    continue
            return sorted(set(out))
    return []


def pick(versions: list[Version], channel: str, cpu_local: str | None = None,
         current: Version | None = None) -> Version:
    """The channel's version among those the index has. Raises ChannelError when there is none, SameAsCurrent
    when the pre channel has nothing newer than `current`. With `cpu_local` only `+cpu_local` builds count."""
    if not cpu_local:
        return _pick(versions, channel, current)
    pool = [v for v in versions if v.local == cpu_local]
    others = sorted((v for v in versions if v.local != cpu_local), reverse=True)
    note = (f" (a Linux CPU run takes only +{cpu_local} builds; the indexes also have "
            f"{', '.join(map(str, others[:4]))}{' ...' if len(others) > 4 else ''}: CUDA builds)") if others else ""
    try:
        return _pick(pool, channel, current)
    except SameAsCurrent:
        newer = [v for v in others if current is not None and Version(v.public) > Version(current.public)]
        if newer:
            raise ChannelError(f"no +{cpu_local} build newer than {current}; the newest release, {max(newer)}, "
                               "is a CUDA build") from None
        raise
    except ChannelError as exc:
        raise ChannelError(exc.reason + note) from None


def _pick(versions: list[Version], channel: str, current: Version | None) -> Version:
    final = [v for v in versions if not v.is_prerelease]
    if channel == "pre":
        if not versions:
            raise ChannelError("no release on the configured indexes")
        best = max(versions)
        if current is not None and Version(best.public) <= Version(current.public):
            raise SameAsCurrent(str(best))
        return best
    if not final:
        raise ChannelError("no final release on the configured indexes")
    newest = max(final)
    if channel == "current":
        return newest
    older = [v for v in final if v.release[:2] < newest.release[:2]]
    if not older:
        raise ChannelError(f"no release of a minor before {newest.major}.{newest.minor}")
    return max(older)


def _pip(args: list[str], timeout: int = 1800) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, timeout=timeout)


# pip's notes about a configured find-links folder that is missing on this machine: one per package, they would push
# the lines that say why out of the tail
IGNORED_LOCATION = re.compile(r"^WARNING: Location '[^']*' is ignored")


def tail(proc: subprocess.CompletedProcess, n: int = PIP_TAIL) -> list[str]:
    lines = [ln for ln in (proc.stdout + "\n" + proc.stderr).splitlines()
             if ln.strip() and not IGNORED_LOCATION.match(ln)]
    return lines[-n:]


def index_versions(package: str, channel: str, environ=os.environ) -> tuple[list[Version], list[str]]:
    """The versions the index has (pre-releases included), and pip's last lines."""
    args = ["index", "versions", package, "--pre"]
    for url in extra_indexes(package, channel, environ):
        args += ["--extra-index-url", url]
    proc = _pip(args, timeout=300)
    found = parse_versions(proc.stdout)
    if proc.returncode != 0 or not found:
        raise ChannelError(f"pip index versions {package} found no version", tail(proc))
    return found, tail(proc, 6)


def cpu_filter(group: Group, device: str) -> str | None:
    return group.cpu_local if group.cpu_local and not device.startswith("gpu") and sys.platform == "linux" \
        and platform.machine() in ("x86_64", "AMD64") else None


def resolve(group: Group, channel: str, device: str = "cpu", environ=os.environ,
            table: dict[str, Group] | None = None) -> dict:
    """What the channel installs: {"requirements": [...], "pip_args": [...], "version": "0.9.2", "package": ...}.
    Raises ChannelError (not installable) or SameAsCurrent."""
    base = group.packages[0]
    names = group.install_names(device)
    cpu_local = cpu_filter(group, device)
    found, said = index_versions(base, "current", environ)
    try:
        current = pick(found, "current", cpu_local)
        package, version = base, current
        if channel == "pre":
            package = group.pre_package or base
            if package != base or extra_indexes(base, "pre", environ):
                found, said = index_versions(package, "pre", environ)
            version = pick(found, "pre", cpu_local if package == base else None,
                           current if package == base else None)
            if package != base:                      # tf-nightly[and-cuda] on a GPU run, as tensorflow[and-cuda]
                extras = re.search(r"\[[^\]]*\]", names[0])
                names = [package + (extras.group(0) if extras else "")] + names[1:]
        elif channel == "previous":
            version = pick(found, "previous", cpu_local)
    except ChannelError as exc:
        raise ChannelError(exc.reason, exc.tail or [f"$ pip index versions {package if channel == 'pre' else base}"
                                                    " --pre", *said]) from None
    requirements = [f"{names[0]}=={version}"] + names[1:]      # the others follow the first's own pins
    urls = extra_indexes(base, channel, environ) + (extra_indexes(package, channel, environ) if package != base
                                                    else [])
    if group.backend:                                # keras: the backend's current release alongside
        table = table or load_table()
        backend = resolve(table[group.backend], "current", device, environ, table)
        requirements += backend["requirements"]
        urls += backend["indexes"]
    urls = list(dict.fromkeys(urls))
    pip_args = ["-c", str(CONSTRAINTS)] + (["--pre"] if channel == "pre" else [])
    for url in urls:
        pip_args += ["--extra-index-url", url]
    return {"package": package, "version": str(version), "requirements": requirements, "pip_args": pip_args,
            "indexes": urls}


def check_not_cuda(requirements: list[str], pip_args: list[str], device: str, environ=os.environ) -> list[str]:
    """Resolve without installing (pip's dry run reads metadata only); refuse a CPU run that would pull CUDA
    libraries (GBs). Returns the distributions pip would install. Raises ChannelError."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        # not --quiet: it would hide pip's "The conflict is caused by: ... depends on ..." lines, the reason
        proc = _pip(["install", "--dry-run", "--ignore-installed", "--report", str(report),
                     *pip_args, *requirements])
        if proc.returncode != 0 or not report.exists():
            raise ChannelError(f"pip cannot resolve {' '.join(requirements)}", tail(proc))
        names = [i["metadata"]["name"] for i in json.loads(report.read_text()).get("install", [])]
    cuda = sorted(n for n in names if CUDA_DIST.match(n))
    if cuda and not device.startswith("gpu") and environ.get("CHANNELS_ALLOW_CUDA") != "1":
        raise ChannelError(f"a CUDA build: pip would install {len(cuda)} CUDA packages ({', '.join(cuda[:4])}"
                           f"{' ...' if len(cuda) > 4 else ''}), GBs a CPU run does not need; "
                           "CHANNELS_ALLOW_CUDA=1 allows it", [f"would install: {', '.join(sorted(names))}"])
    return names


def install(requirements: list[str], pip_args: list[str]) -> list[str]:
    """pip install; returns pip's last lines. Raises ChannelError with them on failure."""
    proc = _pip(["install", "--disable-pip-version-check", *pip_args, *requirements])
    if proc.returncode != 0:
        raise ChannelError(f"pip install {' '.join(requirements)} failed (exit {proc.returncode})", tail(proc))
    return [ln for ln in proc.stdout.splitlines() if ln.strip()][-3:]


def installed_versions(names: list[str]) -> dict[str, str]:
    from importlib import metadata

    out = {}
    for n in [dist_name(x) for x in names] + ["numpy"]:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            continue
    return out
