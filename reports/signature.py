"""What identifies a case, what identifies a divergence, and which outcome is worse.

- `case_key`: one judged case — framework and version, surface, property, intent, device, dtype, mode, the
  canonical config, the surface's parameters and the seed. Two shards of one run (or two machines running the
  same derandomized profile) write the same case twice; `merge` keeps one, the worst. The version is part of
  the key: records of two framework versions are never merged into one.
- `Signature`: one distinct divergence — surface, kind, and the expected-divergence entry that covers it or,
  when none does, a coarse class of what happened (`detail_class`). The property that saw it is not part of
  it: test_shapes, test_values and test_refusals meet the same divergence and it gets one card that lists them.
  The framework version is not part of it either, so a diff across versions can say "still there" (the card
  shows the version; the page keeps versions apart in separate cards).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

STATUS_RANK = {"divergence": 3, "expected": 2, "other": 1, "pass": 0}
STATUS_WORDS = {"divergence": "new divergence", "expected": "expected divergence",
                "other": "divergence judged by another property", "pass": "as documented"}


def case_key(r: dict) -> tuple:
    return (r.get("framework"), r.get("version"), r.get("surface"), r.get("property"), r.get("intent"),
            r.get("device"), r.get("dtype"), r.get("mode"), json.dumps(r.get("config"), sort_keys=True),
            json.dumps(r.get("params"), sort_keys=True, default=str), r.get("seed"))


def err_value(r: dict) -> float:
    v = r.get("err_over_bound")
    if isinstance(v, (int, float)):
        return float(v)
    return float("inf") if v in ("inf", "nan", "-inf") else -1.0


def severity(r: dict) -> tuple:
    """Larger is worse: a new divergence over an expected one over one another property judges over a pass; at
    equal status a crash, then any divergence, then the final (shrunk) replay, then the larger err/bound."""
    return (STATUS_RANK.get(r.get("status"), 0), r.get("kind") == "crash", r.get("verdict") == "divergence",
            bool(r.get("final")), err_value(r))


@dataclass(frozen=True, order=True)
class Signature:
    surface: str
    kind: str
    cls: str            # the expected-divergence id, or detail_class(...) of an uncovered divergence
    covered: bool = False

    @property
    def text(self) -> str:
        return f"{self.kind} on {self.surface}: {self.cls}"

    @property
    def anchor(self) -> str:
        """The page's id for this signature: its words, then a short hash of the exact signature, so that two
        signatures whose words differ only in case or punctuation still get two ids; the same in every run (no order,
        no run id)."""
        words = slug(f"{self.surface} {self.kind} {self.cls}", 80)
        return f"d-{words}-{short_hash('|'.join((self.surface, self.kind, self.cls, str(self.covered))))}"


def slug(text: str, limit: int | None = None) -> str:
    """`text` as an HTML id or URL part: lower-case letters, digits and single dashes (never two in a row)."""
    out = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    return out[:limit].rstrip("-") if limit else out


def short_hash(text: str) -> str:
    return hashlib.blake2s(text.encode(), digest_size=4).hexdigest()


def _exception_class(error: str) -> str:
    head = error.split(":", 1)[0].strip()
    return head if re.fullmatch(r"[A-Za-z_][\w.]*", head) else "an exception"


def detail_class(r: dict) -> str:
    """A coarse, stable description of what happened, for a divergence no entry covers: stable across the
    configurations one bug produces (shift amounts and lengths vary with k and s), different across bugs that
    look different (returned vs raised, the exception class, longer vs shorter)."""
    kind, actual, expected = r.get("kind"), r.get("actual") or {}, r.get("expected") or {}
    if kind == "crash":
        # the signal and the stderr line that says why (conformance.harness.crashkey), where the record has it
        key = (r.get("behaviour") or {}).get("key")
        return key or re.sub(r"\d+(\.\d+)?", "N", str(actual.get("error") or "the process died"))
    if kind == "error-vs-result":
        if "refusal" in expected:
            return "the docs refuse it; the framework returned a result"
        return f"the docs accept it; the framework raised {_exception_class(str(actual.get('error', '')))}"
    if kind == "error-class":
        return f"both refuse; the framework raised {_exception_class(str(actual.get('error', '')))}"
    if kind == "crop":
        return "the right length, the values shifted in the output"
    if kind == "shape":
        got, want = (actual.get("shape") or [])[2:], expected.get("length") or []
        if got and want and len(got) == len(want):
            if all(g >= w for g, w in zip(got, want)):
                return "a longer output than documented"
            if all(g <= w for g, w in zip(got, want)):
                return "a shorter output than documented"
        return "another output shape than documented"
    if kind == "nonfinite":
        return "non-finite outputs that differ in class from the IEEE scatter"
    if kind == "value":
        return "non-finite values" if isinstance(r.get("err_over_bound"), str) else "values beyond the error bound"
    return str(kind)


def signature(r: dict) -> Signature:
    covered = r.get("status") == "expected" and bool(r.get("expected_divergence"))
    cls = r["expected_divergence"] if covered else detail_class(r)
    return Signature(str(r.get("surface")), str(r.get("kind")), cls, covered)


def is_divergence(r: dict) -> bool:
    return r.get("verdict") == "divergence" and r.get("status") in ("divergence", "expected", "other")
