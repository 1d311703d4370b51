"""The cross-framework alignment matrix (conformance.views.matrix) as heat maps: one small (kernel x stride) grid per
intent and surface.

Each grid cell holds the grid points of that (k, s) — several dilations and input sizes — and shows the relation
most of them have to the intended window (agrees, shifted by n, another length, refuses, crashes; at a tie the
worse one), marked as mixed when they do not all agree; its <title> tooltip gives the counts and every point.
Geometry only; the template draws it. Input is `conformance.views.matrix.to_json(build(records))`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from conformance.views.matrix import RELATION_ORDER

CELL_W, CELL_H, GAP = 26, 18, 2
AXIS_W, AXIS_H = 20, 14
CSS = {"agrees": "agrees", "shifted": "shifted", "length": "length", "no-match": "nomatch", "refuses": "refuses",
       "crashes": "crashes"}
SHORT = {"agrees": "=", "no-match": "?", "refuses": "R", "crashes": "X"}


@dataclass
class HCell:
    k: int
    s: int
    x: int
    y: int
    cls: str
    text: str
    title: str
    mixed: bool


@dataclass
class Panel:
    column: str
    cells: list[HCell]
    counts: str                       # "agrees 42, shifted +1 14, refuses 4"
    points: int
    width: int
    height: int
    kernels: list[tuple[int, int]]    # (y, k): row labels
    strides: list[tuple[int, int]]    # (x, s): column labels


@dataclass
class IntentRow:
    id: str
    title: str
    intended: str
    panels: dict[str, Panel | None]   # column -> panel (None: this surface does not spell the intent)
    groups: list[list[str]] = field(default_factory=list)
    letters: dict[str, str] = field(default_factory=dict)   # column -> letter of its group of identical columns


@dataclass
class Heatmap:
    records: int
    columns: list[str]
    rows: list[IntentRow]
    legend: list[tuple[str, str, str]]   # (css class, short text, words)


def relation_key(rel: str) -> tuple:
    head, _, n = rel.partition(" ")
    return (RELATION_ORDER.index(head) if head in RELATION_ORDER else len(RELATION_ORDER), abs(int(n) if n else 0))


def short(rel: str) -> str:
    head, _, n = rel.partition(" ")
    if head == "shifted":
        return n
    if head == "length":
        return "L" + n
    return SHORT.get(head, "?")


def dominant(counts: Counter) -> str:
    """The most common relation; among equally common ones the worst (later in RELATION_ORDER, larger n)."""
    return max(counts, key=lambda rel: (counts[rel], relation_key(rel)))


def _dims(v) -> str:
    return "none" if v is None else "x".join(map(str, v))


def _point_line(p: dict) -> str:
    want = p.get("intended") or {}
    got = (f"raised {p['error'][:140]}" if p.get("error") else f"c={_dims(p.get('crop'))} L={_dims(p.get('length'))}")
    return (f"d={p['d']} i={p['i']}: {p['relation']}: {got} (intended c={_dims(want.get('crop'))} "
            f"L={_dims(want.get('length'))})")


def panel(column: str, points: list[dict], kernels: list[int], strides: list[int]) -> Panel:
    by_cell: dict[tuple[int, int], list[dict]] = {}
    for p in points:
        by_cell.setdefault((p["k"], p["s"]), []).append(p)
    cells = []
    for row, k in enumerate(kernels):
        for col, s in enumerate(strides):
            x, y = AXIS_W + col * (CELL_W + GAP), AXIS_H + row * (CELL_H + GAP)
            pts = sorted(by_cell.get((k, s), []), key=lambda p: (p["d"], p["i"]))
            if not pts:
                cells.append(HCell(k, s, x, y, "nodata", "", f"k={k} s={s}: no grid point", False))
                continue
            counts = Counter(p["relation"] for p in pts)
            dom = dominant(counts)
            summary = ", ".join(f"{rel} {n}" for rel, n in sorted(counts.items(), key=lambda kv: relation_key(kv[0])))
            title = "\n".join([f"{column}", f"k={k} s={s}: {summary}", *map(_point_line, pts)])
            cells.append(HCell(k, s, x, y, CSS.get(dom.partition(" ")[0], "nomatch"), short(dom), title,
                               len(counts) > 1))
    totals = Counter(p["relation"] for p in points)
    return Panel(column, cells, ", ".join(f"{rel} {n}" for rel, n in sorted(totals.items(),
                                                                           key=lambda kv: relation_key(kv[0]))),
                 len(points), AXIS_W + len(strides) * (CELL_W + GAP), AXIS_H + len(kernels) * (CELL_H + GAP),
                 [(AXIS_H + n * (CELL_H + GAP) + CELL_H // 2 + 4, k) for n, k in enumerate(kernels)],
                 [(AXIS_W + n * (CELL_W + GAP) + CELL_W // 2, s) for n, s in enumerate(strides)])


def build(matrix_json: dict) -> Heatmap:
    intents = matrix_json.get("intents", {})
    columns = sorted({col for data in intents.values() for col in data["surfaces"]})
    rows = []
    for intent_id, data in intents.items():
        points = [p for s in data["surfaces"].values() for p in s["points"]]
        kernels = sorted({p["k"] for p in points})
        strides = sorted({p["s"] for p in points})
        panels = {col: (panel(col, data["surfaces"][col]["points"], kernels, strides)
                        if col in data["surfaces"] else None) for col in columns}
        groups = [g for g in data.get("groups", []) if len(g) > 1]
        letters = {col: chr(ord("A") + n) for n, g in enumerate(groups) for col in g}
        rows.append(IntentRow(intent_id, data["title"], data["intended"], panels, groups, letters))
    legend = [("agrees", "=", "the intended window"), ("shifted", "+n", "the right length, shifted by n"),
              ("length", "L+n", "n more (or fewer) outputs"), ("nomatch", "?", "values match no window nearby"),
              ("refuses", "R", "the call raised"), ("crashes", "X", "the process died"),
              ("nodata", "", "no grid point")]
    return Heatmap(matrix_json.get("records", 0), columns, rows, legend)
