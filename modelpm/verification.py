"""Re-hash placed files against the lock and report what differs.

Owns the full check behind ``modelpm verify``: every locked file of a model
is hashed again (the fast path of ``sync`` trusts stat data; this does not),
and every file in the destination that the lock does not list is reported.
It never repairs anything; ``sync`` does.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from modelpm.concurrency import map_bounded
from modelpm.hashing import hash_file
from modelpm.lockfile.model import LockedFile, LockedModel
from modelpm.paths import join_inside


@dataclass(frozen=True)
class ModelCheck:
    """The verdict on one model's destination; paths are relative to the destination."""

    name: str
    dest: str
    ok: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not (self.missing or self.modified or self.unexpected)


@dataclass(frozen=True)
class VerifyReport:
    models: tuple[ModelCheck, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.models)


def _file_state(root: Path, item: LockedFile) -> str:
    path = join_inside(root, item.path)
    try:
        if path.is_symlink() or not path.is_file():
            return "missing"
        if path.stat().st_size != item.size:
            return "modified"
        return "ok" if hash_file(path, item.digest.algorithm) == item.digest else "modified"
    except OSError:
        return "missing"


def check_model(model: LockedModel, root: Path, dest: str, jobs: int = 4) -> ModelCheck:
    """Hash every locked file of ``model`` under ``root/dest`` and list strangers."""
    folder = root / dest
    states = map_bounded(lambda item: _file_state(folder, item), model.files, jobs, name="verify")
    by_state: dict[str, list[str]] = {"ok": [], "missing": [], "modified": []}
    for item, state in zip(model.files, states, strict=True):
        by_state[state].append(item.path)
    locked = {item.path for item in model.files}
    unexpected = sorted(path for path in _walk(folder) if path not in locked)
    return ModelCheck(
        name=model.name,
        dest=dest,
        ok=tuple(by_state["ok"]),
        missing=tuple(by_state["missing"]),
        modified=tuple(by_state["modified"]),
        unexpected=tuple(unexpected),
    )


def _walk(folder: Path) -> Iterable[str]:
    """Every file (and symlink) under ``folder`` as a '/'-separated relative path."""
    if not folder.is_dir():
        return
    for current, dirs, files in os.walk(folder):
        dirs.sort()
        base = Path(current).relative_to(folder)
        for name in sorted(files):
            yield (base / name).as_posix()
        for name in dirs:
            if (Path(current) / name).is_symlink():
                yield (base / name).as_posix()
