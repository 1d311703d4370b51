"""The conformance matrix: per surface (and framework version) and property, how many cases ended how.

Outcomes, one per record:
  pass      the call did what its docs say               refused   it refused, as its docs say
  expected  a divergence an expected-divergences entry covers
  new       a divergence no entry covers (the property fails)
  other     a divergence this property does not judge (another property asserts it)
  crash     the process making the call died (expected or not: the cell says which)
  skipped   no record: the surface ran, this property did not (deselected, or its framework was absent there)
A cell's state is its worst outcome: new, crash, expected, other, then pass.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from .signature import slug

PROPERTY_ORDER = ("shapes", "values", "refusals", "portable")
OUTCOME_ORDER = ("new", "crash", "expected", "other", "refused", "pass")
OUTCOME_WORDS = {"new": "new divergence", "crash": "crash", "expected": "expected divergence",
                 "other": "judged elsewhere", "refused": "refused as documented", "pass": "as documented",
                 "skipped": "skipped"}


def outcome(r: dict) -> str:
    if r.get("kind") == "crash" and r.get("verdict") == "divergence":
        return "crash"
    status = r.get("status")
    if status == "divergence":
        return "new"
    if status in ("expected", "other"):
        return status
    return "refused" if r.get("verdict") == "refused" else "pass"


@dataclass
class Cell:
    counts: Counter = field(default_factory=Counter)
    new_crashes: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def state(self) -> str:
        if not self.total:
            return "skipped"
        if self.counts["new"] or self.new_crashes:
            return "new"
        for name in ("crash", "expected", "other"):
            if self.counts[name]:
                return name
        return "pass"

    def parts(self) -> list[tuple[str, int]]:
        """(outcome, count) in the legend's order, zero counts left out."""
        return [(name, self.counts[name]) for name in OUTCOME_ORDER if self.counts[name]]


@dataclass
class Row:
    surface: str
    version: str
    label: str                      # the surface, with its version when several versions are in the records
    cells: dict[str, Cell]
    devices: list[str]
    dtypes: list[str]

    def anchor(self, prop: str) -> str:
        """The HTML id of this row's cell of `prop`: cell-<surface>--<property>, and --<version> only where the records
        hold several versions of the surface; the same in every run of the same surfaces."""
        base = f"cell-{slug(self.surface)}--{slug(prop)}"
        return base if self.label == self.surface else f"{base}--{slug(self.version)}"


@dataclass
class OutcomeMatrix:
    properties: list[str]
    rows: list[Row]

    def totals(self) -> Counter:
        out: Counter = Counter()
        for row in self.rows:
            for cell in row.cells.values():
                out.update(cell.counts)
        return out


def build(records: list[dict]) -> OutcomeMatrix:
    props = {r["property"] for r in records}
    properties = [p for p in PROPERTY_ORDER if p in props] + sorted(props - set(PROPERTY_ORDER))
    versions: dict[str, set] = defaultdict(set)
    for r in records:
        versions[r["surface"]].add(r["version"])
    cells: dict[tuple[str, str], dict[str, Cell]] = defaultdict(lambda: {p: Cell() for p in properties})
    devices: dict[tuple, set] = defaultdict(set)
    dtypes: dict[tuple, set] = defaultdict(set)
    for r in records:
        key = (r["surface"], r["version"])
        cell = cells[key][r["property"]]
        name = outcome(r)
        cell.counts[name] += 1
        if name == "crash" and r.get("status") == "divergence":
            cell.new_crashes += 1
        devices[key].add(str(r.get("device")))
        dtypes[key].add(str(r.get("dtype")))
    rows = [Row(s, v, s if len(versions[s]) == 1 else f"{s} [{v}]", cells[(s, v)], sorted(devices[(s, v)]),
                sorted(dtypes[(s, v)])) for s, v in sorted(cells)]
    return OutcomeMatrix(properties, rows)
