"""One request for bytes, through an origin's redirects, to an accepted reply.

The origin judges every answer (:mod:`modelpm.transfer.origin`); this module
only walks what it says: follow, retry later, locate again, or fail. At most
ten hops, so a redirect loop ends in one clear error.
"""

from __future__ import annotations

from collections.abc import Callable

from modelpm.errors import NetworkError
from modelpm.transfer.origin import Accept, Fail, Follow, Origin, Relocate, Retry, Wanted
from modelpm.transfer.transport import Reply, Transport

MAX_HOPS = 10


class RetryLater(Exception):
    """A failure worth another attempt (after ``delay`` seconds, if the server said)."""

    def __init__(
        self,
        reason: str,
        delay: float | None = None,
        relocate: bool = False,
        at: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.delay = delay
        self.relocate = relocate
        self.at = at  # the URL that answered, after redirects: ask it again next time


def open_accepted(
    origin: Origin,
    transport: Transport,
    wanted: Wanted,
    url: str,
    byte_range: tuple[int, int] | None,
    check: Callable[[], None],
) -> tuple[Reply, str]:
    """An accepted reply for ``byte_range`` (inclusive; None: the whole body) and the URL
    that gave it; ``check`` runs before each hop and raises to stop."""
    first = url
    for _hop in range(MAX_HOPS):
        check()
        headers = origin.headers_for(url)
        if byte_range is not None:
            headers["range"] = f"bytes={byte_range[0]}-{byte_range[1]}"
        reply = transport.request("GET", url, headers)
        try:
            verdict = origin.judge(reply, url, wanted)
        except BaseException:
            reply.close()
            raise
        if isinstance(verdict, Accept):
            return reply, url
        reply.close()
        if isinstance(verdict, Follow):
            url = verdict.url
        elif isinstance(verdict, Retry):
            raise RetryLater(verdict.reason, delay=verdict.delay, at=url)
        elif isinstance(verdict, Relocate):
            raise RetryLater(verdict.reason, relocate=True)
        elif isinstance(verdict, Fail):
            raise verdict.error
    raise NetworkError(f"{wanted.label}: too many redirects from {first}")
