"""`python -m nightly run ENV [PYTEST ARGS...]`: one release channel, in the current Python environment (a tox env).

ENV is `<group>-<channel>` (nightly/channels.toml). Resolves the channel's version, refuses a CUDA build on a CPU
run, installs it with pip under nightly/constraints.txt, checks that the adapter loads, runs the conformance
suite on it and writes, into the records folder (default reports/records/channels):

  <env>.<device>.jsonl          the records, as every run writes them
  <env>.<device>.channel.json   the manifest (reports/channels.py): versions, or "not installable" with pip's
                                last lines, or "same as current" (a pre channel with nothing newer)

Environment: CHANNELS_DEVICE (cpu, gpu, ...; default cpu), CHANNELS_RUN (a label for the run ids, e.g. the
nightly's run number), CHANNELS_ALLOW_CUDA=1, CHANNELS_EXTRA_INDEX_<PACKAGE>[_PRE] (channels.toml).
Exit: pytest's status when the suite ran; 0 when the channel is not installable or has nothing to run (the
manifest says so: a matrix goes on); 2 on bad usage.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from reports import channels as manifest_io

from . import channels

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = ROOT / "reports" / "records" / "channels"


def register(sub) -> None:
    p = sub.add_parser("run", help="install one release channel and run the conformance suite on it")
    p.add_argument("env", help="<group>-<channel>, e.g. jax-previous (nightly/channels.toml)")
    p.add_argument("--records-dir", type=Path, default=DEFAULT_DIR)
    p.add_argument("--device", default=os.environ.get("CHANNELS_DEVICE", "cpu"))
    p.add_argument("--no-install", action="store_true", help="run on what is installed (no pip)")
    p.add_argument("pytest_args", nargs="*", help="extra pytest options (after --)")
    p.set_defaults(func=main)


def announce(text: str, level: str = "warning") -> None:
    print(f"nightly: {text}", flush=True)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        print(f"::{level}::{text}", flush=True)


def adapter_info(framework: str, env: dict, python: str | Path = sys.executable) -> tuple[dict | None, list[str]]:
    """Load the adapter in a child Python (`python`: the fresh install, with the run's environment): name and
    version, or None and the child's last lines."""
    code = ("import json, adapters\n"
            f"a = adapters.load({framework!r})\n"
            "print(json.dumps({'name': a.name, 'version': a.version}))\n")
    proc = subprocess.run([str(python), "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    if proc.returncode == 0:
        try:
            return json.loads(proc.stdout.strip().splitlines()[-1]), []
        except (IndexError, json.JSONDecodeError):
            pass
    return None, channels.tail(proc)


def main(args) -> int:
    try:
        group, channel = channels.split_env(args.env)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stem = f"{args.env}.{args.device}"
    out_dir = args.records_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    records = out_dir / f"{stem}.jsonl"
    mpath = out_dir / f"{stem}{manifest_io.SUFFIX}"
    records.unlink(missing_ok=True)
    profile = os.environ.get("CONFORMANCE_PROFILE", "dev")
    run_id = f"{os.environ.get('CHANNELS_RUN') or time.strftime('%Y%m%dT%H%M%S')}-{stem}"
    m = {"env": args.env, "group": group.name, "channel": channel, "device": args.device,
         "framework": group.framework, "profile": profile, "run_id": run_id, "started": time.time(),
         "python": sys.version.split()[0]}

    def finish(status: str, code: int, **extra) -> int:
        m.update(status=status, finished=time.time(), **extra)
        manifest_io.write(mpath, m)
        return code

    if args.no_install:
        m.update(requirements=[], pip_args=[])
    else:
        try:
            resolved = channels.resolve(group, channel, args.device)
        except channels.SameAsCurrent as exc:
            announce(f"{args.env}: the newest pre-release ({exc}) is not newer than the current release; nothing to "
                     "run", "notice")
            return finish("same as current", 0, reason=f"no pre-release newer than the current release ({exc})",
                          installed={group.packages[0]: str(exc)})
        except channels.ChannelError as exc:
            announce(f"{args.env}: not installable: {exc.reason}")
            return finish("not installable", 0, reason=exc.reason, pip_tail=exc.tail)
        m.update(requirements=resolved["requirements"], pip_args=resolved["pip_args"])
        print(f"nightly: {args.env}: pip install {' '.join(resolved['pip_args'] + resolved['requirements'])}",
              flush=True)
        try:
            channels.check_not_cuda(resolved["requirements"], resolved["pip_args"], args.device)
            m["pip_tail"] = channels.install(resolved["requirements"], resolved["pip_args"])
        except channels.ChannelError as exc:
            announce(f"{args.env}: not installable: {exc.reason}")
            return finish("not installable", 0, reason=exc.reason, pip_tail=exc.tail)
    names = group.install_names(args.device) + (
        channels.load_table()[group.backend].install_names(args.device) if group.backend else [])
    m["installed"] = channels.installed_versions(names)
    env = {**os.environ, **group.env, "CONFORMANCE_RUN_ID": run_id}
    info, said = adapter_info(group.framework, env)
    if info is None:
        announce(f"{args.env}: installed, but the adapter does not load")
        return finish("not importable", 0, reason="installed, but the framework's adapter does not load",
                      pip_tail=said)
    m["version"] = info["version"]
    cmd = [sys.executable, "-m", "pytest", "suites", "--framework", group.framework, "--device", args.device,
           "--records", str(records), *args.pytest_args]
    print(f"nightly: {args.env}: {info['name']} {info['version']}: {' '.join(cmd[1:])}", flush=True)
    code = subprocess.run(cmd, cwd=ROOT, env=env).returncode
    count = sum(1 for line in records.open() if line.strip()) if records.exists() else 0
    return finish(manifest_io.INSTALLED, code, pytest_exit=code, records=records.name, records_count=count)
