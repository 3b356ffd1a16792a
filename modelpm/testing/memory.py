"""An in-memory source: repositories, revisions and bytes in dictionaries, no server.

:class:`MemorySource` implements :class:`modelpm.sources.base.Source` exactly as a
hub does (revisions resolve to real git commit ids, listings carry the hash a hub
attests: sha256 for LFS-sized files, the git blob id for the rest), and its
:class:`MemoryTransport` answers the engine's requests from memory, ``Range``
included. Tests of what sits above the seam (planning, locking, selection, the
transfer engine) use it instead of HTTP; ``tests/test_source_contract.py`` holds
it and every real source to the same contract.

Unlike the rest of :mod:`modelpm.testing`, which is an independent oracle and
imports nothing of modelpm, this module implements modelpm's own interface, so
it imports those interface modules (and nothing of modelpm's logic)::

    MemorySource ── resolve / list_files ──► ResolvedRevision, RemoteFile
                 └─ locate / headers_for / judge ─► MemoryTransport ─► MemoryReply

Faults are scripted per request: :meth:`MemorySource.fail_next` answers the next
requests for bytes with a status (and ``Retry-After``), :meth:`MemorySource.corrupt`
serves a file with one byte flipped. Every call is counted, so a test can assert
that a step asked the source nothing.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

from modelpm.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HubError,
    ModelpmError,
    NetworkError,
    RepoNotFoundError,
    RevisionNotFoundError,
)
from modelpm.sources.base import RemoteFile, ResolvedRevision
from modelpm.testing.gitobjects import blob_id, commit_id, lfs_pointer, nested_tree_ids
from modelpm.testing.repo import EPOCH, is_lfs_by_default
from modelpm.transfer.origin import Fail, ReplyHead, Verdict, Wanted, http_verdict
from modelpm.transfer.transport import Reply, TransportError
from modelpm.values import Commit, Digest, RepoRef, RepoType, SourceKind


@dataclass
class MemoryRepo:
    """One repository: commits (sha → files), branches and tags."""

    repo: str
    repo_type: RepoType
    gated: bool = False
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def commit(
        self, files: Mapping[str, bytes], *, branch: str = "main", replace: bool = False
    ) -> Commit:
        """Add or update ``files`` on ``branch`` (``replace``: exactly these); return the sha."""
        parent = self.branches.get(branch)
        tree = {} if parent is None or replace else dict(self.commits[parent])
        tree.update(files)
        ids = {path: _attested(path, data)[1] for path, data in tree.items()}
        when = EPOCH.replace(minute=len(self.commits) % 60, second=len(self.commits) // 60)
        sha = commit_id(nested_tree_ids(ids)[""], parent, "update", when)
        self.commits[sha] = dict(sorted(tree.items()))
        self.branches[branch] = sha
        return Commit(sha)

    def resolve(self, revision: str) -> str | None:
        if revision in self.branches:
            return self.branches[revision]
        if revision in self.tags:
            return self.tags[revision]
        return revision if revision in self.commits else None


@dataclass
class _Fault:
    status: int
    retry_after: float | None
    times: int


class MemorySource:
    """A :class:`~modelpm.sources.base.Source` whose hub is a few dictionaries."""

    def __init__(
        self, name: str = "memory", *, kind: SourceKind = "hf", token: str | None = None
    ) -> None:
        self.kind: SourceKind = kind
        self.endpoint = f"memory://{name}"
        self.token = token
        self.repos: dict[tuple[RepoType, str], MemoryRepo] = {}
        self.calls: list[str] = []  # "resolve …", "list …", "GET <url>", in order
        self.headers_seen: list[dict[str, str]] = []
        self._faults: list[_Fault] = []
        self._corrupt: set[str] = set()
        self._lock = threading.Lock()
        self.transport = MemoryTransport(self)

    @property
    def name(self) -> str:
        return self.endpoint

    # -- building the hub ------------------------------------------------------------

    def create_repo(
        self, repo: str, *, repo_type: RepoType = "model", gated: bool = False
    ) -> MemoryRepo:
        created = MemoryRepo(repo, repo_type, gated)
        self.repos[(repo_type, repo)] = created
        return created

    def fail_next(self, status: int, *, times: int = 1, retry_after: float | None = None) -> None:
        """Answer the next ``times`` requests for bytes with ``status``."""
        with self._lock:
            self._faults.append(_Fault(status, retry_after, times))

    def corrupt(self, path: str) -> None:
        """Serve ``path`` (in every repo) with its first byte flipped."""
        self._corrupt.add(path)

    @property
    def requests(self) -> int:
        return len(self.calls)

    # -- the Source interface --------------------------------------------------------

    def resolve(self, ref: RepoRef, revision: str) -> ResolvedRevision:
        self._log(f"resolve {ref} @ {revision}")
        repo = self._repo(ref)
        commit = repo.resolve(revision)
        if commit is None:
            known = ", ".join(sorted({*repo.branches, *repo.tags})) or "none"
            raise RevisionNotFoundError(
                f"revision {revision!r} was not found in {ref}", hint=f"revisions: {known}"
            )
        return ResolvedRevision(Commit(commit))

    def list_files(self, ref: RepoRef, commit: str) -> list[RemoteFile]:
        self._log(f"list {ref} @ {commit}")
        repo = self._repo(ref)
        if commit not in repo.commits:
            raise RevisionNotFoundError(f"revision {commit!r} was not found in {ref}")
        return [
            RemoteFile(path, len(data), _attested(path, data)[0])
            for path, data in repo.commits[commit].items()
        ]

    def locate(self, wanted: Wanted) -> str:
        ref = wanted.repo
        where = f"{ref.repo_type}/{quote(ref.repo)}/{wanted.commit}/{quote(wanted.path)}"
        return f"{self.endpoint}/{where}"

    def headers_for(self, url: str) -> dict[str, str]:
        if self.token and url.startswith(self.endpoint + "/"):
            return {"authorization": f"Bearer {self.token}"}
        return {}

    def judge(self, reply: ReplyHead, url: str, wanted: Wanted) -> Verdict:
        verdict = http_verdict(reply, url, wanted)
        if verdict is not None:
            return verdict
        code = reply.headers.get("x-error-code")
        error: ModelpmError
        if code == "EntryNotFound":
            error = EntryNotFoundError(f"a file of {wanted.repo} is missing on {self.endpoint}")
        elif code == "GatedRepo":
            error = GatedRepoError(f"{wanted.repo} is gated")
        else:
            error = HubError(f"{self.endpoint} failed for {wanted.repo} (HTTP {reply.status})")
        return Fail(error)

    def unreachable(self, cause: BaseException) -> ModelpmError:
        return NetworkError(f"cannot reach {self.endpoint} ({cause})")

    # -- helpers -------------------------------------------------------------------------

    def _repo(self, ref: RepoRef) -> MemoryRepo:
        repo = self.repos.get((ref.repo_type, ref.repo))
        if repo is None:
            raise RepoNotFoundError(f"{ref} was not found on {self.endpoint}")
        return repo

    def _log(self, call: str) -> None:
        with self._lock:
            self.calls.append(call)

    def _take_fault(self) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def answer(self, url: str, headers: Mapping[str, str]) -> MemoryReply:
        """What the hub says to a GET of ``url`` (the transport's one question)."""
        self._log(f"GET {url}")
        with self._lock:
            self.headers_seen.append(dict(headers))
        fault = self._take_fault()
        if fault is not None:
            extra = {} if fault.retry_after is None else {"retry-after": f"{fault.retry_after:g}"}
            return MemoryReply(fault.status, extra, b"")
        parts = unquote(urlsplit(url).path).lstrip("/").split("/")
        repo_type, rest = parts[0], parts[1:]
        repo = next(
            (r for (t, name), r in self.repos.items() if t == repo_type and _under(rest, name)),
            None,
        )
        if repo is None:
            return MemoryReply(404, {"x-error-code": "RepoNotFound"}, b"")
        depth = len(repo.repo.split("/"))
        commit, path = rest[depth], "/".join(rest[depth + 1 :])
        if repo.gated and headers.get("authorization") != f"Bearer {self.token}":
            return MemoryReply(401, {"x-error-code": "GatedRepo"}, b"")
        data = repo.commits.get(commit, {}).get(path)
        if data is None:
            return MemoryReply(404, {"x-error-code": "EntryNotFound"}, b"")
        if path in self._corrupt and data:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        return _ranged(data, headers.get("range"))


def _under(parts: list[str], repo: str) -> bool:
    names = repo.split("/")
    return parts[: len(names)] == names


def _attested(path: str, data: bytes) -> tuple[Digest, str]:
    """The hash a hub attests for a file, and its git tree id (the pointer's, for LFS)."""
    if is_lfs_by_default(path, len(data)):
        sha256 = hashlib.sha256(data).hexdigest()
        return Digest("sha256", sha256), blob_id(lfs_pointer(sha256, len(data)))
    git = blob_id(data)
    return Digest("git-sha1", git), git


def _ranged(data: bytes, header: str | None) -> MemoryReply:
    if not header:
        return MemoryReply(200, {"content-length": str(len(data))}, data)
    first, _, last = header.removeprefix("bytes=").partition("-")
    start, end = int(first), min(int(last) if last else len(data) - 1, len(data) - 1)
    if start >= len(data):
        return MemoryReply(416, {"content-range": f"bytes */{len(data)}"}, b"")
    body = data[start : end + 1]
    return MemoryReply(206, {"content-range": f"bytes {start}-{end}/{len(data)}"}, body)


class MemoryReply:
    """A :class:`~modelpm.transfer.transport.Reply` over bytes in memory."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self._body = memoryview(body)
        self._pos = 0

    def readinto(self, buffer: memoryview) -> int:
        count = min(len(buffer), len(self._body) - self._pos)
        buffer[:count] = self._body[self._pos : self._pos + count]
        self._pos += count
        return count

    def read_text(self, limit: int = 65536) -> str:
        return bytes(self._body[:limit]).decode("utf-8", "replace")

    def close(self) -> None:
        self._pos = len(self._body)

    def abort(self) -> None:
        self.close()

    def __enter__(self) -> Reply:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class MemoryTransport:
    """A :class:`~modelpm.transfer.transport.Transport` that asks a :class:`MemorySource`."""

    def __init__(self, source: MemorySource) -> None:
        self.source = source

    def request(self, method: str, url: str, headers: Mapping[str, str]) -> Reply:
        if not url.startswith(self.source.endpoint + "/"):
            raise TransportError(f"no route to {url.split('?')[0]}")
        return self.source.answer(url, headers)

    def close(self) -> None:
        pass
