"""OS errors a user can cause, as one line naming the path and what to do.

Disk full, a quota, a read-only file system, missing permissions, or a file
where a folder should be: each becomes a :class:`~modelpm.errors.StorageError`
with the path and a hint, never a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from modelpm.errors import StorageError


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
        raise storage_error(exc, path, action) from exc
