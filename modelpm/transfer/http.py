"""A small HTTP/1.1 client for file bytes: ``http.client`` with keep-alive pooling.

Why not httpx2 (which huggingface_hub already brings, and which modelpm uses
for every API call through it)? Measured on this project's loopback test hub,
one connection reading a 1 GiB body: httpx2 ``iter_raw`` 0.37 GB/s at 2.9 s
of CPU; ``http.client`` ``readinto`` a reused buffer 5.8–7.2 GB/s at 0.16 s
of CPU. The difference is copies: httpx2 allocates a bytes object per 64 KiB
read and re-buffers it twice, while ``readinto`` lands bytes straight in our
buffer. On a 2-core machine that CPU is what hashing needs. ``http.client``
is the standard library, so this adds no dependency.

Owns: connections per origin (reused across files), proxies from the
environment (``HTTP(S)_PROXY``, ``NO_PROXY``), timeouts (one value: a socket
that delivers nothing for that long fails), and turning every transport
failure into :class:`~modelpm.transfer.transport.TransportError`. It is a
:class:`~modelpm.transfer.transport.Transport`: no redirect is followed here.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from modelpm.transfer.transport import TransportError
from modelpm.urls import shown

USER_AGENT = "modelpm"


@dataclass
class Response:
    """An answer whose body is read with :meth:`readinto`; always :meth:`close` it."""

    status: int
    headers: Mapping[str, str]
    _raw: http.client.HTTPResponse
    _conn: http.client.HTTPConnection
    _pool: HttpPool
    _key: tuple[str, str, int]
    _closed: bool = field(default=False)

    def readinto(self, buffer: memoryview) -> int:
        """Bytes read into ``buffer`` (0 at the end of the body)."""
        try:
            return self._raw.readinto(buffer)
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(_describe(exc)) from exc

    def read_text(self, limit: int = 65536) -> str:
        try:
            return self._raw.read(limit).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            return ""

    def abort(self) -> None:
        """Cut the connection now, from any thread: a read blocked on it returns or fails
        at once (how Ctrl-C and the slow-link watchdog end a transfer within a second)."""
        sock = self._conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        reusable = self._raw.isclosed() and not self._raw.will_close
        if reusable:
            self._pool._release(self._key, self._conn)
        else:
            self._raw.close()
            self._conn.close()

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class HttpPool:
    """Keep-alive connections per origin, shared by threads."""

    def __init__(self, timeout: float, max_idle: int = 64) -> None:
        self.timeout = timeout
        self.max_idle = max_idle
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._ssl_context: ssl.SSLContext | None = None

    @property
    def _ssl(self) -> ssl.SSLContext:
        # Made on first https use: loading the CA bundle costs ~10 ms a loopback run never needs.
        with self._lock:
            if self._ssl_context is None:
                self._ssl_context = ssl.create_default_context()
            return self._ssl_context

    def request(self, method: str, url: str, headers: Mapping[str, str]) -> Response:
        """Send a request and read the status line and headers; the body stays unread."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:  # a port of 99999, a broken IPv6 literal: a hostile Location
            port = 0
        if scheme not in ("http", "https") or not parts.hostname or not port:
            raise TransportError(f"unsupported URL {shown(url.split('?')[0])!r}")
        key = (scheme, parts.hostname, port)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        all_headers = {"user-agent": USER_AGENT, "accept-encoding": "identity", **headers}
        for attempt in (0, 1):
            conn, reused = self._acquire(key)
            try:
                proxied = getattr(conn, "_modelpm_http_proxy", False)
                conn.request(method, url if proxied else target, headers=all_headers)
                raw = conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                # A pooled connection the server closed while idle: try once on a fresh one.
                if (
                    reused
                    and attempt == 0
                    and isinstance(
                        exc, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
                    )
                ):
                    continue
                raise TransportError(_describe(exc)) from exc
            headers_out = {name.lower(): value for name, value in raw.getheaders()}
            return Response(raw.status, headers_out, raw, conn, self, key)
        raise AssertionError("unreachable")

    def _acquire(self, key: tuple[str, str, int]) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            idle = self._idle.get(key)
            if idle:
                return idle.pop(), True
        return self._connect(key), False

    def _connect(self, key: tuple[str, str, int]) -> http.client.HTTPConnection:
        scheme, host, port = key
        proxy = _proxy_for(scheme, host)
        conn: http.client.HTTPConnection
        if proxy is None:
            if scheme == "https":
                conn = http.client.HTTPSConnection(
                    host, port, timeout=self.timeout, context=self._ssl
                )
            else:
                conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
            return conn
        proxy_parts = urlsplit(proxy)
        proxy_host = proxy_parts.hostname or ""
        proxy_port = proxy_parts.port or 8080
        if scheme == "https":
            conn = http.client.HTTPSConnection(
                proxy_host, proxy_port, timeout=self.timeout, context=self._ssl
            )
            conn.set_tunnel(host, port)
        else:
            conn = http.client.HTTPConnection(proxy_host, proxy_port, timeout=self.timeout)
            conn._modelpm_http_proxy = True  # type: ignore[attr-defined]
        return conn

    def _release(self, key: tuple[str, str, int], conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.max_idle:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            connections = [conn for idle in self._idle.values() for conn in idle]
            self._idle.clear()
        for conn in connections:
            conn.close()

    def __enter__(self) -> HttpPool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _proxy_for(scheme: str, host: str) -> str | None:
    proxies = urllib.request.getproxies()
    proxy = proxies.get(scheme)
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    return proxy


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "no data for too long (timed out)"
    if isinstance(exc, http.client.IncompleteRead):
        return "the connection closed before the body was complete"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
