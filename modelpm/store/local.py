"""The content-addressed store: every file once, keyed by its hash.

Layout under the store root (default ``~/.cache/modelpm``)::

    objects/<algorithm>/<2 hex>/<hexdigest>   verified files, read-only (0444)
    partial/<algorithm>-<hexdigest>.part      downloads in progress, pre-sized
    partial/<algorithm>-<hexdigest>.ranges    which byte ranges of the .part are written
    locks/<algorithm>-<hexdigest>.lock        an object's lock while it is fetched (removed after)
    projects/<id>.json                        projects that used this store (for gc)
    ledger.sqlite                             each object's ctime when last vouched for
    CACHEDIR.TAG                              tells backup tools to skip the store

Invariant: a file under ``objects/`` that modelpm hands out hashes to its name.
Nothing enters it except by :meth:`Store.commit_partial` after the caller verified
the bytes, and the rename is atomic, so a crash leaves an object complete or absent.
Partial names derive from the expected hash, so any later run (or another process
holding the lock) resumes the same bytes.

Objects are shared with projects by hard links, so an edit made in place to a
placed file (as root, or after a chmod) edits the object too. Every object is
committed with one fixed modification time, :data:`OBJECT_MTIME_NS` (as the Nix
store does), and the store's :mod:`~modelpm.store.ledger` records its change time
(which no ``utime`` can restore): an object whose mtime moved, or whose ctime is
not the recorded one, is hashed again before it is used, and evicted if it no
longer matches. Nothing in the store is opened through a symbolic link, or used
unless it is a regular file of the store's owner or this user (:mod:`.files`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from modelpm.fs import objlock
from modelpm.fs.atomic import atomic_write_text, fsync_dir
from modelpm.fs.cleanup import has_temp_files, remove_temp_files
from modelpm.fs.errors import storage_errors
from modelpm.hashing import hash_fd
from modelpm.store.files import NotOurs, is_own_file, open_own
from modelpm.store.ledger import Ledger
from modelpm.store.registry import Registry
from modelpm.values import Digest, is_hash_algorithm

CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This folder is the modelpm store; backups may skip it.\n"
)

# 1970-01-01T00:00:01Z, the time Nix gives its store files: placed files show it too.
OBJECT_MTIME_NS = 1_000_000_000
Condition = Literal["ok", "suspect", "absent"]


@dataclass(frozen=True)
class Store:
    """A store rooted at ``root``; cheap to create, folders are made on first write."""

    root: Path
    ledger: Ledger = field(init=False, compare=False, repr=False)
    owners: frozenset[int] = field(init=False, compare=False, repr=False)
    # Set once the store's folders exist: made once per store value, not once per object.
    _prepared: threading.Event = field(
        init=False, compare=False, repr=False, default_factory=threading.Event
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "ledger", Ledger(self.root / "ledger.sqlite"))
        owners = {os.geteuid()}
        with contextlib.suppress(OSError):
            owners.add(self.root.stat().st_uid)
        object.__setattr__(self, "owners", frozenset(owners))

    # Paths are joined as text: a sync asks for each several times per object, and a Path
    # built per join was a visible share of a sync of 50,000 small files.
    def object_path(self, digest: Digest) -> Path:
        return Path(self._object_name(digest))

    def _object_name(self, digest: Digest) -> str:
        return f"{self.root}/objects/{digest.algorithm}/{digest.hexdigest[:2]}/{digest.hexdigest}"

    def partial_path(self, digest: Digest) -> Path:
        return Path(f"{self.root}/partial/{digest.key}.part")

    def ranges_path(self, digest: Digest) -> Path:
        return Path(f"{self.root}/partial/{digest.key}.ranges")

    @property
    def registry(self) -> Registry:
        return Registry(self.root / "projects")

    # -- is it there, and intact? ----------------------------------------------------

    def condition(self, digest: Digest, size: int) -> Condition:
        """``ok``: present and untouched since modelpm last vouched for it; ``suspect``:
        something is there that must be hashed first; ``absent``: nothing usable."""
        try:
            info = os.lstat(self._object_name(digest))
        except OSError:
            return "absent"
        if not is_own_file(info, self.owners) or info.st_size != size:
            return "suspect"  # a planted link, another's file, a wrong size: evicted by vouch
        if info.st_mtime_ns != OBJECT_MTIME_NS:
            return "suspect"
        return "ok" if self.ledger.get(digest.key) == info.st_ctime_ns else "suspect"

    def has(self, digest: Digest, size: int) -> bool:
        """True when the object is present, untouched since it was last vouched for."""
        return self.condition(digest, size) == "ok"

    def vouch(self, digest: Digest, size: int) -> bool:
        """:meth:`has`, hashing a suspect object first: kept if intact, else evicted."""
        condition = self.condition(digest, size)
        if condition != "suspect":
            return condition == "ok"
        with self.locked(digest):  # another process may be replacing it right now
            return self.vouch_held(digest, size)

    def vouch_held(self, digest: Digest, size: int) -> bool:
        """:meth:`vouch` for a caller that holds the object's lock."""
        condition = self.condition(digest, size)
        if condition != "suspect":
            return condition == "ok"
        path = self.object_path(digest)
        try:
            fd = open_own(path, os.O_RDONLY, self.owners)
        except NotOurs:
            self.evict(digest)
            return False
        except OSError:
            return False  # gone or unreadable: fetch it again
        try:
            info = os.fstat(fd)
            if info.st_size != size or hash_fd(fd, digest.algorithm, size) != digest:
                self.evict(digest)
                return False
            os.utime(fd, ns=(OBJECT_MTIME_NS, OBJECT_MTIME_NS))
            if info.st_mode & 0o777 != 0o444:
                os.fchmod(fd, 0o444)
            self.ledger.put(digest.key, os.fstat(fd).st_ctime_ns)
        except OSError:
            return False  # its time or mode cannot be set: fetch it again
        finally:
            os.close(fd)
        return True

    def vouches_for(self, digest: Digest, placed: os.stat_result) -> bool:
        """True when ``placed`` is this object's own inode and its change time is the one
        the ledger recorded after modelpm's last link: the change was modelpm's."""
        try:
            info = os.lstat(self._object_name(digest))
        except OSError:
            return False
        return (
            info.st_ino == placed.st_ino
            and info.st_ctime_ns == placed.st_ctime_ns
            and info.st_mtime_ns == OBJECT_MTIME_NS
            and self.ledger.get(digest.key) == placed.st_ctime_ns
        )

    def note_linked(self, digest: Digest) -> None:
        """Record the change time a new hard link gave an object just placed from ``ok``."""
        with contextlib.suppress(OSError):
            info = os.lstat(self._object_name(digest))
            if is_own_file(info, self.owners) and info.st_mtime_ns == OBJECT_MTIME_NS:
                self.ledger.put(digest.key, info.st_ctime_ns)

    # -- partials --------------------------------------------------------------------

    def open_partial(self, digest: Digest) -> int:
        """A read-write descriptor of the object's partial file, made if needed.

        Recovers every state a killed commit can leave (a read-only partial) and refuses
        what is not the store's own (a planted link is removed, never followed).
        """
        path = self.partial_path(digest)
        with storage_errors(path, "write"):
            for _ in range(3):
                try:
                    return open_own(path, os.O_RDWR | os.O_CREAT, self.owners)
                except FileNotFoundError:
                    path.parent.mkdir(parents=True, exist_ok=True)  # made on first need
                except NotOurs:
                    path.unlink(missing_ok=True)
                except PermissionError:
                    self._make_writable(path)
            raise OSError(errno.EACCES, f"cannot open {path}")

    def _make_writable(self, path: Path) -> None:
        """A partial left read-only by a commit killed before its rename (any user may own
        one): its owner can make it writable again."""
        fd = open_own(path, os.O_RDONLY, self.owners)
        try:
            os.fchmod(fd, 0o644)
        finally:
            os.close(fd)

    def partial_looks_finished(self, digest: Digest, size: int) -> bool:
        """True when a partial got as far as a commit's re-stamp (its bytes were verified
        then): worth hashing before fetching anything."""
        try:
            info = os.lstat(self.partial_path(digest))
        except OSError:
            return False
        return (
            is_own_file(info, self.owners)
            and info.st_size == size
            and info.st_mtime_ns == OBJECT_MTIME_NS
        )

    def commit_partial(self, digest: Digest) -> Path:
        """Move a verified partial into ``objects/``, read-only. Caller holds :meth:`locked`.

        The steps, in order, each leaving a state the next run recovers from: fsync,
        fixed mtime, read-only (a partial in these states is re-opened writable, or
        hashed and committed), record gone, rename, ledger.
        """
        partial = self.partial_path(digest)
        target = self.object_path(digest)
        with storage_errors(target, "store"):
            fd = open_own(partial, os.O_RDONLY, self.owners)
            try:
                os.fsync(fd)
                os.utime(fd, ns=(OBJECT_MTIME_NS, OBJECT_MTIME_NS))
                os.fchmod(fd, 0o444)
            finally:
                os.close(fd)
            # The record goes first: a run killed in between leaves a partial without one
            # (hashed and committed, or fetched again), never a record with no partial.
            self.ranges_path(digest).unlink(missing_ok=True)
            try:
                os.replace(partial, target)
            except FileNotFoundError:  # its folder is made on first need
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(partial, target)
            fsync_dir(target.parent)
        self.note_linked(digest)
        return target

    def evict(self, digest: Digest) -> None:
        """Drop an object found corrupted, or anything planted at its name."""
        path = self.object_path(digest)
        self.ledger.forget(digest.key)
        with contextlib.suppress(FileNotFoundError), storage_errors(path, "remove"):
            path.unlink()

    def discard_partial(self, digest: Digest) -> None:
        self.partial_path(digest).unlink(missing_ok=True)
        self.ranges_path(digest).unlink(missing_ok=True)

    def has_temp_files(self) -> bool:
        """True if ``partial/`` holds temp files of records (a killed run's, or a live one's)."""
        return has_temp_files(self.root / "partial")

    def remove_stale_temp_files(self, digest: Digest) -> None:
        """Drop the temp files of ``.ranges`` records a killed run left. Caller holds
        :meth:`locked`, so no live writer of this object's record can own one."""
        remove_temp_files(self.root / "partial", of=self.ranges_path(digest).name, recursive=False)

    # -- locks, registry, listing ------------------------------------------------------

    @contextlib.contextmanager
    def locked(self, digest: Digest, cancel: threading.Event | None = None) -> Iterator[None]:
        """Hold the per-object lock: one process downloads an object, others wait for it.

        Waiting stops with :class:`Interrupted` once ``cancel`` is set (Ctrl-C must not
        wait for another process to finish a 40 GB file).
        """
        path = self.root / "locks" / f"{digest.key}.lock"
        with storage_errors(path, "create"):
            self._prepare()
            try:
                fd = objlock.acquire(path, cancel)
            except FileNotFoundError:  # the store's folders went away since: make them again
                self._prepared.clear()
                self._prepare()
                fd = objlock.acquire(path, cancel)
        try:
            yield
        finally:
            objlock.release(path, fd)  # and its file is gone: a store at rest holds none

    def _prepare(self) -> None:
        if self._prepared.is_set():
            return
        for name in ("objects", "partial", "locks", "projects"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        tag = self.root / "CACHEDIR.TAG"
        if not tag.exists():
            atomic_write_text(tag, CACHEDIR_TAG)
        self._prepared.set()

    def register_project(self, project_root: Path) -> None:
        """Remember that a project uses this store, so ``store gc`` can find its lock."""
        with storage_errors(self.root, "write"):
            self._prepare()
        self.registry.register(project_root)

    def forget_project(self, project_root: Path) -> None:
        self.registry.forget(project_root)

    def projects(self) -> list[Path]:
        return self.registry.projects()

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
