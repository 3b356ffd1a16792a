"""Bounds on every Hub API call: time, size, encoding and pagination.

``huggingface_hub`` calls the API with no timeout on some calls (a listing that
never answers would hang forever), follows ``Link: rel="next"`` wherever it
points (a page that links to itself loops forever), and reads whole bodies into
memory, decompressing them (an endless or gzip-bomb body ends in MemoryError).
Two event hooks on its shared HTTP client bound every request modelpm makes:

    request   a connect and read timeout (the run's stall timeout) on every call;
              ``Accept-Encoding: identity``; a page already fetched in this listing
              is refused, and so is a listing of more than MAX_PAGES pages
    response  any ``Content-Encoding`` but identity is refused; the body is read
              through a counter that refuses more than MAX_BODY bytes or a body
              still arriving after BODY_DEADLINE seconds; a ``Retry-After`` (or
              ``RateLimit``) that asks for a longer wait than the call has left is cut

A refusal raises :class:`AnswerRefused`, which :mod:`.errors` turns into one line.
The hooks touch only requests made inside :func:`bounded` (modelpm's own calls);
other users of the same client in the process are left as they are.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx2

MAX_BODY = 64 * 1024 * 1024  # far beyond any revision answer or listing page
MAX_PAGES = 10_000  # 10 million files at the Hub's 1,000 per page
BODY_DEADLINE = 300.0
CALL_BUDGET = 4  # stall timeouts one API call may take, retries inside it included


class AnswerRefused(Exception):
    """The endpoint answered in a way modelpm will not follow (the message says how)."""


class OutOfTime(Exception):
    """One API call (with every retry huggingface_hub makes inside it) took too long."""


@dataclass
class _Call:
    timeout: float
    deadline: float
    pages: set[str] = field(default_factory=set)


class Guards:
    def __init__(self) -> None:
        self._local = threading.local()
        self._installing = threading.Lock()  # hooks added twice would refuse every page

    @contextlib.contextmanager
    def bounded(self, timeout: float) -> Iterator[None]:
        """Requests made in this block (in this thread) are bounded: each by ``timeout``
        without a byte, and all of them (huggingface_hub retries some calls on its own,
        sleeping up to 23 s) by CALL_BUDGET stall timeouts."""
        self.install()
        self._local.call = _Call(timeout, time.monotonic() + CALL_BUDGET * timeout)
        try:
            yield
        finally:
            self._local.call = None

    def spent(self) -> bool:
        """True once the current call's time budget is used up."""
        call = self._call()
        return call is not None and time.monotonic() > call.deadline

    def _call(self) -> _Call | None:
        call: _Call | None = getattr(self._local, "call", None)
        return call

    def on_request(self, request: httpx2.Request) -> None:
        call = self._call()
        if call is None:
            return
        seconds = call.timeout
        if time.monotonic() > call.deadline:
            raise OutOfTime(f"no answer within {CALL_BUDGET * seconds:g} s")
        request.extensions["timeout"] = {
            "connect": min(seconds, 10.0),
            "read": seconds,
            "write": seconds,
            "pool": seconds,
        }
        request.headers["accept-encoding"] = "identity"
        if request.method == "GET" and "/tree/" in request.url.path:
            # Only pages already answered count: asking a page again after a timeout is a
            # retry, asking it again after it came is a loop.
            if str(request.url) in call.pages:
                raise AnswerRefused("sent a next-page link back to a page it already sent")
            if len(call.pages) >= MAX_PAGES:
                raise AnswerRefused(f"sent a listing of more than {MAX_PAGES} pages")

    def on_response(self, response: httpx2.Response) -> None:
        call = self._call()
        if call is None:
            return
        is_page = response.request.method == "GET" and "/tree/" in response.request.url.path
        if is_page and response.status_code < 300:  # a page answered; a 429 is asked again
            call.pages.add(str(response.request.url))
        if response.status_code == 429 or response.status_code >= 500:
            _cap_waits(response, call)
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise AnswerRefused(f"sent a {encoding}-compressed answer when asked for none")
        import httpx2

        if isinstance(response.stream, httpx2.SyncByteStream):
            response.stream = _bounded_stream(response.stream)

    def install(self) -> None:
        """Add the hooks to the client huggingface_hub shares (made anew after close_session)."""
        from huggingface_hub import get_session

        with self._installing:
            session = get_session()
            hooks = session.event_hooks
            if self.on_request not in hooks["request"]:
                hooks["request"] = [*hooks["request"], self.on_request]
                hooks["response"] = [*hooks["response"], self.on_response]
                session.event_hooks = hooks


def _cap_waits(response: httpx2.Response, call: _Call) -> None:
    """huggingface_hub sleeps as long as an answer's ``Retry-After`` or ``RateLimit`` asks
    (99999 s, say) before it retries: no wait may outlast what is left of the call."""
    from modelpm.transfer.origin import retry_after

    left = max(0, int(call.deadline - time.monotonic()))
    for name in ("ratelimit", "ratelimit-policy"):
        if name in response.headers:
            del response.headers[name]
    if "retry-after" in response.headers:
        asked = retry_after(response.headers) or 0.0
        response.headers["retry-after"] = str(min(int(asked), left))


def _bounded_stream(inner: httpx2.SyncByteStream) -> httpx2.SyncByteStream:
    import httpx2

    class Bounded(httpx2.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            deadline = time.monotonic() + BODY_DEADLINE
            total = 0
            for chunk in inner:
                total += len(chunk)
                if total > MAX_BODY:
                    raise AnswerRefused(f"sent an answer of more than {MAX_BODY // 2**20} MiB")
                if time.monotonic() > deadline:
                    raise AnswerRefused(f"took more than {BODY_DEADLINE:.0f} s to send an answer")
                yield chunk

        def close(self) -> None:
            inner.close()

    return Bounded()


GUARDS = Guards()
