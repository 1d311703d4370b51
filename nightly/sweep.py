"""`python -m nightly sweep [GROUP...]`: the suite on each of a framework's last releases, to date every divergence.

Nightly CI learns history one night at a time; a sweep answers "since which release, and is it fixed?" today. For
each group (nightly/channels.toml; default: every group with a `sweep` field) the sweep lists the releases the
index has, keeps the newest patch of each of the last `sweep` minor releases ("all": every minor), and per release:

  1. resolves the install (the framework at that release; a Keras group's backend at its current release, as the
     channels do) and refuses a CUDA build on a CPU run before downloading it (pip's dry run, metadata only);
  2. installs it into its own venv under --venvs (default: the user's cache folder, so a fresh clone on the same
     machine reuses them, as pip's cache serves its installs), with the test tooling pinned by
     nightly/constraints.txt; a venv whose install record matches is reused as it is;
  3. runs the conformance suite with the same profile (default ci: derandomized, no example database) and seed for
     every release, so the differences between releases come from the framework.

A release that does not install or whose adapter does not load is recorded as such, with the reason and pip's
last lines; it never stops the sweep. Outputs, in --records-dir (default reports/records/sweep):

  <group>-<version>.jsonl         the release's records
  <group>-<version>.sweep.json    its manifest: requirements, installed versions, status, install/run seconds
  <group>-<version>.log           the suite's output
  history.json                    the releases folded into a history (reports.history), oldest release first
  timeline.txt                    per divergence signature: the releases it was seen in, where it appeared and
                                  disappeared, its entry (= python -m reports history show history.json)
  index.html                      the HTML report of every release, with the timeline section

Exit 0 when every release ran (the suite's verdicts are data here: an old release's divergences are what a sweep
is for) or was recorded as not installable; 1 when a suite run itself broke (pytest exit other than 0 or 1);
2 on bad usage.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from reports import atomic, history, load

from . import channels
from .run import adapter_info

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = ROOT / "reports" / "records" / "sweep"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "transposed-conv-conformance"
DEFAULT_VENVS = CACHE / "sweep"
MANIFEST = ".sweep.json"
INSTALL_RECORD = "sweep-install.json"
RUN_ENV = {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}


@dataclass
class Release:
    group: channels.Group
    version: str
    requirements: list[str] = field(default_factory=list)
    pip_args: list[str] = field(default_factory=list)
    fallbacks: list[list[str]] = field(default_factory=list)   # the same with an older backend, newest first

    @property
    def stem(self) -> str:
        return f"{self.group.name}-{self.version}"


def newest_per_minor(versions: list[channels.Version], last: int | None,
                     cpu_local: str | None = None) -> list[channels.Version]:
    """The newest final release of each minor (major.minor of the public version), the last `last` minors (None:
    all), oldest first. With `cpu_local`, a minor's `+cpu_local` builds win over its other builds (the CPU wheels
    of a framework whose plain Linux wheels are CUDA builds); otherwise a plain release wins over a local build (a
    GPU run takes 2.13.0, not 2.13.0+cpu); a minor without a +cpu build keeps its newest plain release,
    which the install step's dry run then refuses if it is a CUDA build (recorded as not installable)."""
    by_minor: dict[tuple, list] = {}
    for v in versions:
        if v.is_prerelease or v.is_devrelease:
            continue
        by_minor.setdefault(v.release[:2], []).append(v)
    picked = []
    for minor in sorted(by_minor):
        pool = by_minor[minor]
        local = [v for v in pool if cpu_local and v.local == cpu_local]
        plain = [v for v in pool if v.local is None]
        picked.append(max(local or plain or pool))
    return picked[-last:] if last else picked


def sweep_size(group: channels.Group, override: int | None) -> int | None:
    """How many minor releases to sweep: --last, else the group's `sweep` field (an int, or "all"; a group
    without one: its current minor only)."""
    if override is not None:
        return override
    if group.sweep is None:
        return 1
    return None if group.sweep == "all" else int(group.sweep)


def plan(group: channels.Group, last: int | None, device: str, table: dict, environ=os.environ) -> list[Release]:
    """The releases to sweep with what each installs. Raises ChannelError when the index lists no version."""
    base = group.packages[0]
    found, _ = channels.index_versions(base, "current", environ)
    cpu_local = channels.cpu_filter(group, device)
    names = group.install_names(device)
    backend = (channels.resolve(table[group.backend], "current", device, environ, table) if group.backend else None)
    urls = channels.extra_indexes(base, "current", environ) + (backend["indexes"] if backend else [])
    pip_args = ["-c", str(channels.CONSTRAINTS)]
    for url in dict.fromkeys(urls):
        pip_args += ["--extra-index-url", url]
    older = older_backends(table[group.backend], backend["version"], device, environ) if backend else []
    out = []
    for v in newest_per_minor(found, last, cpu_local):
        reqs = [f"{names[0]}=={v}", *names[1:]]
        out.append(Release(group, str(v), reqs + (backend["requirements"] if backend else []), pip_args,
                           [reqs + b for b in older]))
    return out


BACKEND_FALLBACKS = 2


def older_backends(group: channels.Group, current: str, device: str, environ=os.environ) -> list[list[str]]:
    """The requirements of the backend's newest releases of the BACKEND_FALLBACKS minors before `current`, newest
    first: a Keras release that the backend's current release refuses (tensorflow-cpu 2.21.0 depends on
    keras>=3.12.0) runs on the newest backend release that installs with it, as its users would run it."""
    found, _ = channels.index_versions(group.packages[0], "current", environ)
    names = group.install_names(device)
    now = channels.Version(current)
    before = [v for v in newest_per_minor(found, None, channels.cpu_filter(group, device))
              if v.release[:2] < now.release[:2]]
    return [[f"{names[0]}=={v}", *names[1:]] for v in reversed(before[-BACKEND_FALLBACKS:])]


def resolvable(rel: Release, device: str) -> tuple[list[str], str]:
    """The first of the release's requirement sets that pip resolves without a CUDA build (the current backend,
    then older ones), and a note when it is not the first. Raises the first set's ChannelError when none does, or
    a CUDA refusal at once."""
    first = None
    for reqs in [rel.requirements, *rel.fallbacks]:
        try:
            channels.check_not_cuda(reqs, rel.pip_args, device)
        except channels.ChannelError as exc:
            if not exc.reason.startswith("pip cannot resolve"):
                raise
            first = first or exc
            continue
        note = "" if reqs is rel.requirements else (
            f"{' '.join(rel.requirements)} does not resolve ({_conflict(first)}); ran with {' '.join(reqs)}")
        return reqs, note
    conflict = _conflict(first)
    raise channels.ChannelError(first.reason + (f" ({conflict})" if conflict != first.reason else ""), first.tail)


def _conflict(exc: channels.ChannelError) -> str:
    """pip's own words for a conflict ("tensorflow-cpu 2.21.0 depends on keras>=3.12.0"), else its reason."""
    said = [ln.strip() for ln in exc.tail if " depends on " in ln]
    return "; ".join(said) or exc.reason


def tooling() -> list[str]:
    """The test tooling every venv gets: nightly/constraints.txt's pins (the same as pyproject.toml's groups)."""
    return [ln.strip() for ln in channels.CONSTRAINTS.read_text().splitlines()
            if ln.strip() and not ln.lstrip().startswith("#")]


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _run(cmd: list, timeout: int, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)


def inherited_paths() -> list[str]:
    """The sweep's own site-packages, for --inherit-site venvs."""
    paths = sysconfig.get_paths()
    return list(dict.fromkeys([paths["purelib"], paths["platlib"]]))


def ensure_venv(rel: Release, venvs: Path, inherit: bool = False) -> tuple[Path, bool, list[str]]:
    """The release's venv, installed; (venv, reused, pip's last lines). Raises ChannelError. With `inherit`, the
    venv sees the sweep's own site-packages after its own (a .pth file), so only the framework is installed: the
    test tooling comes from the sweep's environment (an offline machine; the self-test)."""
    venv = venvs / rel.stem
    tools = [] if inherit else tooling()
    # the constraints file by name, not by this checkout's path: its pins are in "tooling" (when installed), and a
    # fresh clone elsewhere on the machine must find the same record
    args = [channels.CONSTRAINTS.name if a == str(channels.CONSTRAINTS) else a for a in rel.pip_args]
    want = {"python": sys.version.split()[0], "requirements": rel.requirements, "pip_args": args,
            "tooling": tools, "inherit": inherited_paths() if inherit else []}
    record = venv / INSTALL_RECORD
    if record.exists() and venv_python(venv).exists():
        try:
            if json.loads(record.read_text()) == want:
                return venv, True, []
        except (OSError, json.JSONDecodeError):
            pass
    shutil.rmtree(venv, ignore_errors=True)
    venvs.mkdir(parents=True, exist_ok=True)
    proc = _run([sys.executable, "-m", "venv", venv], 600)
    if proc.returncode != 0:
        raise channels.ChannelError(f"python -m venv {venv} failed", channels.tail(proc))
    if inherit:
        purelib = _run([venv_python(venv), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], 60)
        Path(purelib.stdout.strip(), "_sweep_inherit.pth").write_text("\n".join(want["inherit"]) + "\n")
    proc = _run([venv_python(venv), "-m", "pip", "install", "--disable-pip-version-check", *rel.pip_args,
                 *tools, *rel.requirements], 3600)
    if proc.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        raise channels.ChannelError(f"pip install {' '.join(rel.requirements)} failed (exit {proc.returncode})",
                                    channels.tail(proc))
    atomic.write_text(record, json.dumps(want, indent=1) + "\n")
    return venv, False, [ln for ln in proc.stdout.splitlines() if ln.strip()][-3:]


def installed_versions(python: Path, names: list[str]) -> dict[str, str]:
    code = ("import json, sys\nfrom importlib import metadata\nout = {}\n"
            "for n in sys.argv[1:]:\n    try:\n        out[n] = metadata.version(n)\n"
            "    except metadata.PackageNotFoundError:\n        pass\nprint(json.dumps(out))\n")
    proc = _run([python, "-c", code, *[channels.dist_name(n) for n in names], "numpy"], 120)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {}


def run_release(rel: Release, args, table: dict) -> dict:
    """Install and run one release; returns (and writes) its manifest."""
    out: Path = args.records_dir
    records, log = out / f"{rel.stem}.jsonl", out / f"{rel.stem}.log"
    records.unlink(missing_ok=True)
    m = {"group": rel.group.name, "framework": rel.group.framework, "release": rel.version,
         "device": args.device, "profile": args.profile, "requirements": rel.requirements,
         "pip_args": rel.pip_args, "started": time.time(), "python": sys.version.split()[0]}

    def finish(status: str, **extra) -> dict:
        m.update(status=status, finished=time.time(), **extra)
        atomic.write_text(out / f"{rel.stem}{MANIFEST}", json.dumps(m, indent=1, sort_keys=True) + "\n")
        say(f"{rel.stem}: {status}" + (f": {m['reason']}" if m.get("reason") else "")
            + (f" (install {m['install_s']:.0f} s{', reused' if m.get('reused') else ''}, run {m['run_s']:.0f} s, "
               f"{m['records_count']} records, {m['divergences']} divergent cases, pytest exit {m['pytest_exit']})"
               if "run_s" in m else ""))
        return m

    t0 = time.perf_counter()
    try:
        rel.requirements, backend_note = resolvable(rel, args.device)
        m["requirements"] = rel.requirements
        if backend_note:
            m["backend_note"] = backend_note
            say(f"{rel.stem}: {backend_note}")
        venv, reused, said = ensure_venv(rel, args.venvs, args.inherit_site)
    except channels.ChannelError as exc:
        return finish("not installable", reason=exc.reason, pip_tail=exc.tail)
    except subprocess.TimeoutExpired as exc:
        return finish("not installable", reason=f"the install took over {exc.timeout:.0f} s")
    m.update(install_s=round(time.perf_counter() - t0, 1), reused=reused, venv=str(venv), pip_tail=said)
    python = venv_python(venv)
    names = rel.group.install_names(args.device) + (
        table[rel.group.backend].install_names(args.device) if rel.group.backend else [])
    m["installed"] = installed_versions(python, names)
    run_id = f"sweep-{rel.stem}.{args.device}"
    env = {**os.environ, **RUN_ENV, **rel.group.env, "CONFORMANCE_PROFILE": args.profile,
           "CONFORMANCE_RUN_ID": run_id}
    env.pop("PYTHONPATH", None)
    if "jax" in (rel.group.framework, rel.group.backend, *rel.group.packages):
        env.setdefault("JAX_COMPILATION_CACHE_DIR", str(CACHE / "jax" / f"sweep-{rel.stem}"))
        env.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
        env.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")
    info, said = adapter_info(rel.group.framework, env, python)
    if info is None:
        return finish("not importable", reason="installed, but the framework's adapter does not load",
                      pip_tail=said, install_s=m["install_s"])
    m.update(version=info["version"], adapter=info["name"])
    cmd = [python, "-m", "pytest", "suites", "--framework", rel.group.framework, "--device", args.device,
           "--records", records, "-p", "no:cacheprovider", "-q", *args.pytest_args]
    t1 = time.perf_counter()
    with log.open("w") as fh:
        code = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT).returncode
    recs = load.load([records]).records if records.exists() else []
    return finish("installed",
                  run_s=round(time.perf_counter() - t1, 1), pytest_exit=code, records=records.name,
                  records_count=len(recs), divergences=sum(history.is_divergence(r) for r in recs),
                  log=log.name)


def say(text: str) -> None:
    print(f"sweep: {text}", flush=True)


def fold(records_dir: Path, manifests: list[dict]) -> dict:
    """A history of the sweep alone: each framework's releases folded in oldest first (reports.history); the
    releases that did not run are marked unavailable, with the reason, under the adapter's name (the records'
    `framework`, which another release of the group reported; the group's framework when none ran)."""
    hist = history.empty()
    names = {m["group"]: m["adapter"] for m in manifests if m.get("adapter")}
    for m in sorted(manifests, key=lambda m: (m["group"], history.version_key(m.get("version") or m["release"]))):
        recs = load.load([records_dir / m["records"]]).records if m.get("records") and \
            (records_dir / m["records"]).exists() else []
        if recs:
            history.update(hist, recs, f"sweep {m['group']} {m['release']}", when=m.get("finished"))
            continue
        status = m.get("status", "not run")
        reason = (f"the suite wrote no records (pytest exit {m.get('pytest_exit')})" if status == "installed"
                  else f"{status}: {m.get('reason') or 'no reason recorded'}")
        history.mark_unavailable(hist, names.get(m["group"], m["framework"]), m["release"], reason)
    return hist


def read_manifests(records_dir: Path) -> list[dict]:
    out = []
    for p in sorted(records_dir.glob(f"*{MANIFEST}")):
        try:
            out.append(json.loads(p.read_text()))
        except (OSError, json.JSONDecodeError):
            continue
    return out


def releases_text(manifests: list[dict]) -> str:
    lines = ["release                         status            install   run      records  divergent  pytest"]
    for m in sorted(manifests, key=lambda m: (m["group"], history.version_key(m["release"]))):
        run = f"{m['run_s']:>6.0f} s" if "run_s" in m else "     -  "
        inst = f"{m['install_s']:>6.0f} s" if "install_s" in m else "     -  "
        lines.append(f"{m['group'] + ' ' + m['release']:<31} {m['status']:<17} {inst}  {run}  "
                     f"{m.get('records_count', '-'):>7}  {m.get('divergences', '-'):>9}  {m.get('pytest_exit', '-')}"
                     + (f"\n    {m['reason']}" if m.get("reason") else ""))
    return "\n".join(lines)


def register(sub) -> None:
    p = sub.add_parser("sweep", help="run the suite on each of a framework's last releases; date every divergence")
    p.add_argument("groups", nargs="*", help="groups of nightly/channels.toml (default: every group with `sweep`)")
    p.add_argument("--last", type=int, help="the last N minor releases (default: the group's `sweep` field)")
    p.add_argument("--records-dir", type=Path, default=DEFAULT_DIR)
    p.add_argument("--venvs", type=Path, default=Path(os.environ.get("SWEEP_VENVS") or DEFAULT_VENVS),
                   help=f"where the releases' venvs are kept (default {DEFAULT_VENVS})")
    p.add_argument("--profile", default=os.environ.get("CONFORMANCE_PROFILE", "ci"),
                   help="the suite's profile, the same for every release (default ci)")
    p.add_argument("--device", default=os.environ.get("CHANNELS_DEVICE", "cpu"))
    p.add_argument("--jobs", type=int, default=max(1, min(2, os.cpu_count() or 1)),
                   help="releases installed and run at once")
    p.add_argument("--inherit-site", action="store_true",
                   help="venvs see this Python's packages (the test tooling) and install only the framework")
    p.add_argument("--plan", action="store_true", help="print the releases and what each installs; install nothing")
    p.add_argument("--no-run", action="store_true",
                   help="run nothing: fold the records already in --records-dir into the history and report")
    p.add_argument("--pytest-args", default="", type=shlex.split,
                   help="extra pytest options for every release, one string: --pytest-args='-k test_shapes'")
    p.set_defaults(func=main)


def main(args) -> int:
    table = channels.load_table()
    names = args.groups or [n for n, g in table.items() if g.sweep is not None]
    unknown = [n for n in names if n not in table]
    if unknown:
        print(f"error: no group {', '.join(unknown)} in nightly/channels.toml (groups: {', '.join(table)})",
              file=sys.stderr)
        return 2
    out: Path = args.records_dir
    out.mkdir(parents=True, exist_ok=True)
    broken = []
    if not args.no_run:
        releases: list[Release] = []
        for n in names:
            g = table[n]
            try:
                rels = plan(g, sweep_size(g, args.last), args.device, table)
            except channels.ChannelError as exc:
                say(f"{n}: cannot list releases: {exc.reason}")
                continue
            say(f"{n}: {len(rels)} releases: {', '.join(r.version for r in rels)}")
            releases += rels
        if args.plan:
            for r in releases:
                print(f"{r.stem}: pip install {' '.join(r.pip_args + r.requirements)}")
            return 0
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            done = list(pool.map(lambda r: run_release(r, args, table), releases))
        broken = [m for m in done if m.get("pytest_exit") not in (None, 0, 1)]
    manifests = [m for m in read_manifests(out) if m["group"] in names]
    hist = fold(out, manifests)
    history.write(out / "history.json", hist)
    text = releases_text(manifests) + "\n\n" + history.timeline_text(hist)
    atomic.write_text(out / "timeline.txt", text + "\n")
    print(text)
    from reports import build  # jinja2: only the report step needs it
    ran = [out / m["records"] for m in manifests if m.get("records") and (out / m["records"]).exists()]
    page = build.build(ran, out / "index.html", history_data=hist)
    print(f"sweep: report written to {page.resolve()}; history {out / 'history.json'}; timeline {out / 'timeline.txt'}")
    for m in broken:
        print(f"sweep: {m['group']} {m['release']}: the suite itself broke (pytest exit {m['pytest_exit']}); "
              f"see {out / m['log']}", file=sys.stderr)
    return 1 if broken else 0
