"""The one-method seam under the engine: send a request, get a reply whose body is unread.

:class:`~modelpm.transfer.http.HttpPool` is the real one (``http.client`` with
keep-alive pooling); ``modelpm.testing.memory`` has one that answers from
memory, for tests of the engine and of sources without a server. No redirect
is followed by a transport: the origin decides (a token must not follow a
redirect to another host).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from modelpm.transfer.origin import ReplyHead


class TransportError(Exception):
    """The connection failed: refused, reset, timed out, or closed mid-body."""


class Reply(ReplyHead, Protocol):
    """An answer whose body is read with :meth:`readinto`; always :meth:`close` it."""

    def readinto(self, buffer: memoryview) -> int:
        """Bytes read into ``buffer`` (0 at the end of the body); raises TransportError."""

    def close(self) -> None: ...

    def abort(self) -> None:
        """Cut the connection from another thread: a blocked read returns or fails at once."""

    def __enter__(self) -> Reply: ...

    def __exit__(self, *_: object) -> None: ...


class Transport(Protocol):
    def request(self, method: str, url: str, headers: Mapping[str, str]) -> Reply:
        """Send a request and read the status line and headers; raises TransportError."""

    def close(self) -> None: ...
