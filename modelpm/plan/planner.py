"""The four-way plan of a sync, from the lock, the recorded state and one ``stat`` per file.

Every wanted file of the selected models lands in exactly one of::

    keep   placed earlier and unchanged since (size, mtime, inode as recorded)
    check  something is at the target that the state cannot vouch for: hash it
    place  the store has the object: link (or copy) it into place
    fetch  fetch into the store first, then place

plus the placed files that nothing wants any more (``remove``). Pure: the
``stat`` of a target and "is it in the store" are injected, so the plan is
tested as a table (``tests/test_planning.py``) and ``--dry-run`` can print it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from modelpm.plan.tasks import FileTask, unique_objects
from modelpm.project.state import State
from modelpm.values import Digest

StatFn = Callable[[str], "os.stat_result | None"]
InStore = Callable[[Digest, int], bool]
StillVouched = Callable[[Digest, "os.stat_result"], bool]


def nothing_in_store(_digest: Digest, _size: int) -> bool:
    """For plans that must not look in the store (enough to tell a no-op)."""
    return False


def never(_digest: Digest, _stat: os.stat_result) -> bool:
    return False


@dataclass(frozen=True)
class SyncPlan:
    keep: tuple[FileTask, ...] = ()
    check: tuple[FileTask, ...] = ()
    place: tuple[FileTask, ...] = ()
    fetch: tuple[FileTask, ...] = ()
    remove: tuple[str, ...] = ()

    @property
    def is_noop(self) -> bool:
        return not (self.check or self.place or self.fetch or self.remove)

    @property
    def fetch_bytes(self) -> int:
        return sum(task.size for task in unique_objects(self.fetch))

    @property
    def tasks(self) -> tuple[FileTask, ...]:
        """Every wanted file of the selected models, whatever its bucket."""
        return (*self.keep, *self.check, *self.place, *self.fetch)


def plan_sync(
    wanted: Sequence[FileTask],
    selected: Iterable[str] | None,
    state: State,
    stat: StatFn,
    in_store: InStore = nothing_in_store,
    still_vouched: StillVouched = never,
) -> SyncPlan:
    """Sort the files of the ``selected`` models (None: all) into keep/check/place/fetch.

    A recorded file whose change time moved is kept only if ``still_vouched`` says the
    change was modelpm's own (it linked the same store object elsewhere since). Removal
    is decided against every wanted file, so syncing one model never removes another
    model's files.
    """
    chosen = None if selected is None else set(selected)
    keep: list[FileTask] = []
    check: list[FileTask] = []
    place: list[FileTask] = []
    fetch: list[FileTask] = []
    for task in wanted:
        if chosen is not None and task.model not in chosen:
            continue
        current = stat(task.target)
        record = state.files.get(task.target)
        if (
            current is not None
            and record is not None
            and record.digest == task.digest
            and record.same_inode(current)
            and (record.matches(current) or still_vouched(task.digest, current))
        ):
            keep.append(task)
        elif current is not None and current.st_size == task.size:
            check.append(task)
        elif in_store(task.digest, task.size):
            place.append(task)
        else:
            fetch.append(task)
    wanted_targets = {task.target for task in wanted}
    remove = tuple(sorted(target for target in state.files if target not in wanted_targets))
    return SyncPlan(tuple(keep), tuple(check), tuple(place), tuple(fetch), remove)
