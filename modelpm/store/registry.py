"""Which projects use a store, so that ``store gc`` can read their locks.

    <store>/projects/<16 hex of the project path's sha256>.json   {"path": "/abs/project"}

A project is registered before its first object lands (so gc never collects what a
sync is fetching) and forgotten once its folder or lock is gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

from modelpm.fs.atomic import atomic_write_text
from modelpm.fs.errors import storage_errors


class Registry:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _entry(self, project_root: Path) -> Path:
        key = hashlib.sha256(str(project_root.resolve()).encode()).hexdigest()[:16]
        return self.folder / f"{key}.json"

    def register(self, project_root: Path) -> None:
        project_root = project_root.resolve()
        path = self._entry(project_root)
        text = json.dumps({"path": str(project_root)}) + "\n"
        with contextlib.suppress(OSError):
            if path.read_text(encoding="utf-8") == text:
                return
        with storage_errors(path, "write"):
            self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)

    def forget(self, project_root: Path) -> None:
        self._entry(project_root).unlink(missing_ok=True)

    def projects(self) -> list[Path]:
        found: list[Path] = []
        for entry in sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []:
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                found.append(Path(json.loads(entry.read_text(encoding="utf-8"))["path"]))
        return found
