"""A model's mirrors, resolved and listed at most once per run, and matched file by file.

A mirror (``mirrors = ["modelscope:owner/name@rev"]``) is another repo that carries
the same files, possibly under another owner and another commit id. Before a byte
is asked of it, a locked file is matched against its listing:

    the mirror lists the path, with the same size, and
      the same algorithm as the lock  →  the same digest: a match (else: other bytes)
      another algorithm               →  a candidate: fetched and checked on arrival
                                         (a git-sha1 lock against ModelScope's sha256)
    anything else                     →  not on the mirror

Nothing here decides where bytes come from (that is ``workflow/origins.py``), and
nothing about a mirror is ever written to the lock. A mirror that cannot be listed
(missing, private, unreachable) is remembered as such for the rest of the run, and
said once in :attr:`MirrorListings.problems`, so it is not asked again for every file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from modelpm.errors import HubError
from modelpm.manifest.model import Mirror
from modelpm.sources.base import RemoteFile, Source
from modelpm.values import Commit, Digest, RepoRef, RepoType, SourceKind

SourceFor = Callable[[SourceKind], Source]


class Match(Enum):
    SAME = "same"  # the listing attests the locked digest
    UNCHECKED = "unchecked"  # same path and size, another algorithm: checked on arrival
    OTHER = "other"  # the listing attests other bytes
    ABSENT = "absent"  # not listed at all


@dataclass(frozen=True)
class MirrorListing:
    """What a mirror holds at the commit its revision points to now."""

    mirror: Mirror
    ref: RepoRef
    commit: Commit
    files: Mapping[str, RemoteFile]

    def match(self, path: str, size: int, digest: Digest) -> Match:
        listed = self.files.get(path)
        if listed is None or listed.size != size:
            return Match.ABSENT if listed is None else Match.OTHER
        if listed.digest.algorithm != digest.algorithm:
            return Match.UNCHECKED
        return Match.SAME if listed.digest == digest else Match.OTHER


@dataclass
class MirrorListings:
    """Each mirror listed at most once per run, from any thread; failures remembered."""

    source_for: SourceFor
    problems: list[str] = field(default_factory=list)  # one line per mirror that failed
    _done: dict[tuple[Mirror, RepoType], MirrorListing | HubError] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _listing: dict[tuple[Mirror, RepoType], threading.Lock] = field(default_factory=dict)

    def get(self, mirror: Mirror, repo_type: RepoType) -> MirrorListing | None:
        """The mirror's listing; None (and a line in ``problems``) if it cannot be listed."""
        key = (mirror, repo_type)
        with self._lock:
            own = self._listing.setdefault(key, threading.Lock())
        with own:  # one thread lists a mirror; the others wait for its answer
            if key not in self._done:
                self._done[key] = self._list(mirror, repo_type)
            done = self._done[key]
        return done if isinstance(done, MirrorListing) else None

    def _list(self, mirror: Mirror, repo_type: RepoType) -> MirrorListing | HubError:
        ref = RepoRef(mirror.repo, repo_type)
        try:
            source = self.source_for(mirror.source)
            commit = source.resolve(ref, mirror.wanted_revision).commit
            files = {item.path: item for item in source.list_files(ref, commit)}
        except HubError as error:
            with self._lock:
                self.problems.append(f"mirror {mirror} was skipped: {error.message}")
            return error
        return MirrorListing(mirror, ref, commit, files)
