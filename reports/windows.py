"""Where in the output a divergence sits, as bars over the full result, one small diagram per spatial dimension.

In the canonical model (README, "The canonical model") every API's output is a window [c, c+L) of the full
result [0, F), zero outside it. A diagram draws, on one scale: the full result; the documented window; and what
the framework returned — the window where its values match the reference (a crop shift: the two windows side by
side), its length when the values match nowhere nearby (a shape divergence), the documented window marked where
the values are off (a value divergence), or nothing when it raised or died. Geometry only; the template draws it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LABEL_W = 170      # px for the row labels
SCALE_W = 380      # px for the extent
ROW_H = 18
TOP = 6


@dataclass
class Bar:
    label: str
    start: int          # in output positions of the full result
    end: int
    cls: str            # full | doc | found | unplaced | differs
    title: str
    x: float = 0.0
    w: float = 0.0
    y: float = 0.0


@dataclass
class Diagram:
    dim: int
    full: int
    bars: list[Bar]
    note: str = ""                           # what the diagram cannot show (a refusal, an exception, a crash)
    ticks: list[tuple[float, str]] = field(default_factory=list)
    width: int = LABEL_W + SCALE_W + 20
    height: int = 0
    label_w: int = LABEL_W
    scale_w: int = SCALE_W


def _full(config: dict, dim: int) -> int:
    i, k = config["in_size"][dim], config["kernel"][dim]
    s, d = config["stride"][dim], config["dilation"][dim]
    return 0 if i == 0 else (i - 1) * s + d * (k - 1) + 1


def _layout(diagram: Diagram) -> Diagram:
    starts = [0] + [b.start for b in diagram.bars]
    ends = [max(diagram.full, 1)] + [b.end for b in diagram.bars]
    lo, hi = min(starts), max(ends)
    unit = SCALE_W / max(hi - lo, 1)
    for n, bar in enumerate(diagram.bars):
        bar.x = LABEL_W + (bar.start - lo) * unit
        bar.w = max((bar.end - bar.start) * unit, 2.0)     # a zero-length window is still drawn, as a line
        bar.y = TOP + n * ROW_H
    diagram.height = TOP + len(diagram.bars) * ROW_H + 16
    marks = sorted({0, diagram.full, lo, hi})
    diagram.ticks = [(LABEL_W + (m - lo) * unit, str(m)) for m in marks]
    return diagram


def diagrams(r: dict) -> list[Diagram]:
    """One diagram per spatial dimension of the record (none when its config is unusable)."""
    config, expected, actual = r.get("config") or {}, r.get("expected") or {}, r.get("actual") or {}
    try:
        rank = len(config["in_size"])
        fulls = [_full(config, n) for n in range(rank)]
    except (KeyError, TypeError, IndexError):
        return []
    shape = actual.get("shape")
    found = actual.get("found_crop")
    out = []
    for dim in range(rank):
        full = fulls[dim]
        bars = [Bar("full result F", 0, full, "full", f"the full scatter result: positions 0..{full - 1}")]
        note = ""
        doc_c = doc_l = None
        if "crop" in expected:
            try:
                doc_c, doc_l = int(expected["crop"][dim]), int(expected["length"][dim])
            except (IndexError, TypeError, ValueError):
                doc_c = doc_l = None
        if doc_c is not None:
            bars.append(Bar(f"documented c={doc_c} L={doc_l}", doc_c, doc_c + doc_l, "doc",
                            f"the documented window: [{doc_c}, {doc_c + doc_l}) of the full result"))
        elif "refusal" in expected:
            note = "documented: refused. "
        length = shape[2 + dim] if isinstance(shape, list) and len(shape) > 2 + dim else None
        if length is not None and isinstance(found, list) and len(found) > dim:
            c = int(found[dim])
            shift = f", shift {c - doc_c:+d}" if doc_c is not None else ""
            bars.append(Bar(f"found c={c} L={length}", c, c + length, "found",
                            f"where the returned values match the reference: [{c}, {c + length}){shift}"))
        elif length is not None and r.get("kind") == "value" and doc_c is not None and length == doc_l:
            err = r.get("err_over_bound")
            bars.append(Bar(f"values off, L={length}", doc_c, doc_c + length, "differs",
                            f"the right window, values beyond the error bound (err/bound {err})"))
        elif length is not None:
            start = doc_c if doc_c is not None else 0
            bars.append(Bar(f"returned L={length}", start, start + length, "unplaced",
                            f"{length} outputs returned; their values match no window near the documented one"
                            if doc_c is not None else f"{length} outputs returned where the docs refuse"))
        elif "error" in actual:
            note += "the call raised; no output." if r.get("kind") != "crash" else "the process died; no output."
        out.append(_layout(Diagram(dim, full, bars, note.strip())))
    return out
