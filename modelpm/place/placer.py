"""Placing, checking and removing one project's files, recorded in its state.

Invariant: only a verified store object is ever placed, only a file modelpm
placed and nobody changed since is ever removed, and nothing is written
outside a model's destination (a symbolic link leading out is refused). Every
placement is recorded in the :class:`~modelpm.project.state.State` as it
happens, so a run that fails half-way still remembers what it did. Calls may
come from fetch threads; the state and the report are changed under a lock.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from modelpm.errors import ModelpmError
from modelpm.fs.cleanup import remove_empty_parents
from modelpm.fs.errors import storage_errors
from modelpm.hashing import hash_file
from modelpm.paths import outside_of
from modelpm.place.links import place_file
from modelpm.place.report import SyncReport
from modelpm.plan.tasks import FileTask
from modelpm.project.state import PlacedFile, State
from modelpm.store.local import Store


@dataclass
class Placer:
    root: Path
    store: Store
    state: State
    report: SyncReport = field(default_factory=SyncReport)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, task: FileTask) -> None:
        stat = (self.root / task.target).stat()
        with self.lock:
            self.state.files[task.target] = PlacedFile(
                task.digest, stat.st_size, stat.st_mtime_ns, stat.st_ino
            )

    def note(self, text: str) -> None:
        with self.lock:
            self.report.notes.append(text)

    def place(self, task: FileTask) -> None:
        """Put the store's object of ``task`` at its target (the store must have it)."""
        target = self.root / task.target
        if target.is_symlink() or target.is_dir():
            raise _in_the_way(target)
        escape = outside_of(self.root / task.dest, target.parent)
        if escape is not None:
            raise ModelpmError(
                f"cannot place {task.target}: a symbolic link in its way leads out of "
                f"{task.dest} (to {escape})",
                hint="remove the link and run sync again; modelpm writes only inside the "
                "destination",
            )
        if self._unvouched_file_at(target, task.target):
            # The user's bytes go; say so (a file modelpm placed and nobody touched is
            # replaced silently when the lock moves on).
            self.note(f"restored {task.target}: its content differed from the lock")
        kind = place_file(self.store.object_path(task.digest), target)
        self.record(task)
        with self.lock:
            if kind == "hardlink":
                self.report.linked += 1
            else:
                self.report.copied += 1

    def check(self, task: FileTask) -> bool:
        """True if the file already at the target has the locked bytes (then it is recorded)."""
        target = self.root / task.target
        if target.is_symlink() or not target.is_file():
            return False
        with storage_errors(target, "read"):
            ok = hash_file(target, task.digest.algorithm) == task.digest
            shares_store_inode = _same_inode(target, self.store.object_path(task.digest))
        if ok:
            self.record(task)
            return True
        if shares_store_inode:
            # Edited in place through the hard link: the store's copy is damaged too.
            self.store.evict(task.digest)
        return False

    def remove(self, target: str) -> None:
        """Remove a placed file nothing wants any more, unless someone changed it."""
        path = self.root / target
        record = self.state.files.pop(target)
        if outside_of(self.root, path.parent) is not None:
            self.note(f"kept {target}: a symbolic link leads it out of the project")
            return
        try:
            current = path.stat()
        except OSError:
            return
        if not record.matches(current):
            self.note(f"kept {target}: no longer in the lock, but changed since modelpm placed it")
            return
        with storage_errors(path, "remove"):
            path.unlink()
        remove_empty_parents(path.parent, self.root)
        self.report.removed += 1

    def _unvouched_file_at(self, target: Path, key: str) -> bool:
        """True if a file stands at ``target`` that modelpm did not place as it is now."""
        try:
            current = target.stat()
        except OSError:
            return False
        record = self.state.files.get(key)
        return record is None or not record.matches(current)


def _same_inode(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _in_the_way(target: Path) -> ModelpmError:
    kind = "a symlink" if target.is_symlink() else "a folder"
    return ModelpmError(
        f"cannot place {target}: {kind} is in the way", hint="move it away and run sync again"
    )
