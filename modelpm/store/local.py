"""The content-addressed store: every file once, keyed by its hash.

Layout under the store root (default ``~/.cache/modelpm``)::

    objects/<algorithm>/<2 hex>/<hexdigest>   verified files, read-only (0444)
    partial/<algorithm>-<hexdigest>.part      downloads in progress, pre-sized
    partial/<algorithm>-<hexdigest>.ranges    which byte ranges of the .part are written
    locks/<algorithm>-<hexdigest>.lock        one lock per object, shared by processes
    projects/<id>.json                        projects that used this store (for gc)
    CACHEDIR.TAG                              tells backup tools to skip the store

Invariant: a file under ``objects/`` hashes to its name. Nothing enters it
except by :meth:`Store.commit_partial` after the caller verified the bytes,
and the rename is atomic, so a crash leaves an object complete or absent.
Partial names derive from the expected hash, so any later run (or another
process holding the lock) resumes the same bytes.

Objects are shared with projects by hard links, so an edit made in place to a
placed file (as root, or after a chmod) edits the object too. Every object is
therefore committed with one fixed modification time, :data:`OBJECT_MTIME_NS`
(as the Nix store does): any write moves it, so one ``stat`` tells an object
that is as committed from one that must be hashed again before it is used.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from modelpm.errors import Interrupted
from modelpm.fs.atomic import atomic_write_text, fsync_dir
from modelpm.fs.cleanup import remove_temp_files
from modelpm.fs.errors import storage_errors
from modelpm.hashing import hash_file
from modelpm.values import Digest, is_hash_algorithm

CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This folder is the modelpm store; backups may skip it.\n"
)


# 1970-01-01T00:00:01Z, the time Nix gives its store files: placed files show it too.
OBJECT_MTIME_NS = 1_000_000_000


@dataclass(frozen=True)
class Store:
    """A store rooted at ``root``; cheap to create, folders are made on first write."""

    root: Path

    def object_path(self, digest: Digest) -> Path:
        return self.root / "objects" / digest.algorithm / digest.hexdigest[:2] / digest.hexdigest

    def partial_path(self, digest: Digest) -> Path:
        return self.root / "partial" / f"{digest.key}.part"

    def ranges_path(self, digest: Digest) -> Path:
        return self.root / "partial" / f"{digest.key}.ranges"

    def has(self, digest: Digest, size: int) -> bool:
        """True when the object is present, untouched since it was committed verified."""
        try:
            stat = self.object_path(digest).stat()
        except OSError:
            return False
        return stat.st_size == size and stat.st_mtime_ns == OBJECT_MTIME_NS

    def vouch(self, digest: Digest, size: int) -> bool:
        """:meth:`has`, hashing an object whose time moved: kept if intact, else evicted."""
        if self.has(digest, size):
            return True
        path = self.object_path(digest)
        if not path.exists():
            return False
        with self.locked(digest):  # another process may be replacing it right now
            if self.has(digest, size):
                return True
            try:
                if path.stat().st_size != size or hash_file(path, digest.algorithm) != digest:
                    self.evict(digest)
                    return False
                os.utime(path, ns=(OBJECT_MTIME_NS, OBJECT_MTIME_NS))
            except OSError:
                return False  # gone, unreadable, or its time cannot be set: fetch it again
        return True

    @contextlib.contextmanager
    def locked(self, digest: Digest, cancel: threading.Event | None = None) -> Iterator[None]:
        """Hold the per-object lock: one process downloads an object, others wait for it.

        Waiting stops with :class:`Interrupted` once ``cancel`` is set (Ctrl-C must not
        wait for another process to finish a 40 GB file).
        """
        path = self.root / "locks" / f"{digest.key}.lock"
        from filelock import FileLock, Timeout  # not imported on the no-op path

        with storage_errors(path, "create"):
            self._prepare()
        lock = FileLock(str(path))
        while True:
            try:
                lock.acquire(timeout=0.2)
                break
            except Timeout:
                if cancel is not None and cancel.is_set():
                    raise Interrupted("interrupted", hint="run sync again to resume") from None
        try:
            yield
        finally:
            lock.release()

    def commit_partial(self, digest: Digest) -> Path:
        """Move a verified partial into ``objects/``, read-only. Caller holds :meth:`locked`."""
        partial = self.partial_path(digest)
        target = self.object_path(digest)
        with storage_errors(target, "store"):
            target.parent.mkdir(parents=True, exist_ok=True)
            with partial.open("rb+") as handle:
                os.fsync(handle.fileno())
            os.utime(partial, ns=(OBJECT_MTIME_NS, OBJECT_MTIME_NS))
            os.chmod(partial, 0o444)
            # The record goes first: a run killed in between leaves a partial without one
            # (fetched again if ever needed), never a record with no partial (litter).
            self.ranges_path(digest).unlink(missing_ok=True)
            os.replace(partial, target)
            fsync_dir(target.parent)
        return target

    def evict(self, digest: Digest) -> None:
        """Drop an object found corrupted (edited in place through a hard link)."""
        path = self.object_path(digest)
        with contextlib.suppress(FileNotFoundError), storage_errors(path, "remove"):
            path.unlink()

    def discard_partial(self, digest: Digest) -> None:
        self.partial_path(digest).unlink(missing_ok=True)
        self.ranges_path(digest).unlink(missing_ok=True)

    def remove_stale_temp_files(self, digest: Digest) -> None:
        """Drop the temp files of ``.ranges`` records a killed run left. Caller holds
        :meth:`locked`, so no live writer of this object's record can own one."""
        remove_temp_files(self.root / "partial", of=self.ranges_path(digest).name, recursive=False)

    def _prepare(self) -> None:
        for name in ("objects", "partial", "locks", "projects"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        tag = self.root / "CACHEDIR.TAG"
        if not tag.exists():
            atomic_write_text(tag, CACHEDIR_TAG)

    def _registry_entry(self, project_root: Path) -> Path:
        key = hashlib.sha256(str(project_root.resolve()).encode()).hexdigest()[:16]
        return self.root / "projects" / f"{key}.json"

    def register_project(self, project_root: Path) -> None:
        """Remember that a project uses this store, so ``store gc`` can find its lock."""
        project_root = project_root.resolve()
        path = self._registry_entry(project_root)
        text = json.dumps({"path": str(project_root)}) + "\n"
        with contextlib.suppress(OSError):
            if path.read_text(encoding="utf-8") == text:
                return
        with storage_errors(path, "write"):
            self._prepare()
        atomic_write_text(path, text)

    def forget_project(self, project_root: Path) -> None:
        self._registry_entry(project_root).unlink(missing_ok=True)

    def projects(self) -> list[Path]:
        folder = self.root / "projects"
        found: list[Path] = []
        for entry in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                found.append(Path(json.loads(entry.read_text(encoding="utf-8"))["path"]))
        return found

    def iter_objects(self) -> Iterator[tuple[Digest, Path]]:
        base = self.root / "objects"
        if not base.is_dir():
            return
        for algorithm_dir in sorted(base.iterdir()):
            algorithm = algorithm_dir.name
            if not is_hash_algorithm(algorithm):
                continue
            for path in sorted(algorithm_dir.glob("*/*")):
                with contextlib.suppress(ValueError):
                    yield Digest(algorithm, path.name), path
