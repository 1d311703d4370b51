"""A divergence card as the Markdown of an upstream bug report: what the page's "copy as upstream issue" button copies.

Built at page-build time from the card's records, so it can be tested here and is escaped like any other text when
the page embeds it (in a hidden <pre>): the Markdown itself is raw text, never HTML-escaped. Code (the reproducer, the
configuration) goes in fences longer than any run of backticks inside it, so no framework message can end a fence.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .signature import detail_class

if TYPE_CHECKING:  # pragma: no cover - the type only
    from .cards import Card

TITLE_LIMIT = 200
SUITE = "a conformance suite for transposed convolution that checks each API against its own documentation"


def title(card: Card) -> str:
    """One line: the API surface and what diverged (the coarse class of what happened, or the kind and what the call
    did where no class describes it)."""
    what = detail_class(card.minimal)
    if what == card.signature.kind:
        what = f"{what}: {card.actual_text}"
    text = " ".join(f"{card.signature.surface}: {what}".split())
    return text if len(text) <= TITLE_LIMIT else text[:TITLE_LIMIT - 3] + "..."


def markdown(card: Card) -> str:
    """The whole report: title, framework and version(s), device, dtype, mode, the minimal configuration, the
    reproducer, expected (with the doc the record cites) against actual, the characterization where the card has
    one, the releases it was seen in where the page has a history (a sweep's: introduced in, fixed in), and the
    expected-divergence entry with its upstream links where one covers it."""
    m = card.minimal
    model = str(m.get("device_model") or "")
    versions = f"{card.framework} {card.version}"
    if card.other_versions:
        versions += f" (the same divergence in {', '.join(card.other_versions)})"
    props = ", ".join(f"{p} {n}" for p, n in card.properties)
    lines = [
        f"## {title(card)}", "",
        f"- **Framework:** {versions}",
        f"- **API:** {code(card.signature.surface)}",
        f"- **Device:** {m.get('device')}{f' ({model})' if model else ''}"
        + (f"; seen on {', '.join(card.devices)}" if len(card.devices) > 1 else ""),
        f"- **Dtype:** {m.get('dtype')}" + (f"; seen with {', '.join(card.dtypes)}" if len(card.dtypes) > 1 else ""),
        f"- **Mode:** {m.get('mode') or 'eager'}",
        f"- **Found by:** {SUITE}: {card.records} case{'s' if card.records != 1 else ''} ({props})",
        "", "### Minimal configuration", "",
        fence("\n".join([card.config_text, f"parameters: {card.params_text}"]
                        + ([f"fault: {card.fault_text}"] if card.fault_text else [])), "text"),
    ]
    if card.reproducer:
        lines += ["", "### Reproducer", "", fence(card.reproducer.rstrip("\n"), "python")]
    doc = f", as documented at {card.doc}" if card.doc else ""
    lines += ["", "### Expected", "", f"{card.expected_text}{doc}",
              "", "### Actual", "", card.actual_text]
    if card.err_text != "not measured":
        lines.append(f"(error over the documented bound: {card.err_text})")
    ch = card.characterization
    if isinstance(ch, dict) and ch.get("summary"):
        lines += ["", "### When it diverges", "", str(ch["summary"])]
        if ch.get("predicate"):
            lines.append(f"Proposed predicate: {code(str(ch['predicate']))}")
    if card.release_history:
        lines += ["", "### Releases", "", f"{card.framework}: {card.release_history}"]
    lines += _known(card)
    return "\n".join(lines) + "\n"


def _known(card: Card) -> list[str]:
    """The covering expected-divergence entry: its id, status and links ([] for a new divergence)."""
    e = card.expectation
    if e is None:
        if card.signature.covered:
            return ["", "### Known divergence", "", f"Expected-divergence entry {code(card.signature.cls)}."]
        return []
    out = ["", "### Known divergence", "", f"Expected-divergence entry {code(e.id)}"
           + (f", detected {e.detected}" if e.detected else "") + f": {' '.join(e.reason.split())}"]
    out.append(f"- **Upstream report:** {e.reported or 'none known'}")
    if e.link:
        out.append(f"- **See also:** {e.link}")
    if e.fixed_in:
        out.append(f"- **Fixed in:** {e.fixed_in}")
    return out


def code(text: str) -> str:
    """`text` as inline code, delimited by more backticks than any run inside it (CommonMark)."""
    ticks = "`" * (_longest_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fence(text: str, lang: str = "") -> str:
    """`text` in a fenced code block whose fence is longer than any run of backticks inside it (at least three)."""
    ticks = "`" * max(3, _longest_run(text) + 1)
    return f"{ticks}{lang}\n{text}\n{ticks}"


def _longest_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)
