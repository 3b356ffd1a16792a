"""The partial file of one download: its space reserved before the first byte, and given
back if the reservation fails.

The file is opened through the store (never through a symbolic link, read-only
leftovers of a killed commit recovered), pre-sized to the object's length, and its
blocks are reserved with ``posix_fallocate`` so that a full disk fails at once
rather than half-way. A reservation that fails part-way keeps the blocks it got
(ext4 does); they are given back at once by punching holes over every range not
yet recorded as written, so a failed run never leaves the disk fuller than before
and the recorded bytes still resume. Bytes land with ``pwrite``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
from pathlib import Path

from modelpm.fs.errors import storage_errors
from modelpm.transfer.ranges import Ranges

_FALLOC_FL_KEEP_SIZE = 0x01
_FALLOC_FL_PUNCH_HOLE = 0x02
_UNSUPPORTED = (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS)


class PartialFile:
    def __init__(self, fd: int, path: Path, size: int) -> None:
        self.fd = fd
        self.path = path
        self.size = size

    def reserve(self, recorded: Ranges) -> None:
        """Give the file its final size and reserve its blocks; on failure give back every
        block beyond what ``recorded`` holds, then raise a StorageError."""
        with storage_errors(self.path, "write"):
            if os.fstat(self.fd).st_size != self.size:
                os.ftruncate(self.fd, self.size)
            if not self.size or not hasattr(os, "posix_fallocate"):
                return
            try:
                os.posix_fallocate(self.fd, 0, self.size)
            except OSError as exc:
                if exc.errno in _UNSUPPORTED:
                    return
                self._give_back(recorded)
                raise

    def write(self, data: memoryview, offset: int) -> None:
        with storage_errors(self.path, "write"):
            while data:
                written = os.pwrite(self.fd, data, offset)
                data, offset = data[written:], offset + written

    def close(self) -> None:
        os.close(self.fd)

    def _give_back(self, recorded: Ranges) -> None:
        gaps = recorded.missing()
        if all(_punch(self.fd, start, end - start) for start, end in gaps):
            return
        # No hole punching here: keep only the recorded prefix (the rest is fetched again).
        with contextlib.suppress(OSError):
            os.ftruncate(self.fd, recorded.prefix())


def _punch(fd: int, offset: int, length: int) -> bool:
    """Deallocate ``length`` bytes at ``offset`` (the file keeps its size)."""
    libc = _libc()
    if libc is None or length <= 0:
        return length <= 0
    mode = _FALLOC_FL_PUNCH_HOLE | _FALLOC_FL_KEEP_SIZE
    result = libc.fallocate(fd, mode, ctypes.c_longlong(offset), ctypes.c_longlong(length))
    return bool(result == 0)


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong]
    except (OSError, AttributeError):
        return None
    return libc
