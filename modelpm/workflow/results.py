"""What the library's commands return: frozen results with stable field names.

The JSON the CLI prints (``status --json``, ``outdated --json``) is these
fields as they are, so renaming one is a breaking change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from modelpm.lockfile.model import Lock
from modelpm.place.report import SyncReport
from modelpm.plan.planner import SyncPlan
from modelpm.resolve.staleness import Staleness
from modelpm.values import RepoType, StatusState

if TYPE_CHECKING:  # the no-op sync returns a SyncResult and loads no resolver
    from modelpm.resolve.resolver import Resolved


@dataclass(frozen=True)
class LockResult:
    lock: Lock
    written: bool
    resolved: tuple[str, ...]
    kept: tuple[str, ...]
    removed: tuple[str, ...]
    staleness: Staleness
    details: Mapping[str, Resolved] = field(default_factory=dict)  # per resolved model
    dry_run: bool = False  # resolved to show the plan; nothing was written
    renamed: tuple[tuple[str, str], ...] = ()  # (name, the repo's new id): a renamed repo


@dataclass(frozen=True)
class SyncResult:
    lock: LockResult | None
    plan: SyncPlan
    report: SyncReport
    dry_run: bool = False  # planned only; nothing was written or fetched


@dataclass(frozen=True)
class ModelStatus:
    name: str
    repo: str
    repo_type: RepoType
    revision: str
    commit: str | None
    files: int
    size: int
    dest: str
    state: StatusState
    missing: int  # locked files not in place as sync left them (missing or changed)

    def describe(self) -> str:
        """The state in words, for a table."""
        if self.state == "partly-synced":
            return f"partly synced ({self.missing} of {self.files} files missing or changed)"
        return self.state.replace("-", " ")


@dataclass(frozen=True)
class OutdatedRow:
    name: str
    repo: str
    revision: str
    locked_commit: str
    current_commit: str
    locked_date: str | None
    current_date: str | None
    # False when the locked commit is no longer on the source (history rewritten): sync
    # still works from the store or a mirror; `lock --upgrade-model` moves the pin.
    locked_commit_on_source: bool = True

    @property
    def outdated(self) -> bool:
        return self.locked_commit != self.current_commit
