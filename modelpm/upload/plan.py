"""What a publish changes on a branch, and whether the branch then holds what was sent.

    plan_publish(local files, remote listing, delete, include, exclude)  ->  PublishPlan

Each path of the folder's selection is ``new`` (the branch lacks it), ``changed``
or ``unchanged`` (compared by the hash the hub lists for it: sha256 for LFS files,
the git blob id for the rest); a file on the branch that the folder lacks is
``deleted`` with ``--delete`` when the selection covers it (``.gitattributes``
always stays, as in ``upload_folder(delete_patterns=…)``), else it stays and is not
part of the plan. Only new and changed files are uploaded, so an unchanged folder
makes no commit. :func:`check_published` compares the new commit's listing with the
local bytes, file by file. Pure: no I/O, so both are tested as tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from modelpm.select.patterns import is_selected
from modelpm.sources.base import RemoteFile
from modelpm.upload.local import LocalFile

Action = Literal["new", "changed", "unchanged", "deleted"]
ACTIONS: tuple[Action, ...] = ("new", "changed", "unchanged", "deleted")
KEPT_ON_DELETE = frozenset({".gitattributes"})


@dataclass(frozen=True)
class PlannedFile:
    path: str
    action: Action
    size: int


@dataclass(frozen=True)
class PublishPlan:
    """Every file of the plan, sorted by path, and what must be sent or deleted."""

    files: tuple[PlannedFile, ...]
    uploads: tuple[LocalFile, ...]
    deletions: tuple[str, ...]
    local: tuple[LocalFile, ...]

    @property
    def is_empty(self) -> bool:
        """Nothing to send and nothing to delete: the branch already holds the folder."""
        return not self.uploads and not self.deletions

    @property
    def upload_bytes(self) -> int:
        return sum(item.size for item in self.uploads)

    def count(self, action: Action) -> int:
        return sum(1 for item in self.files if item.action == action)


def plan_publish(
    local: Iterable[LocalFile],
    remote: Iterable[RemoteFile],
    *,
    delete: bool,
    include: Sequence[str] | None,
    exclude: Sequence[str],
) -> PublishPlan:
    there = {item.path: item for item in remote}
    mine = sorted(local, key=lambda item: item.path)
    files: list[PlannedFile] = []
    uploads: list[LocalFile] = []
    for item in mine:
        listed = there.get(item.path)
        if listed is None:
            action: Action = "new"
        elif listed.size == item.size and listed.digest == item.digest(listed.digest.algorithm):
            action = "unchanged"
        else:
            action = "changed"
        files.append(PlannedFile(item.path, action, item.size))
        if action != "unchanged":
            uploads.append(item)
    deletions: list[str] = []
    if delete:
        paths = {item.path for item in mine}
        for path, listed in sorted(there.items()):
            if (
                path not in paths
                and path not in KEPT_ON_DELETE
                and is_selected(path, include, exclude)
            ):
                deletions.append(path)
                files.append(PlannedFile(path, "deleted", listed.size))
    files.sort(key=lambda item: item.path)
    return PublishPlan(tuple(files), tuple(uploads), tuple(deletions), tuple(mine))


def check_published(plan: PublishPlan, listing: Iterable[RemoteFile]) -> list[str]:
    """What the new commit holds that differs from the plan (empty: all as sent)."""
    there = {item.path: item for item in listing}
    problems: list[str] = []
    for item in plan.local:
        listed = there.get(item.path)
        if listed is None:
            problems.append(f"{item.path} is missing")
        elif listed.size != item.size:
            problems.append(f"{item.path} has {listed.size} bytes, not {item.size}")
        elif listed.digest != item.digest(listed.digest.algorithm):
            problems.append(
                f"{item.path} is {listed.digest}, not {item.digest(listed.digest.algorithm)}"
            )
    problems += [f"{path} was not deleted" for path in plan.deletions if path in there]
    return problems
