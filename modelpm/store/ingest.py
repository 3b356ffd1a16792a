"""Putting a local file's bytes into the store: a copy (or a reflink), never a hard link.

``publish --pin`` stores the bytes it just published so that ``sync`` needs no
download. The file belongs to the user: a hard link would share its inode with a
read-only store object (and the user's next edit would damage the object), so the
bytes are cloned where the file system can (``FICLONE``: btrfs, XFS, …; the copy
shares blocks until either side is written) and copied otherwise. Either way the
store's own copy is hashed, and only a copy that matches ``digest`` is committed:
a file changed since it was hashed is refused, as a download that does not match
the lock is. The user's file is only read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from modelpm.errors import IntegrityError
from modelpm.fs.errors import storage_errors
from modelpm.hashing import BLOCK_SIZE, Hasher, new_hasher
from modelpm.store.local import Store
from modelpm.values import Digest

FICLONE = 0x40049409  # linux/fs.h: _IOW(0x94, 9, int)
Stored = Literal["present", "reflink", "copy"]


def store_copy(store: Store, source: Path, digest: Digest, size: int) -> Stored:
    """Make the store hold ``source``'s bytes as the object ``digest``, verified."""
    with store.locked(digest):
        if store.has(digest, size):
            return "present"
        store.discard_partial(digest)  # an interrupted download's bytes and record
        partial = store.partial_path(digest)
        hasher = new_hasher(digest.algorithm, size)
        with storage_errors(partial, "store"):
            with source.open("rb") as reader, partial.open("wb") as writer:
                cloned = _reflink(reader.fileno(), writer.fileno())
            how: Stored = "reflink" if cloned else "copy"
            written = _hash_copy(source if cloned else None, partial, hasher, source)
        got = hasher.hexdigest()
        if written != size or got != digest.hexdigest:
            store.discard_partial(digest)
            raise IntegrityError(
                f"{source} changed after it was published (now {digest.algorithm}:{got})",
                hint="the hub holds what was published; run `modelpm sync` to fetch it",
            )
        store.commit_partial(digest)
        return how


def _hash_copy(cloned: Path | None, partial: Path, hasher: Hasher, source: Path) -> int:
    """Hash the store's copy: read the clone, or copy ``source`` block by block into it."""
    total = 0
    buffer = bytearray(BLOCK_SIZE)
    view = memoryview(buffer)
    if cloned is not None:
        with partial.open("rb") as handle:
            while count := handle.readinto(buffer):
                hasher.update(view[:count])
                total += count
        return total
    with source.open("rb") as reader, partial.open("wb") as writer:
        while count := reader.readinto(buffer):
            writer.write(view[:count])
            hasher.update(view[:count])
            total += count
    return total


def _reflink(source_fd: int, target_fd: int) -> bool:
    """Clone ``source_fd``'s blocks into ``target_fd``; False where the file system cannot."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Windows
        return False
    try:
        fcntl.ioctl(target_fd, FICLONE, source_fd)
    except OSError:
        return False
    os.fsync(target_fd)
    return True
