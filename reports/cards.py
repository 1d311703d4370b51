"""One card per distinct divergence: records grouped by `signature.Signature` and framework version.

A card shows the divergence's minimal case — the smallest final (shrunk) record when Hypothesis shrank one, else
the smallest record — with the documented outcome and its doc, what happened, err/bound, the window diagrams,
the expected-divergence entry (reason, upstream link) when one covers it, and the record's reproducer.

Each card's HTML id (`anchor`) comes from its signature and framework version alone, so a link to it holds from run to
run; `filter_data` is what the page's search box and filters match it by, and `upstream_issue` the Markdown its
"copy as upstream issue" button copies (reports.upstream).
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from conformance.core.spec import Conv
from conformance.harness import behaviour as behaviour_mod
from conformance.harness.crashkey import fresh_text
from conformance.harness.expectations import Expectation

from . import upstream, windows
from .outcomes import PROPERTY_ORDER
from .signature import STATUS_RANK, STATUS_WORDS, Signature, is_divergence, severity, short_hash, signature, slug

# what the page's filters match a card by (its data-* attributes and the URL's query keys), in the bar's order; a
# card's status is named as the page's words name it: a new divergence is "new"
FILTER_KEYS = ("surface", "kind", "entry", "framework", "status", "property")
STATUS_FILTER = {"divergence": "new", "expected": "expected", "other": "other"}
STATUS_LABELS = {value: STATUS_WORDS[status] for status, value in STATUS_FILTER.items()}


@dataclass
class Card:
    signature: Signature
    framework: str
    version: str
    status: str                          # the worst status of its records: divergence, expected, other
    records: int
    properties: list[tuple[str, int]]
    devices: list[str]
    dtypes: list[str]
    minimal: dict
    expectation: Expectation | None
    diagrams: list[windows.Diagram]
    diff: str = ""                       # "new" or "changed" when the page compares with a baseline
    diff_note: str = ""
    release_history: str = ""   # from a history (a sweep's): first/last release seen, introduced in, fixed in
    crop_shifts: list[str] = field(default_factory=list)
    first_of_signature: bool = False     # the card that carries the signature's anchor (diff links to it)
    characterization: dict | None = None  # conformance.harness.characterize's result for a record of this card, if any
    fresh: dict | None = None            # a crash: its reproducer run again alone (the record's `reproduced`)
    other_versions: list[str] = field(default_factory=list)   # the framework's other versions with this signature

    @property
    def fault_text(self) -> str:
        """The fault a robustness or error-catalogue case put into the call ('' for a plain case)."""
        f = self.minimal.get("fault")
        if not isinstance(f, dict):
            return ""
        return f"{f.get('case')} ({f.get('fault')} = {json.dumps(f.get('value'), default=str)})"

    @property
    def crash_key(self) -> str:
        """A crash's signature: the signal and the stderr line that says why, numbers normalized."""
        return str((self.minimal.get("behaviour") or {}).get("key") or "") if self.signature.kind == "crash" else ""

    @property
    def fresh_text(self) -> str:
        """Whether the crash reproduces alone in a fresh interpreter ('' for other kinds)."""
        if self.signature.kind != "crash":
            return ""
        return fresh_text(self.fresh) if self.fresh else "not checked (records written before the fresh-process check)"

    @property
    def behaviour_text(self) -> str:
        """What the minimal case did, as its record's behaviour says (conformance.harness.behaviour); '' without one."""
        b = self.minimal.get("behaviour")
        return behaviour_mod.describe(b) if isinstance(b, dict) else ""

    @property
    def stated_text(self) -> str:
        """What the covering entry states (its behaviour table), for an expected divergence."""
        e = self.expectation
        return e.behaviour.text() if e is not None and e.behaviour is not None else ""

    @property
    def anchor(self) -> str:
        """Its signature's words and version, then a short hash of the exact signature and version: stable across
        runs (never the card's position or a run id), and distinct for cards whose words are the same."""
        sig = self.signature
        words = slug(f"{sig.surface} {sig.kind} {sig.cls}", 80)
        exact = "|".join((sig.surface, sig.kind, sig.cls, str(sig.covered), self.framework, self.version))
        return f"d-{words}-{slug(self.version, 30)}-{short_hash(exact)}"

    @property
    def filter_data(self) -> dict[str, str]:
        """What each of the page's filters (FILTER_KEYS) matches this card by; `property` lists every property that
        saw it, space-separated."""
        return {"surface": self.signature.surface, "kind": self.signature.kind,
                "entry": self.signature.cls if self.signature.covered else "", "framework": self.framework,
                "status": STATUS_FILTER.get(self.status, self.status),
                "property": " ".join(p for p, _ in self.properties)}

    @property
    def upstream_issue(self) -> str:
        """The Markdown of an upstream bug report for this divergence (reports.upstream.markdown)."""
        return upstream.markdown(self)

    @property
    def status_words(self) -> str:
        return STATUS_WORDS[self.status]

    @property
    def config_text(self) -> str:
        return config_text(self.minimal)

    @property
    def params_text(self) -> str:
        params = self.minimal.get("params") or {}
        if not isinstance(params, dict):
            return str(params)
        return ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in params.items()) or "none"

    @property
    def expected_text(self) -> str:
        e = self.minimal.get("expected") or {}
        if "refusal" in e:
            return f"refused: {e['refusal']}"
        if "crop" in e:
            return f"crop={_dims(e.get('crop'))} L={_dims(e.get('length'))} via {e.get('rule', '')}"
        return "unknown"

    @property
    def doc(self) -> str:
        return str((self.minimal.get("expected") or {}).get("doc", ""))

    @property
    def actual_text(self) -> str:
        """What the call did, from the record alone: the error, or the shape (and where the values sit) followed by
        the judge's own words for what was wrong with it (values, IEEE classes, gradients, two modes' or two runs'
        difference), so a card never reads as a clean result or as a death that did not happen."""
        a = self.minimal.get("actual") or {}
        if "error" in a:
            return ("process " if self.signature.kind == "crash" else "raised ") + first_line(str(a["error"]), 300)
        if self.signature.kind == "crash":
            return "no result (the process making the call died)"
        words = self.behaviour_text or first_line(self.detail, 300)
        if "shape" not in a:
            # a divergence whose result the record does not keep (nonfinite, gradients, two modes): its own words
            return words or "not recorded"
        text = f"shape {tuple(a['shape'])}"
        if a.get("found_crop") is not None:
            text += f"; the values match the reference at crop={_dims(a['found_crop'])}"
        if self.signature.kind not in ("shape", "error-vs-result") and words and words != text:
            text += f"; {words}"
        return text

    @property
    def err_text(self) -> str:
        return err_text(self.minimal.get("err_over_bound"))

    @property
    def detail(self) -> str:
        return str(self.minimal.get("detail") or "")

    @property
    def reproducer(self) -> str:
        return str(self.minimal.get("reproducer") or "")


def _dims(values) -> str:
    return "none" if values is None else "x".join(map(str, values))


def first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[:limit - 3] + "..."


def err_text(v) -> str:
    if v is None:
        return "not measured"
    if isinstance(v, str):
        return v
    return f"{v:.3g}" if math.isfinite(v) else str(v)


CONV_FIELDS = ("in_size", "kernel", "stride", "dilation", "batch", "c_in", "c_out", "groups", "bias")


def config_text(r: dict) -> str:
    """The canonical config as the failure message writes it, plus any field a newer writer added (poison)."""
    c = r.get("config") or {}
    try:
        text = str(Conv(**{k: c[k] for k in CONV_FIELDS if k in c}))
        extra = {k: v for k, v in c.items() if k not in CONV_FIELDS}
        if extra:
            text += " " + " ".join(f"{k}={json.dumps(v, default=str)}" for k, v in sorted(extra.items()))
    except (TypeError, ValueError):
        text = json.dumps(c, sort_keys=True, default=str)
    return f"{text} {r.get('dtype', '')} on {r.get('device', '')}"


def size_key(r: dict) -> tuple:
    """Smaller is simpler: final (shrunk) records first, then fewer elements, then smaller parameters."""
    c = r.get("config") or {}

    def prod(key):
        n = 1
        for v in c.get(key) or [1]:
            n *= v if isinstance(v, int) else 1
        return n
    return (not r.get("final"), len(c.get("in_size") or []), prod("in_size") * c.get("batch", 1),
            c.get("c_in", 1) * c.get("c_out", 1), prod("kernel"), prod("stride"), prod("dilation"),
            c.get("groups", 1), bool(c.get("bias")), len(json.dumps(r.get("params"), sort_keys=True, default=str)),
            str(r.get("dtype")))


def _shift(r: dict) -> str | None:
    a, e = r.get("actual") or {}, r.get("expected") or {}
    if a.get("found_crop") is None or "crop" not in e:
        return None
    return "(" + ", ".join(f"{f - c:+d}" for f, c in zip(a["found_crop"], e["crop"])) + ")"


def build(records: list[dict], expectations: list[Expectation] | None = None) -> list[Card]:
    by_id = {e.id: e for e in expectations or []}
    groups: dict[tuple[Signature, str, str], list[dict]] = defaultdict(list)
    for r in records:
        if is_divergence(r):
            groups[(signature(r), r["framework"], r["version"])].append(r)
    cards = []
    for (sig, framework, version), recs in groups.items():
        status = max((r["status"] for r in recs), key=lambda s: STATUS_RANK.get(s, 0))
        pool = [r for r in recs if r["status"] == status]
        minimal = min(pool, key=lambda r: (size_key(r), [-x for x in severity(r)[:3]]))
        props = Counter(r["property"] for r in recs)
        order = [p for p in PROPERTY_ORDER if p in props] + sorted(set(props) - set(PROPERTY_ORDER))
        shifts = Counter(s for s in map(_shift, recs) if s)
        characterized = next((r["characterization"] for r in recs if isinstance(r.get("characterization"), dict)),
                             None)
        fresh = next((r["reproduced"] for r in [minimal, *recs] if isinstance(r.get("reproduced"), dict)), None)
        cards.append(Card(
            signature=sig, framework=framework, version=version, status=status, records=len(recs),
            properties=[(p, props[p]) for p in order], devices=sorted({str(r.get("device")) for r in recs}),
            dtypes=sorted({str(r.get("dtype")) for r in recs}), minimal=minimal,
            expectation=by_id.get(sig.cls) if sig.covered else None, diagrams=windows.diagrams(minimal),
            crop_shifts=[f"{s} x{n}" for s, n in shifts.most_common(6)], characterization=characterized,
            fresh=fresh))
    cards.sort(key=lambda c: (-STATUS_RANK.get(c.status, 0), c.signature.surface, c.signature.kind,
                              c.signature.cls, c.version))
    seen: set[Signature] = set()
    versions: dict[tuple, set] = defaultdict(set)
    for card in cards:
        card.first_of_signature = card.signature not in seen
        seen.add(card.signature)
        versions[(card.signature, card.framework)].add(card.version)
    for card in cards:
        card.other_versions = sorted(versions[(card.signature, card.framework)] - {card.version})
    return cards


def facets(cards: list[Card]) -> dict[str, list[str]]:
    """Per filter key, the values the page's cards have (the options of its select), sorted; '' left out."""
    out: dict[str, set] = {key: set() for key in FILTER_KEYS}
    for card in cards:
        for key, value in card.filter_data.items():
            out[key].update(value.split(" ") if key == "property" else [value])
    return {key: sorted(v for v in values if v) for key, values in out.items()}
