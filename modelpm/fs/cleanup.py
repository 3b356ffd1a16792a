"""Removing what a killed run left behind, and nothing else.

Only names :func:`modelpm.fs.atomic.temp_sibling` makes are candidates, never a
path the caller says to keep (a repo may well ship a file with such a name),
and only when older than the caller's cut-off (a younger one may be a live
writer's).
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import time
from collections.abc import Collection
from pathlib import Path

from modelpm.fs.atomic import TEMP_PREFIX

_TEMP_NAME = re.compile(rf"^{re.escape(TEMP_PREFIX)}[0-9a-f]{{12}}-")


def has_temp_files(folder: Path) -> bool:
    """True if ``folder`` itself (not below) holds a name
    :func:`~modelpm.fs.atomic.temp_sibling` makes (only names are read; nothing is removed)."""
    try:
        with os.scandir(folder) as entries:
            return any(_TEMP_NAME.match(entry.name) for entry in entries)
    except OSError:
        return False  # no folder, no temp files


def remove_temp_files(
    folder: Path,
    keep: Collection[str] = (),
    *,
    of: str = "",
    recursive: bool = True,
    older_than: float = 0.0,
) -> int:
    """Delete temp files a killed run left in ``folder`` (and below, if ``recursive``),
    for files named ``of`` if given, last written ``older_than`` seconds ago or earlier.
    ``keep``: full paths, as text, never to delete (a locked file may have a temp name)."""
    cutoff = time.time() - older_than
    removed = 0
    if not folder.is_dir():
        return 0
    # fwalk with descriptors and no link followed: a folder swapped for a symbolic link
    # (the top one included) is never walked into, so nothing outside is deleted.
    for top, folders, files, fd in os.fwalk(folder, follow_symlinks=False):
        if not recursive:
            folders.clear()
        for name in files:
            # The name first: most files are not temp files, and no path is built for them.
            if not _TEMP_NAME.match(name) or not name.endswith(of):
                continue
            if os.path.join(top, name) in keep:
                continue
            with contextlib.suppress(OSError):
                info = os.stat(name, dir_fd=fd, follow_symlinks=False)
                if not stat.S_ISREG(info.st_mode):
                    continue
                if older_than and info.st_mtime > cutoff:
                    continue
                os.unlink(name, dir_fd=fd)
                removed += 1
    return removed
