"""Small file-system primitives that keep the previous good state on failure.

Every write modelpm makes to a file a user can see goes through here: a temp
file in the same folder, fsync, then ``os.replace``, so a crash at any point
leaves either the old file or the new one, never half of one. OS errors a user
can cause (disk full, read-only folder, a file where a folder should be) are
turned into :class:`~modelpm.errors.StorageError` with the path and a hint.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import time
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Literal

from modelpm.errors import StorageError

TEMP_PREFIX = ".modelpm-tmp-"
LinkKind = Literal["hardlink", "copy"]


def storage_error(exc: OSError, path: Path, action: str) -> StorageError:
    """One clear line for an OS error on ``path``."""
    hints = {
        errno.ENOSPC: f"free space on the disk holding {path.parent}",
        errno.EDQUOT: f"free space in your quota on {path.parent}",
        errno.EROFS: f"{path.parent} is on a read-only file system; choose another folder",
        errno.EACCES: f"check the permissions of {path.parent}",
        errno.EPERM: f"check the permissions of {path.parent}",
        errno.ENOTDIR: f"a file stands where a folder is needed on the way to {path}; move it away",
        errno.EEXIST: f"a file stands where a folder is needed on the way to {path}; move it",
        errno.EISDIR: f"a folder stands where the file {path} should go; move it away",
    }
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    return StorageError(f"cannot {action} {path}: {reason}", hint=hints.get(exc.errno or 0))


@contextlib.contextmanager
def storage_errors(path: Path, action: str) -> Iterator[None]:
    """Re-raise OSError inside the block as a StorageError naming ``path``."""
    try:
        yield
    except OSError as exc:
        if isinstance(exc, StorageError):  # pragma: no cover - StorageError is not an OSError
            raise
        raise storage_error(exc, path, action) from exc


def temp_sibling(path: Path) -> Path:
    """A unique temp name in the same folder (so rename stays on one file system)."""
    return path.with_name(f"{TEMP_PREFIX}{secrets.token_hex(6)}-{path.name}"[:255])


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable; a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` so readers see the old or the new file, never a mix.

    ``durable=False`` skips the fsyncs: still atomic against a killed process (the page
    cache survives it), not against power loss. For bookkeeping that is re-checked anyway.
    """
    with storage_errors(path, "write"):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_sibling(path)
        try:
            with tmp.open("wb") as handle:
                handle.write(data)
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if durable:
            fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str, *, durable: bool = True) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), durable=durable)


def place_file(source: Path, target: Path) -> LinkKind:
    """Put ``source``'s bytes at ``target`` atomically: a hard link where possible, else a copy.

    The target's folder is created. A new target is linked in one step; an existing one
    is replaced only once the new file is complete (temp name, then rename).
    """
    with storage_errors(target, "place"):
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
            return "hardlink"
        except FileExistsError:
            pass
        except OSError as exc:
            if exc.errno not in _NO_LINK:
                raise
        tmp = temp_sibling(target)
        kind: LinkKind = "hardlink"
        try:
            try:
                os.link(source, tmp)
            except OSError as exc:
                if exc.errno not in _NO_LINK:
                    raise
                shutil.copyfile(source, tmp)
                os.chmod(tmp, 0o644)
                kind = "copy"
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return kind


# EXDEV: another file system; EPERM/EMLINK/ENOTSUP/EACCES: this one refuses links.
_NO_LINK = (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EACCES)


class WriteBehind:
    """Moves the settled start of a large file being written out of the page cache.

    ``advance(offset)`` says that bytes before ``offset`` will not change again (they
    are written and hashed). Their writeback to disk starts at once, and bytes more
    than ``lag`` behind are dropped from the cache, written back by then. So the fsync
    that makes the finished file durable has almost nothing left to do (measured here:
    writing 1 GiB durably took 3.0 s plainly and 0.7 s this way), and a 40 GB download
    does not push everything else out of memory. Linux does both with one call:
    ``POSIX_FADV_DONTNEED`` starts writeback of dirty pages and drops clean ones.
    Best effort: where the call does not exist or fails, nothing changes.
    """

    def __init__(self, fd: int, lag: int) -> None:
        self.fd = fd
        self.lag = lag
        self.flushed = 0
        self.dropped = 0
        self.enabled = hasattr(os, "posix_fadvise")

    def advance(self, offset: int) -> None:
        if not self.enabled:
            return
        try:
            if offset > self.flushed:
                self._advise(self.flushed, offset)  # dirty pages: writeback starts
                self.flushed = offset
            if offset - self.lag > self.dropped:
                self._advise(self.dropped, offset - self.lag)  # clean by now: dropped
                self.dropped = offset - self.lag
        except OSError:
            self.enabled = False

    def _advise(self, start: int, end: int) -> None:
        os.posix_fadvise(self.fd, start, end - start, os.POSIX_FADV_DONTNEED)


_TEMP_NAME = re.compile(rf"^{re.escape(TEMP_PREFIX)}[0-9a-f]{{12}}-")


def remove_temp_files(
    folder: Path,
    keep: Collection[Path] = (),
    *,
    of: str = "",
    recursive: bool = True,
    older_than: float = 0.0,
) -> int:
    """Delete temp files a killed run left in ``folder`` (and below, if ``recursive``):
    only names :func:`temp_sibling` makes (for files named ``of``, if given), never a path
    in ``keep`` (a repo may well ship a file with such a name), and only those last written
    ``older_than`` seconds ago or earlier (a younger one may be a live writer's)."""
    cutoff = time.time() - older_than
    removed = 0
    if not folder.is_dir():
        return 0
    pattern = f"{TEMP_PREFIX}*{of}"
    for path in folder.rglob(pattern) if recursive else folder.glob(pattern):
        if not _TEMP_NAME.match(path.name) or path in keep or not path.is_file():
            continue
        with contextlib.suppress(OSError):
            if older_than and path.stat().st_mtime > cutoff:
                continue
            path.unlink()
            removed += 1
    return removed


def remove_empty_parents(path: Path, stop: Path) -> None:
    """Remove now-empty folders from ``path`` up to, not including, ``stop``."""
    current = path
    while current != stop and stop in current.parents:
        try:
            current.rmdir()
        except OSError:
            return
        current = current.parent
