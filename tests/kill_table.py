"""The mutation kill table: run every mutant of tests/mutant_adapter.py through the plugin in one child pytest,
with no expected divergence that states a mutant's behaviour, and print which property killed which mutant.

    python -m tests.kill_table [--profile ci] [--records FILE]

`--records FILE` prints the table from the records of an earlier mutant run instead of running one. Columns:
the mutant; every (property: kind) that failed on it, the asserted one (tests/test_mutants.py, KILLS) first;
how many examples that property judged on the mutant before its first divergence; the final (shrunk) failing
configuration Hypothesis reported for it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from conformance.core.spec import Conv
from conformance.harness import records as records_mod
from tests.mutant_adapter import MUTANTS, surface_id
from tests.plugin_runs import PluginRun, run_plugin

PROPERTIES = ("shapes", "values", "refusals")


# Entries that cover two mutants' bugs but state another behaviour: they must excuse nothing (tests/test_mutants.py).
# A wide value entry over every case of `wrong-values` that states a different wrong computation, and an entry over
# the very calls `refuse-valid` refuses that names the wrong exception.
MISSTATED_ENTRIES = '''
[[divergence]]
id = "wide-value-entry-with-another-model"
surface = "fake:mutant/wrong-values"
when = "True"
kind = "value"
reason = "states that the values are the kernel read with its channel axes swapped; the mutant adds 1e-3 instead"
behaviour = { model = "kernel-channels-swapped" }

[[divergence]]
id = "refusal-entry-naming-the-wrong-exception"
surface = "fake:mutant/refuse-valid"
when = "3 in stride and length is not None"
kind = "error-vs-result"
reason = "states NotImplementedError; the mutant raises ValueError"
behaviour = { raises = "NotImplementedError", message = "stride 3" }
'''


def run_mutants(workdir: Path, profile: str = "ci") -> PluginRun:
    """One child pytest over every mutant surface, nothing excused: the expectations file holds only the
    MISSTATED_ENTRIES, which cover two mutants' bugs with statements of another behaviour."""
    expectations = workdir / "misstated_expected_divergences.toml"
    expectations.write_text("# entries that state another behaviour than the mutants': they excuse nothing\n"
                            + MISSTATED_ENTRIES)
    return run_plugin(workdir, "--expectations", str(expectations), profile=profile,
                      env={"CONFORMANCE_ADAPTERS": "fake=tests.mutant_adapter"})


def by_surface(records: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        out[r["surface"]].append(r)
    return out


def kills(surface_records: list[dict]) -> dict[str, list[str]]:
    """property -> the divergence kinds it failed on (in order of first appearance)."""
    out: dict[str, list[str]] = {}
    for r in surface_records:
        if r["status"] == "divergence" and r["kind"] not in out.setdefault(r["property"], []):
            out[r["property"]].append(r["kind"])
    return {p: k for p, k in out.items() if k}


def examples_before_first_kill(surface_records: list[dict], prop: str) -> int | None:
    """Records of `prop` on the surface before its first divergence; None if it never diverged."""
    n = 0
    for r in surface_records:
        if r["property"] != prop:
            continue
        if r["status"] == "divergence":
            return n
        n += 1
    return None


def final_kill(surface_records: list[dict], prop: str) -> dict | None:
    """The final (shrunk) failing record of `prop`; the last failing one if none is marked final."""
    failing = [r for r in surface_records if r["property"] == prop and r["status"] == "divergence"]
    final = [r for r in failing if r.get("final", True)]
    return (final or failing or [None])[-1]


def describe_config(record: dict) -> str:
    params = ", ".join(f"{k}={v}" for k, v in record["params"].items())
    return f"{Conv(**record['config'])} {record['dtype']}; {params}"


def describe_surface(surface_records: list[dict]) -> str:
    """What the records show for one surface: counts per property, status and kind."""
    counts: dict[tuple, int] = defaultdict(int)
    for r in surface_records:
        counts[(r["property"], r["status"], r["kind"])] += 1
    if not counts:
        return "no records"
    return "; ".join(f"{p} {s}{'/' + k if k else ''}: {n}" for (p, s, k), n in sorted(counts.items(), key=str))


def table(records: list[dict], asserted: dict[str, tuple[str, str]]) -> str:
    grouped = by_surface(records)
    lines = ["| mutant | killed by (property: kind) | examples until first kill | final failing config |",
             "|---|---|---|---|"]
    for mutant in MUTANTS:
        recs = grouped.get(surface_id(mutant), [])
        killed = kills(recs)
        if not killed:
            lines.append(f"| {mutant} | not killed ({len(recs)} cases) | - | - |")
            continue
        want = asserted.get(mutant, (None, None))[0]
        order = sorted(killed, key=lambda p: (p != want, PROPERTIES.index(p) if p in PROPERTIES else 99))
        cells = [f"{p}: {', '.join(killed[p])}" for p in order]
        main = order[0]
        label = f"**{cells[0]}**" + (f" (also {'; '.join(cells[1:])})" if cells[1:] else "")
        final = final_kill(recs, main)
        lines.append(f"| {mutant} | {label} | {examples_before_first_kill(recs, main)} | "
                     f"`{describe_config(final)}` |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.kill_table", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="ci", choices=("dev", "ci", "nightly"))
    parser.add_argument("--records", help="print the table from this records file instead of running the mutants")
    args = parser.parse_args(argv)
    from tests.test_mutants import KILLS
    if args.records:
        recs = records_mod.read(args.records)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            run = run_mutants(Path(tmp), args.profile)
            if not run.records.exists():
                print(run.output[-3000:], file=sys.stderr)
                return 2
            recs = records_mod.read(run.records)
    print(f"mutation kill table, {args.profile} profile, no expected divergences")
    print()
    print(table(recs, KILLS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
