"""Folders opened one component at a time, never through a symbolic link.

Checking a path and then writing to it leaves a gap: a folder swapped for a
symbolic link in between (by another process, at any moment) would redirect the
write. :func:`open_folder` closes the gap: it opens ``root`` and then each
component of ``relative`` with ``O_NOFOLLOW`` relative to the previous one, and
every write modelpm makes into a destination goes through the descriptor it
returns (``os.link``/``os.replace``/``os.unlink`` with ``dir_fd``). A symbolic
link found on the way, whenever it appeared, is refused with
:class:`LinkInTheWay`; nothing is written through it. Invariant: a descriptor
from here names a real folder that is ``root`` or inside it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class LinkInTheWay(OSError):
    """A component of the path is a symbolic link (or not a folder at all)."""

    def __init__(self, path: Path, leads_to: Path | None) -> None:
        kind = "a symbolic link" if leads_to is not None else "not a folder"
        super().__init__(errno.ENOTDIR, f"{path} is {kind}")
        self.path = path
        self.leads_to = leads_to


@contextlib.contextmanager
def open_folder(root: Path, relative: str, *, create: bool = False) -> Iterator[int]:
    """A descriptor of ``root/relative`` walked without following links; ``create`` makes
    missing folders on the way (0755)."""
    fd = os.open(root, _FLAGS & ~os.O_NOFOLLOW)  # the root itself was chosen by the user
    try:
        here = root
        for part in PurePosixPath(relative).parts if relative else ():
            here = here / part
            try:
                child = _open_child(fd, part, create)
            except OSError as exc:
                if exc.errno in (errno.ENOTDIR, errno.ELOOP):
                    raise LinkInTheWay(here, _link_target(fd, part, here)) from None
                raise
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def _open_child(fd: int, name: str, create: bool) -> int:
    """The folder ``name`` in folder ``fd``, made first if ``create`` and it is missing.

    Opened first and made only if missing: the folders of a sync's files almost always
    exist, and a ``mkdir`` that fails costs as much as one that works."""
    try:
        return os.open(name, _FLAGS, dir_fd=fd)
    except FileNotFoundError:
        if not create:
            raise
    with contextlib.suppress(FileExistsError):  # another thread or process made it meanwhile
        os.mkdir(name, 0o755, dir_fd=fd)
    return os.open(name, _FLAGS, dir_fd=fd)


def _link_target(fd: int, name: str, path: Path) -> Path | None:
    """Where the link ``name`` leads (None if it is not a link)."""
    try:
        if not stat.S_ISLNK(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
            return None
        return (path.parent / os.readlink(name, dir_fd=fd)).resolve()
    except (OSError, RuntimeError):
        return path


def entry_kind(fd: int, name: str) -> str | None:
    """``"file"``, ``"link"``, ``"folder"`` or ``"other"`` for ``name`` in folder ``fd`` (None:
    nothing there), without following a link."""
    try:
        mode = os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "folder"
    return "file" if stat.S_ISREG(mode) else "other"


def remove_empty_folders(root: Path, relative: str) -> None:
    """Remove ``root/relative`` and its parents up to ``root`` while they are empty,
    through descriptors (never through a link)."""
    parts = list(PurePosixPath(relative).parts)
    while parts:
        try:
            with open_folder(root, "/".join(parts[:-1])) as fd:
                os.rmdir(parts[-1], dir_fd=fd)
        except OSError:
            return
        parts.pop()
