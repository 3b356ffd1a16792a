"""Repos as byte origins: the model's own repo on its source, and each of its mirrors.

Both are named ``source:repo`` (``hf:google-bert/bert-base-chinese``), which is how
the summary of a sync names where bytes came from. The own repo passes everything
through to its source. A mirror answers for another repo at another commit, so every
question is re-addressed (:class:`_At`): same path, size and locked digest, the
mirror's repo and commit. Before it is asked for bytes, a mirror must list the file
(:meth:`MirrorOrigin.has`, :mod:`modelpm.resolve.mirrors`); one that does not is not an
origin for that file. Every origin stays untrusted: the engine verifies every byte.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from modelpm.errors import HubError, ModelpmError
from modelpm.manifest.model import Mirror
from modelpm.resolve.mirrors import Match, MirrorListing, MirrorListings
from modelpm.sources.base import Source
from modelpm.transfer.origin import ReplyHead, Verdict, Wanted
from modelpm.values import Digest, RepoRef, RepoType, SourceKind


class RepoOrigin:
    """The model's own repo, on its own source."""

    def __init__(self, source: Source, kind: SourceKind, ref: RepoRef) -> None:
        self.source = source
        self.kind = kind
        self.name = f"{kind}:{ref.repo}"

    def locate(self, wanted: Wanted) -> str:
        return self.source.locate(wanted)

    def headers_for(self, url: str) -> dict[str, str]:
        return self.source.headers_for(url)

    def judge(self, reply: ReplyHead, url: str, wanted: Wanted) -> Verdict:
        return self.source.judge(reply, url, wanted)

    def unreachable(self, cause: BaseException) -> ModelpmError:
        return self.source.unreachable(cause)


@dataclass(frozen=True)
class _At:
    """``wanted`` asked of another repo at another commit (a mirror's)."""

    wanted: Wanted
    repo: RepoRef
    commit: str
    source: SourceKind

    @property
    def label(self) -> str:
        return self.wanted.label

    @property
    def digest(self) -> Digest:
        return self.wanted.digest

    @property
    def size(self) -> int:
        return self.wanted.size

    @property
    def path(self) -> str:
        return self.wanted.path

    @property
    def model(self) -> str:
        return self.wanted.model


class MirrorOrigin:
    """A mirror of the model: listed once per run, asked only for files it lists."""

    def __init__(
        self,
        listings: MirrorListings,
        source_for: Callable[[SourceKind], Source],
        mirror: Mirror,
        repo_type: RepoType,
    ) -> None:
        self.listings = listings
        self.source_for = source_for
        self.mirror = mirror
        self.repo_type = repo_type
        self.kind = mirror.source
        self.name = f"{mirror.source}:{mirror.repo}"

    @property
    def source(self) -> Source:
        return self.source_for(self.kind)  # opened on first use: most runs never ask a mirror

    def _listing(self) -> MirrorListing | None:
        return self.listings.get(self.mirror, self.repo_type)

    def has(self, wanted: Wanted) -> bool:
        """True when the mirror lists ``wanted`` with its locked digest (or cannot say: a
        digest of another algorithm, checked on arrival)."""
        listing = self._listing()
        if listing is None:
            return False
        return listing.match(wanted.path, wanted.size, wanted.digest) in (
            Match.SAME,
            Match.UNCHECKED,
        )

    def _at(self, wanted: Wanted) -> _At:
        listing = self._listing()
        if listing is None or not self.has(wanted):
            raise HubError(
                f"{wanted.label}: mirror {self.mirror} does not list these bytes",
                hint="the mirror holds other files; the next origin is asked",
            )
        return _At(wanted, listing.ref, listing.commit, self.kind)

    def locate(self, wanted: Wanted) -> str:
        return self.source.locate(self._at(wanted))

    def headers_for(self, url: str) -> dict[str, str]:
        return self.source.headers_for(url)

    def judge(self, reply: ReplyHead, url: str, wanted: Wanted) -> Verdict:
        return self.source.judge(reply, url, self._at(wanted))

    def unreachable(self, cause: BaseException) -> ModelpmError:
        return self.source.unreachable(cause)
