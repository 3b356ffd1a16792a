"""Streaming hashers for the two hashes a hub attests.

``sha256`` is the plain content hash (what the Hub records for LFS files).
``git-sha1`` is git's blob id: sha1 over ``b"blob <size>\\0"`` followed by the
content, so the size must be known before the first byte. Both are fed in
order, one block at a time, and never need the whole file in memory.
"""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path
from typing import Protocol

from modelpm.values import Digest, HashAlgorithm

BLOCK_SIZE = 8 * 1024 * 1024


class Hasher(Protocol):
    def update(self, data: bytes | bytearray | memoryview, /) -> None: ...

    def hexdigest(self) -> str: ...


def new_hasher(algorithm: HashAlgorithm, size: int) -> Hasher:
    """A fresh hasher for ``algorithm``; ``size`` is the length of the content to come."""
    if algorithm == "sha256":
        return hashlib.sha256()
    if algorithm == "git-sha1":
        hasher = hashlib.sha1(usedforsecurity=False)
        hasher.update(b"blob %d\0" % size)
        return hasher
    raise ValueError(f"unknown hash algorithm {algorithm!r}")


def hash_fd(fd: int, algorithm: HashAlgorithm, size: int) -> Digest:
    """Hash the ``size`` bytes of an open file from its start, streaming in large blocks."""
    hasher = new_hasher(algorithm, size)
    buffer = block_buffer(size)
    view = memoryview(buffer)
    offset = 0
    while offset < size:
        count = os.preadv(fd, [view[: min(BLOCK_SIZE, size - offset)]], offset)
        if count <= 0:
            raise OSError(errno.EIO, "the file is shorter than its size")
        hasher.update(view[:count])
        offset += count
    return Digest(algorithm, hasher.hexdigest())


def small_hexdigest(fd: int, algorithm: HashAlgorithm, size: int) -> str:
    """The hex digest of a small file's ``size`` bytes, read in one call: at 50,000 small
    files, :func:`hash_fd`'s buffer, view and :class:`Digest` cost more than the hashing."""
    data = os.pread(fd, size, 0)
    if len(data) != size:
        raise OSError(errno.EIO, "the file is shorter than its size")
    hasher = new_hasher(algorithm, size)
    hasher.update(data)
    return hasher.hexdigest()


def block_buffer(size: int, block: int = BLOCK_SIZE) -> bytearray:
    """A buffer for reading ``size`` bytes ``block`` at a time: no larger than they are.
    Zeroing an 8 MiB buffer costs more than hashing a small file (a verify of 10,000
    small files spent 5 s doing only that)."""
    return bytearray(max(1, min(block, size)))


def hash_file(path: Path, algorithm: HashAlgorithm) -> Digest:
    """Hash a file on disk with ``algorithm``; a symbolic link is refused (OSError), not
    followed: what is hashed is what sits at that name."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    try:
        return hash_fd(fd, algorithm, os.fstat(fd).st_size)
    finally:
        os.close(fd)


def digest_bytes(algorithm: HashAlgorithm, data: bytes) -> Digest:
    hasher = new_hasher(algorithm, len(data))
    hasher.update(data)
    return Digest(algorithm, hasher.hexdigest())
