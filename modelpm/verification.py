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
from modelpm.filecheck import file_state, states_of
from modelpm.lockfile.model import LockedModel
from modelpm.paths import check_repo_paths


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


# Above this size hashing releases the GIL, and files are checked on threads; below it, on
# this thread and helper processes (:mod:`modelpm.filecheck`).
SMALL_FILE = 1024 * 1024


def check_model(model: LockedModel, root: Path, dest: str, jobs: int = 4) -> ModelCheck:
    """Hash every locked file of ``model`` under ``root/dest`` and list strangers."""
    folder = root / dest
    prefix = f"{folder}/"
    large = [item for item in model.files if item.size > SMALL_FILE]
    small = [item for item in model.files if item.size <= SMALL_FILE]
    check_repo_paths([item.path for item in large])  # states_of checks the small ones
    states = dict(
        zip(
            (item.path for item in large),
            map_bounded(lambda item: file_state(prefix, item), large, jobs, name="verify"),
            strict=True,
        )
    )
    states.update(zip((item.path for item in small), states_of(prefix, small), strict=True))
    by_state: dict[str, list[str]] = {"ok": [], "missing": [], "modified": []}
    for item in model.files:
        by_state[states[item.path]].append(item.path)
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
    """Every file (and symlink) under ``folder`` as a '/'-separated relative path, joined
    as text (a Path per file was a tenth of a 50,000-file verify)."""
    if not folder.is_dir():
        return
    top = str(folder)
    for current, dirs, files in os.walk(top):
        dirs.sort()
        relative = os.path.relpath(current, top)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        for name in sorted(files):
            yield prefix + name
        for name in dirs:
            if os.path.islink(os.path.join(current, name)):
                yield prefix + name
