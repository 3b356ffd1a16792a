"""The files a lock wants placed: one :class:`FileTask` per locked file and destination.

Invariant: a task's ``target`` is inside its model's destination (the repo
path was checked when the lock was read, and is checked again here), relative
to the project root, with '/' separators.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from modelpm.lockfile.model import Lock
from modelpm.paths import check_repo_path
from modelpm.values import Commit, Digest, RepoRef, SourceKind


@dataclass(frozen=True, slots=True)
class FileTask:
    """One locked file and where it goes (``target`` is relative to the project root)."""

    model: str
    source: SourceKind
    repo: RepoRef
    commit: Commit
    path: str
    target: str
    size: int
    digest: Digest

    @property
    def label(self) -> str:
        return f"{self.model}/{self.path}"

    @property
    def dest(self) -> str:
        """The model's folder, relative to the project root."""
        return self.target[: -len(self.path)].rstrip("/")


def wanted_files(lock: Lock, destinations: Mapping[str, str]) -> list[FileTask]:
    """Every file of every locked model with a destination (``destinations[name]``)."""
    tasks: list[FileTask] = []
    for model in lock.models:
        dest = destinations.get(model.name)
        if dest is None:
            continue
        ref = RepoRef(model.repo, model.repo_type)
        # Joined as text (a 50,000-file lock makes 50,000 of these on every no-op sync): a
        # checked repo path has no '.', '..' or empty part, so this is what Path would give.
        base = Path(dest).as_posix()
        prefix = "" if base == "." else base + "/"
        for item in model.files:
            target = prefix + check_repo_path(item.path)
            tasks.append(
                FileTask(
                    model.name,
                    model.source,
                    ref,
                    model.commit,
                    item.path,
                    target,
                    item.size,
                    item.digest,
                )
            )
    return tasks


def unique_objects(tasks: Iterable[FileTask]) -> list[FileTask]:
    """One task per store object: two paths with the same bytes download once."""
    seen: dict[Digest, FileTask] = {}
    for task in tasks:
        seen.setdefault(task.digest, task)
    return list(seen.values())
