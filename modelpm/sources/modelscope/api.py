"""ModelScope's ``/api/v1``: one GET, its retries, and the envelope around every answer.

    GET {endpoint}/api/v1/{path}?{query}  ─►  {"Code", "Data", "Message", "Success"}  ─►  Data

Requests go through :class:`~modelpm.transfer.http.HttpPool` (the standard library's
``http.client``; the official client is never imported). The token goes with every
request, as ``Authorization: Bearer`` and the ``m_session_id`` cookie (the two ways the
official client sends it), and only to the endpoint's own origin: a redirect is
followed only within that origin, and one to another host is an error, never a hop.

Retries: a dropped connection, 429 (after its ``Retry-After``) and 5xx, with backoff on
an injected clock; everything else is answered at once by :mod:`.errors`.

Every answer is bounded, as the Hub's are (:mod:`modelpm.sources.hf.guards`): the socket
timeout cuts a server that goes silent, but not one that drips a byte at a time, so a
whole body must arrive within :data:`BODY_DEADLINE` and stay under :data:`MAX_BODY`.
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from modelpm.errors import HubError
from modelpm.sources.modelscope.errors import ms_error, network_error, not_modelscope
from modelpm.transfer.http import HttpPool, Response
from modelpm.transfer.origin import retry_after
from modelpm.transfer.retry import SYSTEM_CLOCK, Clock, RetryPolicy
from modelpm.transfer.transport import TransportError
from modelpm.urls import redirect_target, same_origin
from modelpm.values import RepoRef

API_RETRIES = RetryPolicy(retries=4, backoff=0.5, max_backoff=8.0, jitter=False)
MAX_BODY = 64 * 1024 * 1024  # a 3000-entry listing is ~1 MiB; a body this large is not one
BODY_DEADLINE = 300.0  # seconds for a whole answer, however it trickles in
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class Answer:
    """A JSON answer: its ``Data`` and the whole envelope (``TotalCount`` sits beside it)."""

    data: Any
    envelope: dict[str, Any]


class _Refused(Exception):
    """An answer no ModelScope endpoint gives (too large, too slow): not worth a retry."""


class _Transient(Exception):
    def __init__(self, error: HubError, delay: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.delay = delay


class MsApi:
    """GETs against one endpoint with one optional token."""

    def __init__(
        self,
        endpoint: str,
        token: str | None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy = API_RETRIES,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.token = token or None
        self.retry = retry
        self.clock = clock
        self._pool = HttpPool(timeout=timeout)
        # Idle keep-alive sockets close with the source, not at interpreter exit.
        weakref.finalize(self, self._pool.close)

    def headers_for(self, url: str) -> dict[str, str]:
        """The token's two headers, for URLs on the endpoint's own origin only."""
        if self.token and same_origin(url, self.endpoint):
            return {"authorization": f"Bearer {self.token}", "cookie": f"m_session_id={self.token}"}
        return {}

    def get(
        self, path: str, params: dict[str, str], ref: RepoRef, revision: str | None = None
    ) -> Answer:
        """``Data`` of ``GET /api/v1/{path}?{params}``, retried through passing failures."""
        url = f"{self.endpoint}/api/v1/{path}"
        if params:
            url += "?" + urlencode(params)
        failures = 0
        while True:
            try:
                return self._once(url, ref, revision)
            except _Transient as transient:
                failures += 1
                if failures > self.retry.retries:
                    raise transient.error from None
                self.clock.sleep(self.retry.delay(failures, transient.delay))

    def _once(self, url: str, ref: RepoRef, revision: str | None) -> Answer:
        for _hop in range(5):
            headers = {"accept": "application/json", **self.headers_for(url)}
            try:
                with self._pool.request("GET", url, headers) as response:
                    status = response.status
                    location = response.headers.get("location")
                    body = _read_all(response) if status not in _REDIRECTS else b""
            except TransportError as exc:
                raise _Transient(network_error(self.endpoint, exc)) from None
            except _Refused as refused:
                raise not_modelscope(self.endpoint, str(refused)) from None
            if status in _REDIRECTS and location:
                target = redirect_target(url, location)
                if target is None:
                    raise not_modelscope(self.endpoint, f"a redirect to an invalid URL, {status}")
                if not same_origin(target, self.endpoint):
                    raise not_modelscope(self.endpoint, f"a redirect to another host, {status}")
                url = target
                continue
            return self._judged(status, body, ref, revision, response.headers)
        raise not_modelscope(self.endpoint, "too many redirects")

    def _judged(
        self,
        status: int,
        body: bytes,
        ref: RepoRef,
        revision: str | None,
        headers: Mapping[str, str],
    ) -> Answer:
        envelope = parse_envelope(body)
        code, message = code_and_message(envelope)
        if status == 429 or status >= 500 or status == 408:
            error = ms_error(
                status, code, message, self.endpoint, ref, revision, token_set=bool(self.token)
            )
            raise _Transient(error, retry_after(headers) if status == 429 else None)
        if status >= 400:
            raise ms_error(
                status, code, message, self.endpoint, ref, revision, token_set=bool(self.token)
            )
        if envelope is None or "Data" not in envelope:
            raise not_modelscope(self.endpoint, f"HTTP {status} without its JSON envelope")
        if envelope.get("Success") is False or code not in (None, 200):
            raise ms_error(
                400, code, message, self.endpoint, ref, revision, token_set=bool(self.token)
            )
        return Answer(envelope["Data"], envelope)


def _read_all(response: Response) -> bytes:
    """The whole body, or :class:`_Refused` past :data:`MAX_BODY` or :data:`BODY_DEADLINE`.

    The deadline is a timer that cuts the socket (a read blocked on a dripping server
    returns at once), read at call time so that a test may shorten it."""
    limit, deadline = MAX_BODY, BODY_DEADLINE
    began = time.monotonic()
    timer = threading.Timer(deadline, response.abort)
    timer.daemon = True
    timer.start()
    chunks = bytearray()
    buffer = memoryview(bytearray(1 << 16))
    try:
        while True:
            try:
                count = response.readinto(buffer)
            except TransportError:
                if time.monotonic() - began < deadline:
                    raise
                count = 0
            if not count:
                break
            chunks += buffer[:count]
            if len(chunks) > limit:
                raise _Refused(f"an answer of more than {limit // (1024 * 1024)} MiB")
    finally:
        timer.cancel()
    if time.monotonic() - began >= deadline:
        raise _Refused(f"an answer still arriving after {deadline:g} s")
    return bytes(chunks)


def parse_envelope(body: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def code_and_message(envelope: dict[str, Any] | None) -> tuple[int | None, str]:
    """The business ``Code`` and the first line of ``Message`` (either may be missing)."""
    if envelope is None:
        return None, ""
    raw = envelope.get("Code", envelope.get("code"))
    try:
        code = int(raw) if raw is not None else None
    except (TypeError, ValueError):
        code = None
    lines = str(envelope.get("Message") or envelope.get("message") or "").strip().splitlines()
    return code, lines[0][:300] if lines else ""


Fetch = Callable[[str, dict[str, str]], Answer]
"""A bound GET for one repo: (path under the repo, params) → answer (used by the listing)."""
