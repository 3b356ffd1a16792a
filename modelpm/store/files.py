"""Opening the store's own files without being fooled by what someone else put there.

Anyone who can write into the store could plant a symbolic link at a partial's or an
object's name, so that truncating the partial (or hashing, re-stamping or linking
the object) hits a file elsewhere. Every open here is ``O_NOFOLLOW`` and the result
is checked with ``fstat``: a regular file owned by the store's owner or by this
user, or :class:`NotOurs`. Invariant: a descriptor from :func:`open_own` is such a
file, whatever the name pointed to a moment before.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_NOFOLLOW = os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class NotOurs(OSError):
    """The name holds something the store did not make: a link, a folder, another's file."""

    def __init__(self, path: Path) -> None:
        super().__init__(errno.EPERM, f"{path} is not a file of the store")
        self.path = path


def open_own(path: Path, flags: int, owners: frozenset[int], mode: int = 0o644) -> int:
    """``os.open(path, flags | O_NOFOLLOW)``, refusing anything but a regular file of ``owners``."""
    try:
        fd = os.open(path, flags | _NOFOLLOW, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotOurs(path) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid not in owners:
            raise NotOurs(path)
    except BaseException:
        os.close(fd)
        raise
    return fd


def is_own_file(info: os.stat_result, owners: frozenset[int]) -> bool:
    """What :func:`open_own` accepts, for an ``lstat`` result."""
    return stat.S_ISREG(info.st_mode) and info.st_uid in owners
