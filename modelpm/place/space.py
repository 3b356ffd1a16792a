"""Is there room for what a sync is about to fetch? Asked before the first byte.

A download that runs out of disk half-way leaves the disk full for every other
program (and, before this check, every later run failed the same way). So the
space the missing objects need (their locked sizes, less what their partials
already hold; and the copies, where files are copied into destinations rather
than linked) is compared with what the store's file system has free, and a
shortfall is one clear error before anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from modelpm.errors import StorageError
from modelpm.plan.tasks import FileTask, unique_objects
from modelpm.sizes import human_size
from modelpm.store.local import Store

# Leave this much free: a disk filled to the last byte breaks everything else on it.
MARGIN = 64 * 1024 * 1024


def needed_bytes(store: Store, fetch: Sequence[FileTask], *, copies: bool) -> int:
    """Bytes the fetch will add to the store's file system (worst case)."""
    needed = 0
    for task in unique_objects(fetch):
        try:
            have = os.lstat(store.partial_path(task.digest)).st_blocks * 512
        except OSError:
            have = 0
        needed += max(0, task.size - have)
    if copies:
        needed += sum(task.size for task in fetch)
    return needed


def check_free_space(store: Store, fetch: Sequence[FileTask], *, copies: bool) -> None:
    needed = needed_bytes(store, fetch, copies=copies)
    folder = store.root
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        info = os.statvfs(folder)
    except OSError:
        return  # cannot tell: the reservation before each file still fails fast
    free = info.f_bavail * info.f_frsize
    if needed + MARGIN > free:
        raise StorageError(
            f"not enough space for this sync in {store.root}: it needs {human_size(needed)} more, "
            f"and {human_size(free)} is free",
            hint=f"free at least {human_size(needed + MARGIN - free)} on that disk, or point "
            "MODELPM_HOME at a larger one",
        )
