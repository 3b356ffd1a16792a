"""HTTP side of the test hub: the Hub origin, the CDN origin and the control plane.

Speaks what ``huggingface_hub`` 2.4 needs (see shared/hub-protocol.md §14):

    GET  /api/{models|datasets|spaces}/{repo}[/revision/{rev}]   repo info
    GET  /api/{t}/{repo}/tree/{rev}[/{path}]?recursive=&expand=  paginated by Link
    GET  /api/{t}/{repo}/refs                                    branches, tags
    GET  /api/{t}/{repo}/commits/{rev}                           paginated history
    POST /api/{t}/{repo}/paths-info/{rev}                        form paths=…
    HEAD|GET /[datasets/|spaces/]{repo}/resolve/{rev}/{path}     200, or 302 to the CDN (LFS)
    HEAD|GET /lfs/{sha256}?expires=&sig=                         CDN origin, Range
    GET /_testhub/stats  POST /_testhub/reset  POST|DELETE /_testhub/faults

Bodies are streamed from files (``sendfile`` when no fault applies), so a
1 GiB file costs no memory. Every typed error carries ``X-Error-Code``.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from modelpm.testing.faults import BODY_FAULTS, Fault, LiveRecord
from modelpm.testing.repo import Commit, HubRepo, RepoFile

if TYPE_CHECKING:
    from modelpm.testing.hub import TestHub

_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
_PREFIXES = {"datasets": "dataset", "spaces": "space"}
_CHUNK = 1024 * 1024
_DATE = "%Y-%m-%dT%H:%M:%S.000Z"


class HubError(Exception):
    def __init__(
        self, status: int, code: str | None, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


class HubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, hub: TestHub, origin: str) -> None:
        self.hub = hub
        self.origin = origin
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
    protocol_version = "HTTP/1.1"
    server: HubHTTPServer
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing ----------------------------------------------------------------

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        self.method = method
        self.live: LiveRecord | None = None
        split = urlsplit(self.path)
        self.raw_path = split.path
        self.query = split.query
        self.params = parse_qs(split.query)
        length = int(self.headers.get("content-length") or 0)
        self.request_body = self.rfile.read(length) if length else b""
        hub = self.server.hub
        if self.raw_path.startswith("/_testhub/"):
            self._control()
            return
        segments = [unquote(part) for part in self.raw_path.split("/")[1:]]
        decoded = "/" + "/".join(segments)
        self.faults = hub.board.take(self.server.origin, method, decoded)
        try:
            status_fault = next((f for f in self.faults if f.kind == "status"), None)
            if status_fault is not None:
                headers = {}
                if status_fault.retry_after is not None:
                    headers["Retry-After"] = f"{status_fault.retry_after:g}"
                raise HubError(
                    status_fault.status, None, f"injected {status_fault.status}", headers
                )
            if self.server.origin == "cdn":
                self._cdn(segments)
            else:
                self._hub(segments)
        except HubError as error:
            self._error(error)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def send_response(self, code: int, message: str | None = None) -> None:
        # Recorded before any byte leaves, so a client that got an answer always finds it
        # in the stats.
        if self.live is None and not self.raw_path.startswith("/_testhub/"):
            self.live = LiveRecord(
                origin=self.server.origin,
                method=self.method,
                path=self.raw_path,
                query=self.query,
                status=code,
                headers={key.lower(): value for key, value in self.headers.items()},
            )
            self.server.hub.board.record(self.live)
        super().send_response(code, message)

    def _count(self, sent: int) -> None:
        if self.live is not None:
            self.server.hub.board.count(self.live, sent)

    def _json(self, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.method != "HEAD":
            self._count(len(body))
            self.wfile.write(body)

    def _error(self, error: HubError) -> None:
        headers = dict(error.headers)
        if error.code:
            headers["X-Error-Code"] = error.code
        headers["X-Error-Message"] = error.message
        self._json({"error": error.message}, error.status, headers)

    # -- auth --------------------------------------------------------------------

    def _token(self) -> str | None:
        value = self.headers.get("authorization", "")
        if not value.lower().startswith("bearer "):
            return None
        token = value[7:].strip()
        if token not in self.server.hub.tokens:
            raise HubError(401, None, "Invalid credentials in Authorization header")
        return token

    def _repo(self, repo_type: str, segments: list[str]) -> tuple[HubRepo, list[str]]:
        """Find the repo named by the first one or two segments; return it and the rest."""
        hub = self.server.hub
        token = self._token()
        for width in (2, 1):
            repo_id = "/".join(segments[:width])
            repo = hub.find_repo(repo_id, repo_type)
            if repo is not None and len(segments) >= width:
                if repo.private and not hub.token_can_read(token, repo):
                    break
                return repo, segments[width:]
        status = 404 if token else 401
        raise HubError(
            status,
            "RepoNotFound",
            "Repository not found" if token else "Invalid username or password.",
        )

    @staticmethod
    def _commit(repo: HubRepo, rev: str) -> Commit:
        try:
            return repo.commits[repo.resolve(rev)]
        except KeyError:
            raise HubError(404, "RevisionNotFound", f"Invalid rev id: {rev}") from None

    # -- the hub origin ----------------------------------------------------------

    def _hub(self, segments: list[str]) -> None:
        if len(segments) >= 2 and segments[0] == "api" and segments[1] in _TYPES:
            repo, rest = self._repo(_TYPES[segments[1]], segments[2:])
            self._api(repo, rest)
            return
        repo_type = "model"
        if segments and segments[0] in _PREFIXES:
            repo_type = _PREFIXES[segments[0]]
            segments = segments[1:]
        for width in (2, 1):
            if len(segments) > width + 1 and segments[width] == "resolve":
                repo, rest = self._repo(repo_type, segments)
                if rest and rest[0] == "resolve" and len(rest) >= 3:
                    self._resolve(repo, rest[1], "/".join(rest[2:]))
                    return
        raise HubError(404, None, f"no route for {self.raw_path}")

    def _api(self, repo: HubRepo, rest: list[str]) -> None:
        method = self.method
        if not rest and method == "GET":
            self._info(repo, "main")
        elif rest[:1] == ["revision"] and len(rest) == 2 and method == "GET":
            self._info(repo, rest[1])
        elif rest[:1] == ["tree"] and len(rest) >= 2 and method == "GET":
            self._tree(repo, rest[1], "/".join(rest[2:]))
        elif rest == ["refs"] and method == "GET":
            self._refs(repo)
        elif rest[:1] == ["commits"] and len(rest) == 2 and method == "GET":
            self._commits(repo, rest[1])
        elif rest[:1] == ["paths-info"] and len(rest) == 2 and method == "POST":
            self._paths_info(repo, rest[1])
        else:
            raise HubError(404, None, f"no route for {self.raw_path}")

    def _info(self, repo: HubRepo, rev: str) -> None:
        commit = self._commit(repo, rev)
        blobs = self.params.get("blobs", ["false"])[0] == "true"
        siblings = []
        for item in commit.files.values():
            sibling: dict[str, Any] = {"rfilename": item.path}
            if blobs:
                sibling.update(size=item.size, blobId=item.git_sha1)
                if item.lfs:
                    sibling["lfs"] = {
                        "sha256": item.sha256,
                        "size": item.size,
                        "pointerSize": item.pointer_size,
                    }
            siblings.append(sibling)
        first = repo.history(rev)[-1]
        self._json(
            {
                "_id": hashlib.md5(repo.repo_id.encode(), usedforsecurity=False).hexdigest()[:24],
                "id": repo.repo_id,
                "author": repo.repo_id.split("/")[0] if "/" in repo.repo_id else None,
                "sha": commit.sha,
                "lastModified": commit.date.strftime(_DATE),
                "createdAt": first.date.strftime(_DATE),
                "private": repo.private,
                "gated": "manual" if repo.gated else False,
                "disabled": False,
                "downloads": 0,
                "likes": 0,
                "tags": [],
                "siblings": siblings,
            }
        )

    def _entries(
        self, repo: HubRepo, commit: Commit, prefix: str, recursive: bool, expand: bool
    ) -> list[dict[str, Any]]:
        if prefix and prefix not in commit.trees and prefix not in commit.files:
            raise HubError(404, "EntryNotFound", f"{prefix} does not exist on {commit.sha}")
        base = prefix + "/" if prefix else ""
        entries: list[dict[str, Any]] = []
        for folder, oid in commit.trees.items():
            if folder and folder.startswith(base) and (recursive or "/" not in folder[len(base) :]):
                entries.append({"type": "directory", "oid": oid, "size": 0, "path": folder})
        for item in commit.files.values():
            if item.path.startswith(base) and (recursive or "/" not in item.path[len(base) :]):
                entries.append(self._file_entry(repo, commit, item, expand))
        entries.sort(key=lambda entry: entry["path"])
        return entries

    def _file_entry(
        self, repo: HubRepo, commit: Commit, item: RepoFile, expand: bool
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "type": "file",
            "oid": item.git_sha1,
            "size": item.size,
            "path": item.path,
        }
        if item.lfs:
            entry["lfs"] = {"oid": item.sha256, "size": item.size, "pointerSize": item.pointer_size}
        if expand:
            last = repo.last_commit_touching(commit.sha, item.path)
            entry["lastCommit"] = {
                "id": last.sha,
                "title": last.message,
                "date": last.date.strftime(_DATE),
            }
        return entry

    def _paginate(self, items: list[dict[str, Any]]) -> None:
        size = max(1, self.server.hub.page_size)
        cursor = int(self.params.get("cursor", ["0"])[0] or 0)
        page = items[cursor : cursor + size]
        headers = {}
        if cursor + size < len(items):
            params = {key: values[-1] for key, values in self.params.items()}
            params["cursor"] = str(cursor + size)
            query = "&".join(f"{key}={quote(value)}" for key, value in params.items())
            base = self.server.hub.next_page_origin or self.server.hub.endpoint
            url = f"{base}{self.raw_path}?{query}"
            headers["Link"] = f'<{url}>; rel="next"'
        self._json(page, headers=headers)

    def _tree(self, repo: HubRepo, rev: str, path: str) -> None:
        commit = self._commit(repo, rev)
        recursive = self.params.get("recursive", ["false"])[0] in ("true", "True", "1")
        expand = self.params.get("expand", ["false"])[0] in ("true", "True", "1")
        self._paginate(self._entries(repo, commit, path, recursive, expand))

    def _refs(self, repo: HubRepo) -> None:
        def refs(kind: str, names: dict[str, str]) -> list[dict[str, str]]:
            return [
                {"name": name, "ref": f"refs/{kind}/{name}", "targetCommit": sha}
                for name, sha in sorted(names.items())
            ]

        payload: dict[str, Any] = {
            "branches": refs("heads", repo.branches),
            "converts": [],
            "tags": refs("tags", repo.tags),
        }
        if "include_prs" in self.params:
            payload["pullRequests"] = []
        self._json(payload)

    def _commits(self, repo: HubRepo, rev: str) -> None:
        self._commit(repo, rev)
        items = [
            {
                "id": c.sha,
                "title": c.message,
                "message": c.message,
                "date": c.date.strftime(_DATE),
                "authors": [{"user": "testhub"}],
            }
            for c in repo.history(rev)
        ]
        self._paginate(items)

    def _paths_info(self, repo: HubRepo, rev: str) -> None:
        commit = self._commit(repo, rev)
        form = parse_qs(self.request_body.decode())
        expand = form.get("expand", ["false"])[0] in ("true", "True")
        found = []
        for path in form.get("paths", []):
            if path in commit.files:
                found.append(self._file_entry(repo, commit, commit.files[path], expand))
            elif path in commit.trees:
                found.append(
                    {"type": "directory", "oid": commit.trees[path], "size": 0, "path": path}
                )
        self._json(found)

    def _resolve(self, repo: HubRepo, rev: str, path: str) -> None:
        commit = self._commit(repo, rev)
        if self.method not in ("GET", "HEAD"):
            raise HubError(405, None, "method not allowed")
        if repo.gated and not self.server.hub.token_can_read(self._token(), repo):
            token = self._token()
            kind = repo.repo_type if repo.repo_type != "model" else "model"
            message = (
                f"Access to {kind} {repo.repo_id} is restricted. You must have access "
                "to it and be authenticated to access it. Please log in."
                if token is None
                else f"Access to {kind} {repo.repo_id} is restricted and you are not in the "
                "authorized list."
            )
            raise HubError(403 if token else 401, "GatedRepo", message)
        item = commit.files.get(path)
        if item is None:
            raise HubError(
                404, "EntryNotFound", f"Entry not found: {path}", {"X-Repo-Commit": commit.sha}
            )
        headers = {"X-Repo-Commit": commit.sha}
        if item.lfs:
            assert item.sha256 is not None
            location = self.server.hub.cdn_url(item.sha256)
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("ETag", f'"{item.git_sha1}"')
            self.send_header("X-Linked-Etag", f'"{item.sha256}"')
            self.send_header("X-Linked-Size", str(item.size))
            self.send_header("X-Repo-Commit", commit.sha)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        headers["ETag"] = f'"{item.git_sha1}"'
        self._file(item.source, item.size, headers)

    # -- the CDN origin ----------------------------------------------------------

    def _cdn(self, segments: list[str]) -> None:
        if len(segments) != 2 or segments[0] != "lfs" or self.method not in ("GET", "HEAD"):
            raise HubError(404, None, "NoSuchKey")
        sha256 = segments[1]
        expires = self.params.get("expires", ["0"])[0]
        signature = self.params.get("sig", [""])[0]
        expired = any(f.kind == "expire_cdn" for f in self.faults)
        if (
            expired
            or not self.server.hub.check_signature(sha256, expires, signature)
            or float(expires or 0) < time.time()
        ):
            body = b"Request has expired"
            self.send_response(403)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.method == "GET":
                self.wfile.write(body)
            return
        item = self.server.hub.lfs_object(sha256)
        if item is None:
            raise HubError(404, None, "NoSuchKey")
        self._file(item.source, item.size, {"ETag": f'"{sha256}"'})

    # -- bodies ------------------------------------------------------------------

    def _range(self, size: int) -> tuple[int, int] | None:
        """(start, end) inclusive from a Range header, None for the whole body."""
        header = self.headers.get("range")
        if not header or any(f.kind == "ignore_range" for f in self.faults):
            return None
        unit, _, spec = header.partition("=")
        if unit.strip() != "bytes" or "," in spec:
            return None
        first, _, last = spec.strip().partition("-")
        try:
            if first == "":
                start, end = max(0, size - int(last)), size - 1
            else:
                start = int(first)
                end = min(int(last), size - 1) if last else size - 1
        except ValueError:
            return None
        if start >= size or start > end:
            raise HubError(
                416, None, "Requested Range Not Satisfiable", {"Content-Range": f"bytes */{size}"}
            )
        return start, end

    def _file(self, source: Path, size: int, headers: dict[str, str]) -> None:
        span = self._range(size)
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
            if not body_faults:
                self._count(length)
                sent = 0
                try:
                    sent = self.connection.sendfile(handle, start, length)
                finally:
                    self._count(sent - length)
                return
            self._send_with_faults(handle, start, length, body_faults)

    def _send_with_faults(self, handle: Any, start: int, length: int, faults: list[Fault]) -> None:
        limit = length
        cut: Callable[[], None] | None = None
        for fault in faults:
            if fault.kind in ("drop", "reset") and fault.after_bytes < limit:
                limit = fault.after_bytes
                cut = self._reset if fault.kind == "reset" else self._drop
            if fault.kind == "truncate" and length - 1 < limit:
                limit = length - 1
                cut = self._drop
        stalls = sorted((f.after_bytes, f.seconds) for f in faults if f.kind == "stall")
        corrupt = {f.after_bytes for f in faults if f.kind == "corrupt"}
        rate = min((f.rate for f in faults if f.kind == "throttle" and f.rate > 0), default=0)
        chunk = _CHUNK if not rate else max(4096, min(_CHUNK, rate // 50))
        began = time.monotonic()
        sent = 0
        while sent < limit:
            step = min(chunk, limit - sent)
            for at, _seconds in stalls:
                if sent < at < sent + step:
                    step = at - sent
            if stalls and stalls[0][0] == sent:
                time.sleep(stalls.pop(0)[1])
            if rate:  # a bucket: this chunk may leave once its bytes are "earned"
                wait = (sent + step) / rate - (time.monotonic() - began)
                if wait > 0:
                    time.sleep(wait)
            self._count(step)
            if any(sent <= at < sent + step for at in corrupt):
                handle.seek(start + sent)
                data = bytearray(handle.read(step))
                for at in corrupt:
                    if sent <= at < sent + len(data):
                        data[at - sent] ^= 0xFF
                self.wfile.write(data)
            else:  # the kernel copies; the benchmark needs the server to stay cheap
                self.connection.sendfile(handle, start + sent, step)
            sent += step
        if cut is not None:
            cut()

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _reset(self) -> None:
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    # -- control plane -----------------------------------------------------------

    def _control(self) -> None:
        hub = self.server.hub
        action = (self.method, self.raw_path)
        if action == ("GET", "/_testhub/stats"):
            self._json(
                {
                    "request_count": hub.request_count,
                    "bytes_sent": hub.bytes_sent,
                    "requests": [record.__dict__ for record in hub.requests],
                }
            )
        elif action == ("POST", "/_testhub/reset"):
            hub.reset_stats()
            self._json({"ok": True})
        elif action == ("POST", "/_testhub/faults"):
            for raw in json.loads(self.request_body or b"[]"):
                hub.add_fault(Fault(**raw))
            self._json({"ok": True})
        elif action == ("DELETE", "/_testhub/faults"):
            hub.clear_faults()
            self._json({"ok": True})
        else:
            self._json({"error": "unknown control route"}, 404)


def sign(secret: bytes, sha256: str, expires: str) -> str:
    return hmac.new(secret, f"{sha256}:{expires}".encode(), "sha256").hexdigest()[:32]
