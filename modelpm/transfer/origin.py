"""The seam between the transfer engine and whatever serves bytes.

An :class:`Origin` is asked three things, and the engine decides nothing a
protocol should: where the bytes of a wanted object are (:meth:`Origin.locate`),
which headers a URL gets (:meth:`Origin.headers_for`: a credential only on its
own origin), and what an answer means (:meth:`Origin.judge`), as one of

    Accept     the body holds the bytes asked for (200, or 206 for a range)
    Follow     a redirect: ask this URL next
    Retry      a passing failure: try again, after ``delay`` seconds if the server said
    Relocate   the located URL stopped working (an expired signed link): locate again
    Fail       give up on this origin with this error

Every origin is untrusted: whatever it answers, the engine verifies every byte
against the lock before anything enters the store.

Two optional members let an origin that is only an accelerator (the remote
store) fall back fast: ``retry_policy`` (a
:class:`~modelpm.transfer.retry.RetryPolicy` used instead of the engine's) and
``rejected(wanted, error)``, called when the engine gives up on the origin for
an object (to report a corrupted object once, or stop asking a broken one).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from modelpm.errors import HubError, IntegrityError, ModelpmError
from modelpm.urls import redirect_target
from modelpm.values import Digest, RepoRef, SourceKind


class Wanted(Protocol):
    """One object the engine is asked to fetch, and what an origin needs to find it."""

    @property
    def label(self) -> str:
        """``model/path``, for messages."""

    @property
    def digest(self) -> Digest: ...

    @property
    def size(self) -> int: ...

    @property
    def repo(self) -> RepoRef: ...

    @property
    def commit(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def source(self) -> SourceKind:
        """Which source listed it (for choosing origins; the engine itself ignores it)."""

    @property
    def model(self) -> str:
        """Which manifest entry it belongs to (for choosing origins: its mirrors)."""


class ReplyHead(Protocol):
    """What :meth:`Origin.judge` may look at: the status line, headers, a little body."""

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    def read_text(self, limit: int = 65536) -> str:
        """Up to ``limit`` bytes of the body as text ("" if it cannot be read)."""


@dataclass(frozen=True)
class Accept:
    pass


@dataclass(frozen=True)
class Follow:
    url: str


@dataclass(frozen=True)
class Retry:
    reason: str
    delay: float | None = None  # what the server asked for (Retry-After), if it did


@dataclass(frozen=True)
class Relocate:
    reason: str


@dataclass(frozen=True)
class Fail:
    error: ModelpmError


Verdict = Accept | Follow | Retry | Relocate | Fail


class Origin(Protocol):
    """Somewhere the bytes of locked files may be fetched from (a source, a mirror)."""

    @property
    def name(self) -> str:
        """Shown in messages and the summary's bytes per origin: the endpoint, the bucket,
        ``source:repo``."""

    def locate(self, wanted: Wanted) -> str:
        """The URL to ask first for ``wanted``'s bytes."""

    def headers_for(self, url: str) -> dict[str, str]:
        """Headers for a request to ``url`` (a credential only where it belongs)."""

    def judge(self, reply: ReplyHead, url: str, wanted: Wanted) -> Verdict:
        """What the answer from ``url`` means."""

    def unreachable(self, cause: BaseException) -> ModelpmError:
        """The error once connections to this origin kept failing."""


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number or an HTTP date), capped at 120."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        import email.utils  # rare, and it pulls in socket: not on the no-op path

        try:
            when = email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            return None
        seconds = when - (time.time() if now is None else now)
    return min(120.0, max(0.0, seconds))


REDIRECTS = (301, 302, 303, 307, 308)


def http_verdict(reply: ReplyHead, url: str, wanted: Wanted) -> Verdict | None:
    """The verdict plain HTTP gives, for an origin to start its :meth:`Origin.judge` with:
    redirects are followed, 200/206 accepted, 408/429/5xx retried (as ``Retry-After``
    says), a 416 for a range inside the locked size is a lie about the file. None for
    every other answer: what it means is the origin's to say."""
    status = reply.status
    if status in REDIRECTS:
        location = reply.headers.get("location")
        if not location:
            return Retry(f"HTTP {status} without a Location")
        target = redirect_target(url, location)
        if target is None:
            return Fail(HubError(f"{wanted.label}: redirected to an invalid URL"))
        return Follow(target)
    if status in (200, 206):
        return Accept()
    if status in (408, 429) or status >= 500:
        return Retry(f"HTTP {status}", delay=retry_after(reply.headers))
    if status == 416:
        return Fail(
            IntegrityError(
                f"{wanted.label}: the server has fewer bytes than the {wanted.size} "
                "the lock records (HTTP 416 for a range inside that size)",
                hint="the endpoint serves another file than it listed; try another endpoint, "
                "or run `modelpm lock --upgrade-model` if the repo was rewritten",
            )
        )
    return None
