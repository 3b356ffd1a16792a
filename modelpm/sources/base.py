"""The interface of a source: what the rest of modelpm may ask a hub.

A :class:`Source` resolves a revision to a commit, lists a commit's files with
the hash it attests for each, and is an :class:`~modelpm.transfer.origin.Origin`
for their bytes. It raises only :mod:`modelpm.errors` errors. Everything it
returns is validated input: commit ids are 40 hex digits, paths pass
:func:`modelpm.paths.check_repo_path`, no path is listed twice, hashes parse.

A new source is proven by passing ``tests/test_source_contract.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from modelpm.transfer.origin import Origin
from modelpm.values import Commit, Digest, RepoRef, SourceKind


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """A file of a commit as the source lists it."""

    path: str
    size: int
    digest: Digest


@dataclass(frozen=True)
class ResolvedRevision:
    """What a branch, tag or commit points to now."""

    commit: Commit
    date: datetime | None = None
    # The repo's id on the source now, when the source answered for another one (a renamed
    # repo: the Hub redirects the old id to the new); None: the id asked for.
    canonical: str | None = None


@dataclass(frozen=True)
class HubScan:
    """A hub's own security scan of a file (the Hub's ``securityFileStatus``)."""

    status: str  # "safe", "unsafe", "suspicious", "unscanned", … as the hub says
    imports: tuple[tuple[str, str, str], ...] = ()  # (module, name, safety) of a pickle


@runtime_checkable
class ScansFiles(Protocol):
    """A source that can say what its own security scan found (optional, issue 12)."""

    def security_status(self, ref: RepoRef, commit: str, paths: list[str]) -> dict[str, HubScan]:
        """The scan of each of ``paths`` that the hub has one for."""


class Source(Origin, Protocol):
    """A hub: revisions, listings, and the bytes of its files."""

    @property
    def kind(self) -> SourceKind: ...

    @property
    def endpoint(self) -> str: ...

    def resolve(self, ref: RepoRef, revision: str) -> ResolvedRevision:
        """The commit ``revision`` (a branch, tag or commit) points to now."""

    def list_files(self, ref: RepoRef, commit: str) -> list[RemoteFile]:
        """Every file of ``commit``, sorted by path."""
