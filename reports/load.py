"""Read records for a report, one file at a time, so that what cannot be read becomes a note on the page.

`conformance.harness.records.iter_records` stops at a damaged line with a warning (the lines before it are kept) and
refuses a record of another schema version with RecordsError: here the warning becomes the file's note, and a
refused file contributes no records and says why. A line that is JSON but not a record object, a record without
the fields a report needs, an unreadable or empty file, a folder without records: each is noted, never raised.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from conformance.harness import records as rec_io

# the fields every part of the report reads; the schema requires more, a report needs these
NEEDED = ("surface", "framework", "version", "property", "verdict", "status", "kind", "config", "expected", "actual")
EMPTY = "empty: no records"


@dataclass
class FileRead:
    path: str
    records: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class Loaded:
    records: list[dict]
    files: list[FileRead]

    @property
    def problems(self) -> list[str]:
        """What could not be read, one line each, naming the file."""
        return [p if p.startswith(f.path) else f"{f.path}: {p}" for f in self.files for p in f.problems]

    @property
    def damaged(self) -> bool:
        """True when some file could not be read in full (an empty file is not damage)."""
        return any(p != EMPTY for f in self.files for p in f.problems)


def record_paths(given: Iterable[str | Path]) -> list[tuple[Path, str | None]]:
    """Each file named, and the *.jsonl files under each folder named, with a note for what is not there."""
    out: list[tuple[Path, str | None]] = []
    for p in map(Path, given):
        if p.is_dir():
            found = sorted(q for q in p.rglob("*.jsonl") if q.is_file())
            out.extend((q, None) for q in found)
            if not found:
                out.append((p, "a folder with no *.jsonl records files"))
        elif p.exists():
            out.append((p, None))
        else:
            out.append((p, "no such file or folder"))
    return out


def read_file(path: Path) -> tuple[list[dict], FileRead]:
    note = FileRead(str(path))
    kept: list[dict] = []
    incomplete = 0
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for rec in rec_io.iter_records(path):
                if all(k in rec for k in NEEDED) and isinstance(rec["config"], dict):
                    kept.append(rec)
                else:
                    incomplete += 1
        note.problems.extend(str(w.message) for w in caught)
    except rec_io.RecordsError as exc:
        note.problems.append(f"refused, none of its records used: {exc}")
        kept = []
    except (AttributeError, TypeError):
        note.problems.append(f"a line is JSON but not a record object; read the {len(kept)} records before it")
    except OSError as exc:
        note.problems.append(f"cannot read: {exc.strerror or exc}")
    if incomplete:
        note.problems.append(f"{incomplete} records lack fields a report needs ({', '.join(NEEDED)}); skipped")
    if not kept and not note.problems:
        note.problems.append(EMPTY)
    note.records = len(kept)
    return kept, note


def load(given: Iterable[str | Path]) -> Loaded:
    records: list[dict] = []
    files: list[FileRead] = []
    for path, missing in record_paths(given):
        if missing:
            files.append(FileRead(str(path), 0, [missing]))
            continue
        kept, note = read_file(path)
        records.extend(kept)
        files.append(note)
    return Loaded(records, files)
