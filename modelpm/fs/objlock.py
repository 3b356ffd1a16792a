"""A lock file per store object that is removed when it is released.

``filelock`` never deletes its lock files (deleting one is unsafe with plain ``flock``:
a waiter that opened the old file would then hold a lock nobody else sees), so a store
kept one file per object it ever fetched: 50,000 of them after one large dataset. Here
the holder removes the file *before* it unlocks, and whoever gets the lock checks that
the file it locked is still the one at the path, else it tries again on the new one.
So at most one process holds the lock of an object, and a store at rest has no lock
files at all.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading
import time
from pathlib import Path

from modelpm.errors import Interrupted

_FLAGS = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
_FIRST_POLL = 0.005  # seconds; doubled up to _LAST_POLL while another process holds it
_LAST_POLL = 0.2


def release(path: Path, fd: int) -> None:
    """Give up the lock that :func:`acquire` returned ``fd`` for."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # while still locked: see the module's docstring
    os.close(fd)


def acquire(path: Path, cancel: threading.Event | None = None) -> int:
    """Wait for the lock at ``path`` (its descriptor, for :func:`release`); waiting ends
    with :class:`Interrupted` once ``cancel`` is set."""
    poll = _FIRST_POLL
    while True:
        fd = os.open(path, _FLAGS, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            if cancel is not None and cancel.is_set():
                raise Interrupted("interrupted", hint="run sync again to resume") from None
            time.sleep(poll)
            poll = min(poll * 2, _LAST_POLL)
            continue
        if _still_at(path, fd):
            return fd
        os.close(fd)  # its holder removed it as we waited; lock the one there now


def _still_at(path: Path, fd: int) -> bool:
    try:
        there = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (there.st_dev, there.st_ino) == (mine.st_dev, mine.st_ino)
