"""One store object's bytes at one destination path, atomically, never through a link.

How the bytes get there is the project's choice (``[settings] link``):

    hardlink  the store's own inode (no copy, no disk; an edit in place is visible in every
              project that shares it, and the store notices it: see modelpm.store.local)
    reflink   a copy-on-write clone where the file system offers one (btrfs, xfs), else a copy
    copy      a private copy: projects and the store never share an inode

A new target is linked or written under a temp name and renamed in one step, so a
reader sees the old file or the new one. Every call works through a descriptor of
the target's folder from :func:`modelpm.fs.dirs.open_folder`: a folder swapped for
a symbolic link at any moment is refused, never written through.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Literal

from modelpm.fs.atomic import temp_sibling
from modelpm.fs.dirs import open_folder
from modelpm.values import LinkMode

LinkKind = Literal["hardlink", "reflink", "copy"]
# EXDEV: another file system; EPERM/EMLINK/ENOTSUP/EACCES: this one refuses links.
_NO_LINK = (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EACCES)
_FICLONE = 0x40049409  # linux/fs.h: clone a whole file (copy-on-write)
_CHUNK = 8 * 1024 * 1024
_NO_RANGE_COPY = (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP)
# Whether this system names open files in /proc (Linux does), asked once, not per file.
_HAS_PROC_FDS = os.path.isdir("/proc/self/fd")


def place_file(
    source: Path,
    root: Path,
    target: str,
    mode: LinkMode = "hardlink",
    *,
    inspect: Callable[[int, str], None] | None = None,
) -> tuple[LinkKind, os.stat_result]:
    """Put ``source``'s bytes at ``root/target`` (folders made as needed); return how, and
    the placed file's ``stat`` as it was right after (taken through the folder's descriptor).

    ``inspect``, if given, is called with the folder's descriptor and the name before
    anything is placed, to refuse (by raising) what stands there. ``source`` is opened
    without following links and must be a regular file; a hard link is made to that very
    inode (through ``/proc/self/fd``), so a name swapped in the store between the check
    and the link cannot be what gets placed.
    """
    path = PurePosixPath(target)
    name = path.name
    parent = "" if str(path.parent) == "." else str(path.parent)
    with open_folder(root, parent, create=True) as fd:
        if inspect is not None:
            inspect(fd, name)
        src = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
        try:
            if not stat.S_ISREG(os.fstat(src).st_mode):
                raise OSError(errno.EPERM, f"{source} is not a regular file")
            kind = _place(src, source, fd, name, mode)
            return kind, os.stat(name, dir_fd=fd, follow_symlinks=False)
        finally:
            os.close(src)


def _place(src: int, source: Path, fd: int, name: str, mode: LinkMode) -> LinkKind:
    if mode == "hardlink":
        try:
            _link(src, source, fd, name)
            return "hardlink"
        except FileExistsError:
            pass
        except OSError as exc:
            if exc.errno not in _NO_LINK:
                raise
            mode = "copy"  # this file system refuses links: copy instead
    tmp = temp_sibling(Path(name)).name
    try:
        kind: LinkKind = "hardlink"
        if mode == "hardlink":
            try:
                _link(src, source, fd, tmp)
            except OSError as exc:
                if exc.errno not in _NO_LINK:
                    raise
                mode = "copy"
        if mode != "hardlink":
            kind = _copy(src, fd, tmp, reflink=mode == "reflink")
        os.replace(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=fd)
        raise
    return kind


def _link(src: int, source: Path, fd: int, name: str) -> None:
    """A hard link to the inode ``src`` is open on (falling back to its name)."""
    if _HAS_PROC_FDS:
        os.link(f"/proc/self/fd/{src}", name, dst_dir_fd=fd, follow_symlinks=True)
        return
    os.link(source, name, dst_dir_fd=fd, follow_symlinks=False)


def _copy(src: int, fd: int, tmp: str, *, reflink: bool) -> LinkKind:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    dst = os.open(tmp, flags, 0o644, dir_fd=fd)
    try:
        if reflink and _clone(src, dst):
            return "reflink"
        _copy_bytes(src, dst)
        return "copy"
    finally:
        os.close(dst)


def _clone(src: int, dst: int) -> bool:
    try:
        import fcntl

        fcntl.ioctl(dst, _FICLONE, src)
    except (OSError, ImportError):
        return False  # not offered here (ext4, tmpfs, another file system): a plain copy
    return True


def _copy_bytes(src: int, dst: int) -> None:
    offset = 0
    while True:
        try:
            count = os.copy_file_range(src, dst, _CHUNK, offset, offset)
        except (OSError, AttributeError) as exc:  # not here, or not across these file systems
            if isinstance(exc, OSError) and exc.errno not in _NO_RANGE_COPY:
                raise
            count = _read_write(src, dst, offset)
        if count == 0:
            return
        offset += count


def _read_write(src: int, dst: int, offset: int) -> int:
    data = os.pread(src, _CHUNK, offset)
    written = 0
    while written < len(data):
        written += os.pwrite(dst, data[written:], offset + written)
    return len(data)
