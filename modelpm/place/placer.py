"""Placing, checking and removing one project's files, recorded in its state.

Invariant: only a verified store object is ever placed, only a file modelpm
placed and nobody changed since is ever removed, and nothing is written outside
a model's destination: every write goes through descriptors of real folders
(:mod:`modelpm.fs.dirs`), so a folder swapped for a symbolic link at any moment,
before or during a sync, is refused and never written through. Every placement
is recorded in the :class:`~modelpm.project.state.State` as it happens, so a run
that fails half-way still remembers what it did. Calls may come from fetch
threads; the state and the report are changed under a lock.
"""

from __future__ import annotations

import errno
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from modelpm.errors import ModelpmError
from modelpm.fs.dirs import LinkInTheWay, entry_kind, open_folder, remove_empty_folders
from modelpm.fs.errors import storage_error, storage_errors
from modelpm.hashing import hash_fd
from modelpm.place.links import place_file
from modelpm.place.report import SyncReport
from modelpm.plan.tasks import FileTask
from modelpm.project.state import PlacedFile, State
from modelpm.store.local import Store
from modelpm.values import LinkMode


@dataclass
class Placer:
    root: Path
    store: Store
    state: State
    mode: LinkMode = "hardlink"
    report: SyncReport = field(default_factory=SyncReport)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, text: str) -> None:
        with self.lock:
            self.report.notes.append(text)

    def place(self, task: FileTask) -> None:
        """Put the store's object of ``task`` at its target (the store must have it)."""

        def refuse_what_is_in_the_way(fd: int, name: str) -> None:
            kind = entry_kind(fd, name)
            if kind in ("link", "folder"):
                raise _in_the_way(self.root / task.target, kind)
            if kind is not None and self._unvouched(task.target, os.stat(name, dir_fd=fd)):
                # The user's bytes go; say so (a file modelpm placed and nobody touched
                # is replaced silently when the lock moves on).
                self.note(f"restored {task.target}: its content differed from the lock")

        try:
            how, placed = place_file(
                self.store.object_path(task.digest),
                self.root,
                task.target,
                self.mode,
                inspect=refuse_what_is_in_the_way,
            )
        except LinkInTheWay as exc:
            raise self._link_error(task, exc) from None
        except OSError as exc:  # the target's Path is built only now: 50,000 add up
            raise storage_error(exc, self.root / task.target, "place") from exc
        if how == "hardlink":
            self.store.note_linked(task.digest)  # the link moved the object's change time
        with self.lock:
            self.state.record(task.target, PlacedFile.of(task.digest, placed))
            if how == "hardlink":
                self.report.linked += 1
            else:
                self.report.copied += 1

    def check(self, task: FileTask) -> bool:
        """True if the file already at the target has the locked bytes (then it is recorded)."""
        folder, name = _split(task.target)
        try:
            with open_folder(self.root, folder) as dir_fd:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dir_fd)
        except OSError:
            return False  # not there, not a file, or behind a link: place it anew
        try:
            info = os.fstat(fd)
            if info.st_size != task.size:
                return False
            ok = hash_fd(fd, task.digest.algorithm, task.size) == task.digest
            info = os.fstat(fd)
        except OSError as exc:
            raise storage_error(exc, self.root / task.target, "read") from exc
        finally:
            os.close(fd)
        if ok:
            with self.lock:
                self.state.record(task.target, PlacedFile.of(task.digest, info))
            return True
        if self._shares_store_inode(task, info):
            # Edited in place through the hard link: the store's copy is damaged too.
            self.store.evict(task.digest)
        return False

    def remove(self, target: str) -> None:
        """Remove a placed file nothing wants any more, unless someone changed it."""
        record = self.state.forget(target)
        folder, name = _split(target)
        try:
            with open_folder(self.root, folder) as fd:
                try:
                    current = os.stat(name, dir_fd=fd, follow_symlinks=False)
                except FileNotFoundError:
                    return
                if not record.same_inode(current):
                    self.note(
                        f"kept {target}: no longer in the lock, but changed since modelpm placed it"
                    )
                    return
                with storage_errors(self.root / target, "remove"):
                    os.unlink(name, dir_fd=fd)
        except LinkInTheWay:
            self.note(f"kept {target}: a symbolic link leads it out of the project")
            return
        except OSError:
            return
        remove_empty_folders(self.root, folder)
        self.report.removed += 1

    def _unvouched(self, key: str, current: os.stat_result) -> bool:
        """True if the file standing at ``key`` is not one modelpm placed as it is now."""
        record = self.state.files.get(key)
        return record is None or not record.same_inode(current)

    def _shares_store_inode(self, task: FileTask, info: os.stat_result) -> bool:
        try:
            return os.lstat(self.store.object_path(task.digest)).st_ino == info.st_ino
        except OSError:
            return False

    def _link_error(self, task: FileTask, exc: LinkInTheWay) -> ModelpmError:
        dest = (self.root / task.dest).resolve()
        if exc.leads_to is None:  # a file where a folder should be
            return storage_error(OSError(errno.ENOTDIR, "Not a directory"), exc.path, "place")
        if exc.leads_to != dest and dest not in exc.leads_to.parents:
            where = f"leads out of {task.dest} (to {exc.leads_to})"
        else:
            where = f"is in its way ({exc.path.relative_to(self.root)})"
        return ModelpmError(
            f"cannot place {task.target}: a symbolic link in its way {where}",
            hint="remove the link and run sync again; modelpm writes only inside the "
            "destination, through real folders",
        )


def _split(target: str) -> tuple[str, str]:
    path = PurePosixPath(target)
    parent = str(path.parent)
    return ("" if parent == "." else parent), path.name


def _in_the_way(target: Path, kind: str) -> ModelpmError:
    what = "a symlink" if kind == "link" else "a folder"
    return ModelpmError(
        f"cannot place {target}: {what} is in the way", hint="move it away and run sync again"
    )
