"""The interface of a hub that takes pushes, as the publish command sees it.

A :class:`Publisher` writes; reading (the branch head, a commit's listing) goes
through the same hub's :class:`~modelpm.sources.base.Source`. It raises only
:mod:`modelpm.errors` errors: :class:`~modelpm.errors.PublishRaceError` when the
branch no longer points at ``parent`` (nothing of the push landed),
:class:`~modelpm.errors.WriteRefusedError` when the hub will not take it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from modelpm.progress import Reporter
from modelpm.upload.local import LocalFile
from modelpm.values import Commit, RepoRef


class Publisher(Protocol):
    @property
    def endpoint(self) -> str: ...

    def create_repo(self, ref: RepoRef, *, private: bool) -> None:
        """Create the repo (the hub adds its initial commit); one that exists is fine."""

    def create_branch(self, ref: RepoRef, branch: str, start: Commit) -> None:
        """Create ``branch`` at ``start``; one created meanwhile is a race."""

    def commit(
        self,
        ref: RepoRef,
        *,
        branch: str,
        parent: Commit | None,
        uploads: Sequence[LocalFile],
        deletions: Sequence[str],
        message: str,
        reporter: Reporter,
    ) -> Commit:
        """One commit on ``branch`` whose parent is ``parent`` (None: an empty repo); its id."""

    def create_tag(self, ref: RepoRef, tag: str, commit: Commit) -> None:
        """Point a new tag at ``commit``."""
