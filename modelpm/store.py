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
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from modelpm.fsutil import atomic_write_text, fsync_dir, storage_errors
from modelpm.lockfile import Digest

CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This folder is the modelpm store; backups may skip it.\n"
)


def default_store_root() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "modelpm"


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
        """True when the object is present with the expected size (verified when it entered)."""
        try:
            return self.object_path(digest).stat().st_size == size
        except OSError:
            return False

    @contextlib.contextmanager
    def locked(self, digest: Digest) -> Iterator[None]:
        """Hold the per-object lock: one process downloads an object, others wait for it."""
        path = self.root / "locks" / f"{digest.key}.lock"
        from filelock import FileLock  # not imported on the no-op path

        with storage_errors(path, "create"):
            self._prepare()
        with FileLock(str(path)):
            yield

    def commit_partial(self, digest: Digest) -> Path:
        """Move a verified partial into ``objects/``, read-only. Caller holds :meth:`locked`."""
        partial = self.partial_path(digest)
        target = self.object_path(digest)
        with storage_errors(target, "store"):
            target.parent.mkdir(parents=True, exist_ok=True)
            with partial.open("rb+") as handle:
                os.fsync(handle.fileno())
            os.chmod(partial, 0o444)
            os.replace(partial, target)
            fsync_dir(target.parent)
            self.ranges_path(digest).unlink(missing_ok=True)
        return target

    def evict(self, digest: Digest) -> None:
        """Drop an object found corrupted (edited in place through a hard link)."""
        path = self.object_path(digest)
        with contextlib.suppress(FileNotFoundError), storage_errors(path, "remove"):
            path.unlink()

    def discard_partial(self, digest: Digest) -> None:
        self.partial_path(digest).unlink(missing_ok=True)
        self.ranges_path(digest).unlink(missing_ok=True)

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
            for path in sorted(algorithm_dir.glob("*/*")):
                with contextlib.suppress(ValueError):
                    yield Digest(algorithm_dir.name, path.name), path
