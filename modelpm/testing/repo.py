"""Repositories of the test hub: commits, branches, tags and the files they hold.

File bytes given as ``bytes`` are written once under the hub's root, named by
their sha256; a ``Path`` is served from where it is (large benchmark files
are never copied). Hashes are computed streaming and cached per
(path, size, mtime), so committing a 1 GiB folder twice hashes it once.
A commit made with ``expected_parent`` lands only if the branch head is still
that commit (:class:`StaleParent` otherwise), checked and moved under the
repo's lock, so two racing pushes never both land.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from modelpm.testing.gitobjects import blob_id, commit_id, lfs_pointer, nested_tree_ids

LFS_EXTENSIONS = (
    ".7z",
    ".arrow",
    ".bin",
    ".bz2",
    ".ckpt",
    ".ftz",
    ".gguf",
    ".gz",
    ".h5",
    ".joblib",
    ".lfs",
    ".mlmodel",
    ".model",
    ".msgpack",
    ".npy",
    ".npz",
    ".onnx",
    ".ot",
    ".parquet",
    ".pb",
    ".pickle",
    ".pkl",
    ".pt",
    ".pth",
    ".rar",
    ".safetensors",
    ".tar",
    ".tflite",
    ".tgz",
    ".wasm",
    ".xz",
    ".zip",
    ".zst",
)
LFS_SIZE = 10 * 1024 * 1024
EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)
_BLOCK = 8 * 1024 * 1024
_hash_cache: dict[tuple[str, int, int], tuple[str, str]] = {}
_hash_lock = threading.Lock()


@dataclass(frozen=True)
class RepoFile:
    """A file of a commit: ``git_sha1`` is the tree ``oid`` (of the pointer, for LFS files),
    ``sha256`` the LFS oid (None for git files), ``content_sha256`` the sha256 of the bytes
    whatever the storage (what ModelScope lists for every file)."""

    path: str
    size: int
    git_sha1: str
    sha256: str | None
    lfs: bool
    source: Path
    content_sha256: str = ""

    @property
    def pointer_size(self) -> int:
        return len(lfs_pointer(self.sha256 or "", self.size)) if self.lfs else 0


@dataclass(frozen=True)
class Commit:
    sha: str
    parent: str | None
    message: str
    date: datetime
    files: Mapping[str, RepoFile]
    trees: Mapping[str, str]  # folder ("" = root) -> tree id


def _hash_source(path: Path) -> tuple[str, str]:
    """(sha256, git blob sha1) of a file, streaming, cached per (path, size, mtime)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _hash_lock:
        cached = _hash_cache.get(key)
    if cached:
        return cached
    sha256 = hashlib.sha256()
    sha1 = hashlib.sha1(b"blob %d\0" % stat.st_size, usedforsecurity=False)
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            sha256.update(block)
            sha1.update(block)
    result = (sha256.hexdigest(), sha1.hexdigest())
    with _hash_lock:
        _hash_cache[key] = result
    return result


class StaleParent(Exception):
    """A commit named a parent that is no longer the head of its branch."""

    def __init__(self, expected: str, head: str | None) -> None:
        super().__init__(f"parent {expected} is not the head {head}")
        self.expected = expected
        self.head = head


def is_lfs_by_default(path: str, size: int) -> bool:
    return path.lower().endswith(LFS_EXTENSIONS) or size >= LFS_SIZE


@dataclass
class HubRepo:
    """One repository; mutate it through the methods, the server reads it concurrently."""

    repo_id: str
    repo_type: str
    blobs: Path
    clock: Clock
    gated: bool = False
    private: bool = False
    on_commit: Callable[[Iterable[RepoFile]], None] | None = None
    default_branch: str = "main"  # "master" on ModelScope
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    protected: set[str] = field(default_factory=set)  # branches nobody may push to
    # The Hub's security scan per path, as `securityFileStatus` in expanded listings.
    security: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    # -- writing ---------------------------------------------------------------

    def commit(
        self,
        files: Mapping[str, bytes | Path],
        *,
        branch: str | None = None,
        message: str = "update",
        delete: Iterable[str] = (),
        replace: bool = False,
        lfs: Iterable[str] | None = None,
        date: datetime | None = None,
        expected_parent: str | None = None,
    ) -> str:
        """Add or update ``files`` on ``branch`` (default: the default branch; ``replace``:
        exactly these); return the sha.

        ``expected_parent``: the commit the caller saw at the head of ``branch`` (a
        40-hex id or a prefix of one); raises :class:`StaleParent` if the head moved.
        """
        branch = branch or self.default_branch
        with self.lock:
            parent = self.branches.get(branch)
            if expected_parent is not None and not (
                parent and len(expected_parent) >= 7 and parent.startswith(expected_parent)
            ):
                raise StaleParent(expected_parent, parent)
            tree: dict[str, RepoFile] = {}
            if parent and not replace:
                tree.update(self.commits[parent].files)
            for path in delete:
                tree.pop(path, None)
            lfs_paths = set(lfs) if lfs is not None else None
            for path, content in files.items():
                tree[path] = self._file(path, content, lfs_paths)
            trees = nested_tree_ids({path: item.git_sha1 for path, item in tree.items()})
            when = date or self.clock.tick()
            sha = commit_id(trees[""], parent, message, when)
            self.commits[sha] = Commit(
                sha, parent, message, when, dict(sorted(tree.items())), trees
            )
            self.branches[branch] = sha
            if self.on_commit is not None:
                self.on_commit(tree.values())
            return sha

    def commit_folder(
        self,
        folder: Path,
        *,
        branch: str | None = None,
        message: str = "upload folder",
        lfs: Iterable[str] | None = None,
    ) -> str:
        """Make ``branch`` hold exactly the files under ``folder`` (served in place)."""
        files: dict[str, bytes | Path] = {
            path.relative_to(folder).as_posix(): path
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        }
        return self.commit(files, branch=branch, message=message, replace=True, lfs=lfs)

    def _file(self, path: str, content: bytes | Path, lfs_paths: set[str] | None) -> RepoFile:
        if isinstance(content, bytes):
            sha256 = hashlib.sha256(content).hexdigest()
            source = self.blobs / sha256
            if not source.exists():
                self.blobs.mkdir(parents=True, exist_ok=True)
                tmp = source.with_name(f"{sha256}.{threading.get_ident()}.tmp")
                tmp.write_bytes(content)
                os.replace(tmp, source)
            git_sha1 = blob_id(content)
            size = len(content)
        else:
            source = content.resolve()
            sha256, git_sha1 = _hash_source(source)
            size = source.stat().st_size
        is_lfs = path in lfs_paths if lfs_paths is not None else is_lfs_by_default(path, size)
        if is_lfs:
            pointer = blob_id(lfs_pointer(sha256, size))
            return RepoFile(path, size, pointer, sha256, True, source, sha256)
        return RepoFile(path, size, git_sha1, None, False, source, sha256)

    def create_branch(self, name: str, from_rev: str | None = None) -> str:
        with self.lock:
            sha = self.resolve(from_rev or self.default_branch)
            self.branches[name] = sha
            return sha

    def move_branch(self, name: str, rev: str) -> str:
        return self.create_branch(name, rev)

    def delete_branch(self, name: str) -> None:
        with self.lock:
            del self.branches[name]

    def squash(self, branch: str | None = None, message: str = "squashed") -> str:
        """Rewrite ``branch`` as one commit without a parent holding its files, as a
        super-squash or a force-push does: every commit it had is gone, with the tags on
        them. Return the new sha."""
        branch = branch or self.default_branch
        with self.lock:
            head = self.commits[self.branches[branch]]
            gone = {commit.sha for commit in self.history(head.sha)}
            when = self.clock.tick()
            sha = commit_id(head.trees[""], None, message, when)
            self.commits[sha] = Commit(sha, None, message, when, head.files, head.trees)
            for old in gone:
                del self.commits[old]
            self.branches[branch] = sha
            self.tags = {name: rev for name, rev in self.tags.items() if rev not in gone}
            return sha

    def create_tag(self, name: str, rev: str | None = None) -> str:
        with self.lock:
            sha = self.resolve(rev or self.default_branch)
            self.tags[name] = sha
            return sha

    # -- reading ---------------------------------------------------------------

    def resolve(self, rev: str) -> str:
        """Branch, tag or full commit sha -> commit sha; KeyError if unknown."""
        with self.lock:
            if rev in self.branches:
                return self.branches[rev]
            if rev in self.tags:
                return self.tags[rev]
            if rev in self.commits:
                return rev
        raise KeyError(rev)

    def files(self, rev: str | None = None) -> dict[str, RepoFile]:
        return dict(self.commits[self.resolve(rev or self.default_branch)].files)

    def commit_date(self, rev: str | None = None) -> datetime:
        return self.commits[self.resolve(rev or self.default_branch)].date

    def history(self, rev: str) -> list[Commit]:
        """Commits reachable from ``rev``, newest first."""
        out: list[Commit] = []
        sha: str | None = self.resolve(rev)
        while sha:
            commit = self.commits[sha]
            out.append(commit)
            sha = commit.parent
        return out

    def last_commit_touching(self, rev: str, path: str) -> Commit:
        history = self.history(rev)
        current = history[0].files.get(path)
        for older, newer in zip(history[1:], history, strict=False):
            if older.files.get(path) != current:
                return newer
        return history[-1]


class Clock:
    """Deterministic commit dates: a fixed epoch plus one minute per commit."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def tick(self) -> datetime:
        with self.lock:
            self.count += 1
            return EPOCH + timedelta(minutes=self.count)
