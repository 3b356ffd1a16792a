"""Removing what a killed run left behind, and nothing else.

Only names :func:`modelpm.fs.atomic.temp_sibling` makes are candidates, never a
path the caller says to keep (a repo may well ship a file with such a name),
and only when older than the caller's cut-off (a younger one may be a live
writer's).
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Collection
from pathlib import Path

from modelpm.fs.atomic import TEMP_PREFIX

_TEMP_NAME = re.compile(rf"^{re.escape(TEMP_PREFIX)}[0-9a-f]{{12}}-")


def remove_temp_files(
    folder: Path,
    keep: Collection[Path] = (),
    *,
    of: str = "",
    recursive: bool = True,
    older_than: float = 0.0,
) -> int:
    """Delete temp files a killed run left in ``folder`` (and below, if ``recursive``),
    for files named ``of`` if given, last written ``older_than`` seconds ago or earlier."""
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
