"""The cross-framework alignment matrix, computed from portable-configuration records only.

For every intent (conformance.harness.portable.INTENTS), grid point (k, s, d, i) and surface, a record says what the
surface actually did with the intent as its users spell it: a window (c, L) located by value against the
reference, or a refusal, or a crash. `build` relates each observation to the intent's intended window:

  agrees         c and L are the intended ones
  shifted +n     the right length, the window starts n later (negative: earlier) in the full result
  length +n      n more (negative: fewer) outputs than intended (the shift, if any, is in the point's detail)
  no-match       the values match the reference at no window near the expected one
  refuses        the call raised
  crashes        the call killed its process

and groups surfaces that did exactly the same thing at every grid point (both ran the same points). A conversion
surface (its records name the source surface in `converts`: the source's call exported by a converter and run by a
runtime) gets a "converted" line per intent: at how many grid points it did what its source did, and where not.
Records from several tox envs, machines or versions merge; a surface seen at two framework versions is kept
apart as two columns.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from conformance.core.spec import Conv
from conformance.harness.portable import INTENTS, GridPoint, point_of

RELATION_ORDER = ("agrees", "shifted", "length", "no-match", "refuses", "crashes")


@dataclass(frozen=True)
class Observation:
    point: GridPoint
    crop: tuple[int, ...] | None     # where the values sit, per spatial dimension (None: they match nowhere)
    length: tuple[int, ...] | None
    error: str | None                # the exception, for a refusal or crash
    crashed: bool = False

    @property
    def outcome(self) -> tuple:
        """What the surface did, comparable across surfaces."""
        if self.crashed:
            return ("crash",)
        if self.error is not None:
            return ("refused",)
        return ("window", self.crop, self.length)


@dataclass
class Cell:
    """One surface under one intent: its observations and how each relates to the intended window."""

    surface: str
    version: str
    points: dict[GridPoint, tuple[Observation, str]] = field(default_factory=dict)

    def counts(self) -> Counter:
        return Counter(rel for _, rel in self.points.values())


def observe(record: dict) -> Observation:
    point = point_of(record["config"])
    actual = record["actual"]
    if "error" in actual:
        return Observation(point, None, None, actual["error"], crashed=record.get("kind") == "crash")
    if "shape" not in actual:
        return Observation(point, None, None, record.get("detail", "no output"), crashed=True)
    length = tuple(actual["shape"][2:])
    if actual.get("found_crop") is not None:
        crop = tuple(actual["found_crop"])
    elif record["verdict"] == "pass" and "crop" in record["expected"]:
        crop = tuple(record["expected"]["crop"])
    else:
        crop = None
    return Observation(point, crop, length, None)


def intended(intent_id: str, obs: Observation) -> tuple[tuple[int, ...], tuple[int, ...]]:
    p = obs.point
    rank = len(obs.length) if obs.length else 2
    return INTENTS[intent_id].window(Conv((p.i,) * rank, (p.k,) * rank, (p.s,) * rank, (p.d,) * rank))


def relation(intent_id: str, obs: Observation) -> str:
    """How the observation relates to the intended window; with dimensions that differ, the first one's."""
    if obs.crashed:
        return "crashes"
    if obs.error is not None:
        return "refuses"
    crops, lengths = intended(intent_id, obs)
    for dim, (n, want) in enumerate(zip(obs.length, lengths)):
        if n != want:
            return f"length {n - want:+d}"
    if obs.crop is None:
        return "no-match"
    for c, want in zip(obs.crop, crops):
        if c != want:
            return f"shifted {c - want:+d}"
    return "agrees"


@dataclass
class Matrix:
    cells: dict[str, dict[str, Cell]]          # intent -> column (surface, or surface [version]) -> cell
    records: int
    converts: dict[str, str] = field(default_factory=dict)   # conversion surface id -> its source surface id

    def converted(self, intent: str) -> dict[str, dict]:
        """Per conversion column of `intent`: its source's column, and the grid points both ran where the converted
        surface did the same as its source ("kept") or not ("changed": (point, source's outcome, converted outcome)).
        A source with no records of this intent: source None."""
        cells = self.cells.get(intent, {})
        out: dict[str, dict] = {}
        for column, cell in sorted(cells.items()):
            source_id = self.converts.get(cell.surface)
            if not source_id:
                continue
            sources = [c for c in cells.values() if c.surface == source_id]
            if not sources:
                out[column] = {"source": None, "wanted": source_id, "kept": 0, "changed": []}
                continue
            source = sources[0]
            shared = sorted(set(cell.points) & set(source.points), key=_where)
            changed = [(p, source.points[p][0], cell.points[p][0]) for p in shared
                       if source.points[p][0].outcome != cell.points[p][0].outcome]
            out[column] = {"source": source_id, "wanted": source_id, "kept": len(shared) - len(changed),
                           "changed": changed}
        return out

    def groups(self, intent: str) -> list[list[str]]:
        """Columns that did the same thing at every grid point they share, largest group first."""
        cells = self.cells.get(intent, {})
        signature = {col: tuple(sorted((p.k, p.s, p.d, p.i, o.outcome) for p, (o, _) in cell.points.items()))
                     for col, cell in cells.items()}
        by_sig: dict[tuple, list[str]] = defaultdict(list)
        for col, sig in signature.items():
            by_sig[sig].append(col)
        return sorted((sorted(cols) for cols in by_sig.values()), key=lambda g: (-len(g), g))


def build(records: list[dict]) -> Matrix:
    """The matrix of the final portable records (later records of the same point replace earlier ones)."""
    portable = [r for r in records if r.get("property") == "portable" and r.get("intent") in INTENTS
                and r.get("final", True)]
    versions: dict[str, set] = defaultdict(set)
    for r in portable:
        versions[r["surface"]].add(r["version"])
    cells: dict[str, dict[str, Cell]] = defaultdict(dict)
    for r in portable:
        column = r["surface"] if len(versions[r["surface"]]) == 1 else f"{r['surface']} [{r['version']}]"
        cell = cells[r["intent"]].setdefault(column, Cell(r["surface"], r["version"]))
        obs = observe(r)
        cell.points[obs.point] = (obs, relation(r["intent"], obs))
    converts = {r["surface"]: r["converts"] for r in portable if r.get("converts")}
    return Matrix({i: cells[i] for i in INTENTS if i in cells}, len(portable), converts)


def _relation_key(rel: str) -> tuple:
    head, _, n = rel.partition(" ")
    return (RELATION_ORDER.index(head), int(n) if n else 0)


def _where(p: GridPoint) -> str:
    return f"k={p.k} s={p.s} d={p.d} i={p.i}"


def _dims(values) -> str:
    return "none" if values is None else "x".join(map(str, values))


def _short(error: str, limit: int = 110) -> str:
    return error if len(error) <= limit else error[:limit - 3] + "..."


def render_text(matrix: Matrix, examples: int = 1) -> str:
    if not matrix.cells:
        return "no portable-configuration records (property 'portable'): run suites/test_portable.py first"
    lines = [f"cross-framework alignment matrix from {matrix.records} portable-configuration records",
             "(per intent and surface: how many grid points (k, s, d, i) gave the intended window, a shifted one, "
             "another length, or a refusal)"]
    for intent_id, cells in matrix.cells.items():
        intent = INTENTS[intent_id]
        lines += ["", f"{intent_id}: {intent.title}", f"  intended: {intent.source}"]
        width = max(len(c) for c in cells)
        for column, cell in sorted(cells.items()):
            counts = cell.counts()
            total = sum(counts.values())
            parts = [f"{rel} {n}" for rel, n in sorted(counts.items(), key=lambda kv: _relation_key(kv[0]))]
            lines.append(f"  {column:<{width}}  {total:3d} points: " + ", ".join(parts))
            for rel in sorted(counts, key=_relation_key):
                if rel == "agrees":
                    continue
                shown = [(p, o) for p, (o, r) in sorted(cell.points.items(), key=lambda kv: _where(kv[0]))
                         if r == rel][:examples]
                for p, o in shown:
                    got = f"raised {_short(o.error)}" if o.error else f"c={_dims(o.crop)}, L={_dims(o.length)}"
                    c, n = intended(intent_id, o)
                    lines.append(f"  {'':<{width}}    e.g. {rel} at {_where(p)}: {got}; intended c={_dims(c)}, "
                                 f"L={_dims(n)}")
        groups = [g for g in matrix.groups(intent_id) if len(g) > 1]
        for g in groups:
            lines.append(f"  identical at every grid point: {', '.join(g)}")
        for column, conv in matrix.converted(intent_id).items():
            if conv["source"] is None:
                lines.append(f"  converted: {column}: its source {conv['wanted']} has no records of this intent here")
                continue
            total = conv["kept"] + len(conv["changed"])
            lines.append(f"  converted: {column} keeps what {conv['source']} does at {conv['kept']} of {total} points"
                         + ("" if not conv["changed"] else f"; changes it at {len(conv['changed'])}"))
            for p, before, after in conv["changed"][:examples]:
                lines.append(f"    e.g. at {_where(p)}: source {_outcome_text(before)}, "
                             f"converted {_outcome_text(after)}")
    return "\n".join(lines)


def _outcome_text(o: Observation) -> str:
    if o.crashed:
        return "crashed"
    if o.error is not None:
        return f"raised {_short(o.error, 80)}"
    return f"c={_dims(o.crop)}, L={_dims(o.length)}"


def to_json(matrix: Matrix) -> dict:
    out: dict = {"records": matrix.records, "intents": {}}
    for intent_id, cells in matrix.cells.items():
        intent = INTENTS[intent_id]
        out["intents"][intent_id] = {
            "title": intent.title, "intended": intent.source, "groups": matrix.groups(intent_id),
            "surfaces": {
                column: {"surface": cell.surface, "version": cell.version, "counts": dict(cell.counts()),
                         "points": [{"k": p.k, "s": p.s, "d": p.d, "i": p.i, "crop": o.crop, "length": o.length,
                                     "error": o.error, "relation": rel,
                                     "intended": dict(zip(("crop", "length"), intended(intent_id, o)))}
                                    for p, (o, rel) in sorted(cell.points.items(), key=lambda kv: _where(kv[0]))]}
                for column, cell in sorted(cells.items())},
            "converted": {column: {"source": conv["source"], "wanted": conv["wanted"], "kept": conv["kept"],
                                   "changed": [{"k": p.k, "s": p.s, "d": p.d, "i": p.i, "source": _outcome_text(a),
                                                "converted": _outcome_text(b)} for p, a, b in conv["changed"]]}
                          for column, conv in matrix.converted(intent_id).items()}}
    return out
