"""Result records: one JSON object per line, appended and flushed as outcomes happen.

Each line is written with a single os.write on an O_APPEND descriptor, so a killed run keeps every line it
finished and concurrent writers (pytest-xdist workers, several tox envs) never interleave within a line.
`read` stops at damage (a truncated last line) with a warning and keeps what came before.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Iterator

SCHEMA_VERSION = 1


class RecordsError(ValueError):
    pass


class RecordWriter:
    """Appends records to `path`; the file is created on the first record (a run that judged nothing leaves none)."""

    def __init__(self, path: str | Path, fresh: bool = False):
        self.path = Path(path)
        self._fd = -1
        if fresh and self.path.exists():   # a new run replaces the file's old records (one file per run)
            self.path.unlink()

    def write(self, record: dict) -> None:
        if self._fd < 0:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        line = json.dumps({"schema": SCHEMA_VERSION, **record}, sort_keys=True, default=str) + "\n"
        os.write(self._fd, line.encode())

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def iter_records(path: str | Path) -> Iterator[dict]:
    """Records of one file, in order; a damaged line ends the read with a warning; unknown schema refuses."""
    path = Path(path)
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                warnings.warn(f"{path}:{n}: damaged record; read the {n - 1} lines before it", stacklevel=2)
                return
            if rec.get("schema") != SCHEMA_VERSION:
                raise RecordsError(f"{path}:{n}: records schema {rec.get('schema')!r}; this reader knows "
                                   f"schema {SCHEMA_VERSION}")
            yield rec


def read(paths) -> list[dict]:
    out: list[dict] = []
    for p in ([paths] if isinstance(paths, (str, Path)) else paths):
        out.extend(iter_records(p))
    return out
