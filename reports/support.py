"""The support matrix: per API surface (and framework version), dtype x device (x mode), what the records show.

A cell holds the surface's cases in that dtype, on that device, in that mode, from every property except the fault
injections (a record with a `fault`: the error catalogue and the robustness property call with arguments the docs
refuse on purpose, so what they do says nothing about the dtype). Its state, from the records alone:

  works     documented and works: the cases conform (results as documented; documented refusals allowed)
  refuses   no case returned a documented result and every one refused: as documented, or raising where the docs
            accept (an expected divergence whose call raised)
  diverges  a divergence: any new one, or an expected (or elsewhere-judged) one that is not a refusal
  not run   no case: the dtype, device or mode did not run on this surface

A new divergence always makes the cell `diverges`, whatever else it holds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

DTYPES = ("float16", "bfloat16", "float32", "float64")          # the schema's dtypes, the rows' order
STATES = ("works", "refuses", "diverges", "not run")
STATE_WORDS = {"works": "documented and works", "refuses": "refuses", "diverges": "diverges", "not run": "not run"}
# a record's outcome in a cell, and how the cell's text names it (in this order)
OUTCOME_WORDS = {"new": "new", "expected": "expected", "other": "judged elsewhere", "conforms": "as documented",
                 "refused": "refused as documented", "refused-known": "refuses (expected divergence)"}


def outcome(r: dict) -> str:
    """conforms, refused (as documented), refused-known (raised where the docs accept, an expected divergence), new,
    expected or other."""
    if r.get("verdict") != "divergence":
        return "refused" if r.get("verdict") == "refused" else "conforms"
    status = r.get("status")
    if status == "divergence":
        return "new"
    if "error" in (r.get("actual") or {}) and r.get("kind") != "crash":
        return "refused-known"
    return "expected" if status == "expected" else "other"


@dataclass
class Cell:
    counts: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def state(self) -> str:
        c = self.counts
        if not self.total:
            return "not run"
        if c["new"]:
            return "diverges"
        if not c["conforms"] and c["refused"] + c["refused-known"] == self.total:
            return "refuses"
        if c["expected"] or c["other"] or c["refused-known"]:
            return "diverges"
        return "works"

    @property
    def words(self) -> str:
        return STATE_WORDS[self.state]

    def parts(self) -> list[tuple[str, int]]:
        """(what, count) in OUTCOME_WORDS' order, zero counts left out."""
        return [(words, self.counts[name]) for name, words in OUTCOME_WORDS.items() if self.counts[name]]


@dataclass
class Table:
    surface: str
    version: str
    label: str                              # the surface, with its version when the records hold several
    dtypes: list[str]
    columns: list[tuple[str, str]]          # (device, mode)
    cells: dict[tuple[str, str, str], Cell]  # (dtype, device, mode) -> cell

    def cell(self, dtype: str, column: tuple[str, str]) -> Cell:
        return self.cells.get((dtype, *column)) or Cell()

    @property
    def modes(self) -> bool:
        """Whether the columns need a mode (some case ran in a mode other than eager)."""
        return any(mode != "eager" for _, mode in self.columns)


def build(records: list[dict]) -> list[Table]:
    """One table per surface and version. Rows: the four dtypes, and any other the records name; columns: every device
    any record ran on (so a surface that did not run on a device shows it as not run), times this surface's modes."""
    used = [r for r in records if not r.get("fault")]
    devices = sorted({str(r.get("device")) for r in used}, key=lambda d: (d != "cpu", d))
    extra_dtypes = sorted({str(r.get("dtype")) for r in used} - set(DTYPES))
    versions: dict[str, set] = defaultdict(set)
    cells: dict[tuple[str, str], dict] = defaultdict(lambda: defaultdict(Cell))
    modes: dict[tuple[str, str], set] = defaultdict(set)
    for r in used:
        key = (str(r.get("surface")), str(r.get("version")))
        versions[key[0]].add(key[1])
        mode = str(r.get("mode") or "eager")
        modes[key].add(mode)
        cells[key][(str(r.get("dtype")), str(r.get("device")), mode)].counts[outcome(r)] += 1
    out = []
    for surface, version in sorted(cells):
        key = (surface, version)
        ordered = sorted(modes[key], key=lambda m: (m != "eager", m))
        out.append(Table(surface, version, surface if len(versions[surface]) == 1 else f"{surface} [{version}]",
                         list(DTYPES) + extra_dtypes, [(d, m) for d in devices for m in ordered], dict(cells[key])))
    return out
