"""Hand-made wheels for the hermetic pip tests (release channels, the release sweep): pip runs against a folder of
them, with no index and no pip configuration."""

from __future__ import annotations

import zipfile
from pathlib import Path


def wheel(folder: Path, name: str, version: str, requires=(), files: dict[str, str] | None = None) -> None:
    """A pure-Python wheel `name`-`version` in `folder`, with its Requires-Dist lines and `files` (path -> text)."""
    info = f"{name}-{version}.dist-info"
    content = dict(files or {})
    content[f"{info}/METADATA"] = (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                                   + "".join(f"Requires-Dist: {r}\n" for r in requires))
    content[f"{info}/WHEEL"] = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    content[f"{info}/RECORD"] = "".join(f"{k},,\n" for k in content) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as z:
        for k, v in content.items():
            z.writestr(k, v)
