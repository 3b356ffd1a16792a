"""HTTP plumbing of the test hub: one loopback server per origin, each speaking one face.

A *face* is what an origin speaks: the Hub's API and ``/resolve`` (``hf_face``), a CDN
(``cdn_face``), ModelScope's ``/api/v1`` (``ms_face``). A face is an object with an
``origin`` name and ``answer(request, segments)``; it routes and answers through the
:class:`Handler` methods below, reads the faults already taken for the request
(``request.faults``), and never touches sockets, the fault board or the log itself.
Everything the faces share lives here:

    request ─┬─ /_testhub/…  control plane: stats, reset, faults (never faulted or recorded)
             └─ take faults ─ status fault? ─ yes ─► its status (+ Retry-After)
                                            └ no ──► face.answer ─► send_json / send_file
                                                         │ raises ErrorAnswer
                                                         └─► X-Error-Code, X-Error-Message,
                                                             {"error": message}

    GET /_testhub/stats  POST /_testhub/reset  POST|DELETE /_testhub/faults

Invariants: a request enters the log before the first byte of its answer leaves, so
a client that got an answer always finds it in the stats; body bytes are counted
before they are handed to the socket; the servers bind 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import sys
import threading
import time
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from modelpm.testing.bodies import Unsatisfiable, parse_range, stream
from modelpm.testing.faults import BODY_FAULTS, Fault, FaultBoard, LiveRecord

CONTROL = "/_testhub/"


class ErrorAnswer(Exception):
    """A typed error answer; a face raises it and the plumbing sends it."""

    def __init__(
        self, status: int, code: str | None, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


class Face(Protocol):
    """What one origin speaks."""

    @property
    def origin(self) -> str:
        """The name faults and request records use for this origin ("hub", "cdn")."""
        ...

    def answer(self, request: Handler, segments: list[str]) -> None:
        """Answer ``request``; ``segments`` is its path split on "/", then percent-decoded."""
        ...


class OriginServer(ThreadingHTTPServer):
    """One origin on a free port of 127.0.0.1; it can cut every open connection at stop."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, face: Face, board: FaultBoard) -> None:
        self.face = face
        self.board = board
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-request is normal here (faults, cancelled ranges).
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError, OSError)):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self.connections_lock:
            for connection in list(self.connections):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class Handler(BaseHTTPRequestHandler):
    """One request, as a face sees it: what was asked, the faults it got, ways to answer."""

    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as nginx and every CDN set it: headers and body go out as two writes,
    # and with Nagle's algorithm the body waits for the client's delayed ACK (40 ms on
    # Linux), so every small answer took 40 ms longer than any real hub's would.
    disable_nagle_algorithm = True
    server: OriginServer
    timeout = 30
    # What a face reads, set per request by _handle.
    method: str
    raw_path: str  # as sent, still percent-encoded
    query: str
    params: dict[str, list[str]]
    body: bytes
    faults: list[Fault]
    # An answer sent before _handle runs (a 501 for an unknown method) is not recorded.
    live: LiveRecord | None = None
    recording = False

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def _handle(self, method: str) -> None:
        self.method = method
        self.live = None
        split = urlsplit(self.path)
        self.raw_path, self.query = split.path, split.query
        self.params = parse_qs(split.query)
        self.faults = []
        self.recording = not self.raw_path.startswith(CONTROL)
        if not self.recording:
            self.body = self._read_body(None)
            self._control()
            return
        face = self.server.face
        segments = [unquote(part) for part in self.raw_path.split("/")[1:]]
        # A fault's path_contains sees the decoded path and query (ModelScope names the file
        # in its query: …/repo?Revision=master&FilePath=model.safetensors).
        target = "/" + "/".join(segments) + (f"?{unquote(self.query)}" if self.query else "")
        self.faults = self.server.board.take(face.origin, method, target)
        cut = next((f for f in self.faults if f.kind in ("drop", "reset")), None)
        self.body = self._read_body(cut if method == "PUT" else None)
        if cut is not None and method == "PUT":
            return
        # "latency": a hub across an ocean; every matching answer starts ``seconds`` late.
        time.sleep(sum(f.seconds for f in self.faults if f.kind == "latency"))
        try:
            hostile = next((f for f in self.faults if f.kind == "answer"), None)
            if hostile is not None:
                self.send_hostile(hostile)
                return
            status = next((f for f in self.faults if f.kind == "status"), None)
            if status is not None:
                headers = {}
                if status.retry_after is not None:
                    headers["Retry-After"] = f"{status.retry_after:g}"
                raise ErrorAnswer(status.status, None, f"injected {status.status}", headers)
            face.answer(self, segments)
        except ErrorAnswer as error:
            self.send_error_answer(error)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _read_body(self, cut: Fault | None) -> bytes:
        """The request body (``Content-Length`` or chunked); with an upload fault, only
        its first ``after_bytes`` before the connection is cut (recorded as status 0)."""
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            body = bytearray()
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                body += self.rfile.read(size)
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers
                pass
            data = bytes(body)
        else:
            length = int(self.headers.get("content-length") or 0)
            limit = length if cut is None else min(length, cut.after_bytes)
            data = self.rfile.read(limit) if limit else b""
        if cut is not None:
            self.send_response(0)  # records the request; nothing is sent
            assert self.live is not None
            self.live.received_bytes = len(data)
            self.close_connection = True
            if cut.kind == "reset":
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return data[: cut.after_bytes]
        return data

    def send_response(self, code: int, message: str | None = None) -> None:
        if self.recording and self.live is None:  # before any byte of the answer leaves
            self.live = LiveRecord(
                origin=self.server.face.origin,
                method=self.method,
                path=self.raw_path,
                query=self.query,
                status=code,
                headers={key.lower(): value for key, value in self.headers.items()},
                received_bytes=len(getattr(self, "body", b"")),
            )
            self.server.board.record(self.live)
        if code:
            super().send_response(code, message)

    def _count(self, sent: int) -> None:
        if self.live is not None:
            self.server.board.count(self.live, sent)

    # -- answers -----------------------------------------------------------------

    def send_bytes(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        """A whole answer from memory (no body on HEAD; Content-Length always)."""
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.method == "HEAD" or not body:
            return
        drip = next((f for f in self.faults if f.kind == "drip"), None)
        if drip is None:
            self.wfile.write(body)
            self._count(len(body))  # after: a client that hung up was sent nothing more
            return
        for index in range(len(body)):  # an API answer too may come one byte at a time
            self._count(1)
            self.wfile.write(body[index : index + 1])
            self.wfile.flush()
            time.sleep(drip.seconds)

    def send_json(
        self, payload: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        body = json.dumps(payload).encode()
        self.send_bytes(status, body, {"Content-Type": "application/json", **(headers or {})})

    def send_hostile(self, fault: Fault) -> None:
        """Whatever a hostile server would say: any status, headers and body, or a body that
        never ends (until the client hangs up, or 1 GiB)."""
        if fault.seconds:  # say nothing at all for this long first
            time.sleep(fault.seconds)
        url = f"http://{self.headers.get('host', '')}{self.path}"
        headers = {key: value.replace("{self}", url) for key, value in fault.headers.items()}
        try:  # bytes carried as latin-1 text (a gzip body, say), else the text itself
            body = fault.body.encode("latin-1")
        except UnicodeEncodeError:
            body = fault.body.encode("utf-8", "surrogatepass")
        if not fault.endless:
            self.send_bytes(fault.status, body, headers)
            return
        self.close_connection = True
        self.send_response(fault.status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"%x\r\n%s\r\n" % (len(body), body) if body else b""
        sent = 0
        while chunk and sent < 1 << 30:
            self.wfile.write(chunk)
            self._count(len(body))
            sent += len(body)

    def send_error_answer(self, error: ErrorAnswer) -> None:
        headers = dict(error.headers)
        if error.code:
            headers["X-Error-Code"] = error.code
        headers["X-Error-Message"] = error.message
        self.send_json({"error": error.message}, error.status, headers)

    def send_file(
        self, source: Path, size: int, headers: dict[str, str], *, ranges: bool = True
    ) -> None:
        """``size`` bytes of ``source``, honouring ``Range`` (206; unless ``ranges`` is False,
        as ModelScope's API serves git files) and the body faults."""
        ignore = not ranges or any(f.kind == "ignore_range" for f in self.faults)
        try:
            span = parse_range(None if ignore else self.headers.get("range"), size)
        except Unsatisfiable:
            raise ErrorAnswer(
                416, None, "Requested Range Not Satisfiable", {"Content-Range": f"bytes */{size}"}
            ) from None
        start, end = span if span else (0, size - 1)
        length = end - start + 1 if size else 0
        self.send_response(206 if span else 200)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(length))
        if span:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if self.method == "HEAD" or length == 0:
            return
        body_faults = [f for f in self.faults if f.kind in BODY_FAULTS]
        with source.open("rb") as handle:
            cut = stream(self.connection, handle, start, length, body_faults, self._count)
        if cut is not None:
            self.close_connection = True
        if cut == "drop":  # a clean end of stream: the client sees a short body
            with contextlib.suppress(OSError):
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_WR)
        elif cut == "reset":  # an RST: the client sees ECONNRESET
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()

    # -- control plane -----------------------------------------------------------

    def _control(self) -> None:
        board = self.server.board
        action = (self.method, self.raw_path)
        if action == ("GET", f"{CONTROL}stats"):
            records = board.snapshot()
            self.send_json(
                {
                    "request_count": len(records),
                    "bytes_sent": sum(record.body_bytes for record in records),
                    "requests": [asdict(record) for record in records],
                }
            )
        elif action == ("POST", f"{CONTROL}reset"):
            board.reset()
            self.send_json({"ok": True})
        elif action == ("POST", f"{CONTROL}faults"):
            for raw in json.loads(self.body or b"[]"):
                board.add(Fault(**raw))
            self.send_json({"ok": True})
        elif action == ("DELETE", f"{CONTROL}faults"):
            board.clear()
            self.send_json({"ok": True})
        else:
            self.send_json({"error": "unknown control route"}, 404)
