"""The contract every source keeps, run against each implementation.

A source is proven by passing this file: revisions resolve to commits and
unknown ones are typed errors, listings are sorted and attest the right hash of
every file, the transfer engine fetches every file's bytes through the source's
origin (ranged, over several connections, through passing failures), a token
goes only to the source's own origin, and bytes that differ from the listing
never enter the store. Implementations: the in-memory source, the Hugging Face
source against the loopback test hub, and the ModelScope source against its
ModelScope face (whose default branch is ``master`` and which attests sha256 for
every file).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest
from support import random_bytes

from modelpm.errors import (
    EntryNotFoundError,
    IntegrityError,
    RepoNotFoundError,
    RevisionNotFoundError,
)
from modelpm.plan.tasks import FileTask
from modelpm.sources.base import RemoteFile, Source
from modelpm.sources.hf.source import HfSource
from modelpm.sources.modelscope.source import ModelScopeSource
from modelpm.store.local import Store
from modelpm.testing import Fault, TestHub
from modelpm.testing.hub import Site
from modelpm.testing.memory import MemorySource
from modelpm.transfer.engine import Downloader, always
from modelpm.transfer.http import HttpPool
from modelpm.transfer.options import TransferOptions
from modelpm.transfer.retry import RetryPolicy
from modelpm.transfer.transport import Transport
from modelpm.values import Commit, Digest, HashAlgorithm, RepoRef, RepoType

MiB = 1024 * 1024
TOKEN = "hf_contract_token_0123456789"
FILES = {
    "config.json": b'{"hidden_size": 8}\n',
    "nested/deep/vocab.txt": b"a\nb\nc\n",
    "model.safetensors": random_bytes(3 * MiB + 5, 7),
    "empty.txt": b"",
}
OPTIONS = TransferOptions(
    connections=3,
    split_size=1 * MiB,
    chunk_size=1 * MiB,
    min_segment=256 * 1024,
    read_size=64 * 1024,
    stall_timeout=2,
    retry=RetryPolicy(retries=3, backoff=0.0, max_backoff=0.0),
    record_every=0.0,
)


class Hub(Protocol):
    """How a test builds repos on, and breaks, the hub behind a source."""

    def publish(
        self,
        repo: str,
        files: dict[str, bytes],
        *,
        repo_type: RepoType = "model",
        branch: str | None = None,
    ) -> Commit: ...

    def tag(self, repo: str, name: str, rev: str) -> None: ...

    def fail_next(self, status: int) -> None: ...

    def corrupt(self, path: str) -> None: ...


@dataclass
class Case:
    source: Source
    transport: Transport
    hub: Hub
    other_origin: str  # an origin the token must never reach
    default_branch: str = "main"
    # What the source attests: sha256 for LFS files and git blob ids for the rest (the Hub),
    # or sha256 for every file (ModelScope).
    algorithms: frozenset[HashAlgorithm] = frozenset({"sha256", "git-sha1"})


class OnTestHub:
    def __init__(self, hub: TestHub, site: Site = "hf") -> None:
        self.server = hub
        self.site: Site = site

    def publish(
        self,
        repo: str,
        files: dict[str, bytes],
        *,
        repo_type: RepoType = "model",
        branch: str | None = None,
    ) -> Commit:
        found = self.server.find_repo(repo, repo_type, self.site)
        target = found or self.server.create_repo(repo, repo_type=repo_type, site=self.site)
        if branch is not None and branch not in target.branches and target.branches:
            target.create_branch(branch)
        return Commit(target.commit(dict(files), branch=branch))

    def tag(self, repo: str, name: str, rev: str) -> None:
        self.server.repo(repo, site=self.site).create_tag(name, rev)

    def fail_next(self, status: int) -> None:
        # The file requests: /resolve/ on the Hub, …/repo?Revision=…&FilePath=… on ModelScope.
        where = "/resolve/" if self.site == "hf" else "/repo?"
        self.server.add_fault(Fault("status", path_contains=where, status=status))

    def corrupt(self, path: str) -> None:
        self.server.add_fault(Fault("corrupt", origin="any", after_bytes=0, times=None))


class InMemory:
    def __init__(self, source: MemorySource) -> None:
        self.source = source

    def publish(
        self,
        repo: str,
        files: dict[str, bytes],
        *,
        repo_type: RepoType = "model",
        branch: str | None = None,
    ) -> Commit:
        branch = branch or "main"
        found = self.source.repos.get((repo_type, repo))
        target = found or self.source.create_repo(repo, repo_type=repo_type)
        if branch not in target.branches and target.branches:
            target.branches[branch] = target.branches["main"]
        return target.commit(files, branch=branch)

    def tag(self, repo: str, name: str, rev: str) -> None:
        target = self.source.repos[("model", repo)]
        resolved = target.resolve(rev)
        assert resolved is not None
        target.tags[name] = resolved

    def fail_next(self, status: int) -> None:
        self.source.fail_next(status)

    def corrupt(self, path: str) -> None:
        self.source.corrupt(path)


@pytest.fixture(params=["memory", "hf", "modelscope"])
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Case]:
    if request.param == "memory":
        memory = MemorySource(token=TOKEN)
        yield Case(memory, memory.transport, InMemory(memory), "memory://elsewhere")
        return
    with TestHub(tmp_path / "hub") as server, HttpPool(timeout=OPTIONS.stall_timeout) as pool:
        server.add_token(TOKEN)
        if request.param == "hf":
            source = HfSource(server.endpoint, TOKEN)
            yield Case(source, pool, OnTestHub(server), server.cdn_endpoint)
            return
        ms = ModelScopeSource(server.modelscope_endpoint, TOKEN, retry=FAST_API)
        yield Case(
            ms,
            pool,
            OnTestHub(server, "modelscope"),
            server.ms_cdn_endpoint,
            default_branch="master",
            algorithms=frozenset({"sha256"}),
        )


def attested(path: str, data: bytes, listed: RemoteFile) -> bool:
    if listed.digest.algorithm == "sha256":
        return listed.digest.hexdigest == hashlib.sha256(data).hexdigest()
    header = b"blob %d\0" % len(data)
    return listed.digest.hexdigest == hashlib.sha1(header + data, usedforsecurity=False).hexdigest()


FAST_API = RetryPolicy(retries=2, backoff=0.0, max_backoff=0.0, jitter=False)


def task_for(ref: RepoRef, commit: Commit, listed: RemoteFile) -> FileTask:
    target = f"models/m/{listed.path}"
    return FileTask("m", "hf", ref, commit, listed.path, target, listed.size, listed.digest)


def test_revisions_resolve_to_commits_and_unknown_ones_are_typed(case: Case) -> None:
    first = case.hub.publish("acme/tiny", FILES)
    case.hub.tag("acme/tiny", "v1.0", case.default_branch)
    second = case.hub.publish("acme/tiny", {"config.json": b"{}"}, branch="feature/x")
    ref = RepoRef("acme/tiny")
    assert case.source.resolve(ref, case.default_branch).commit == first
    assert case.source.resolve(ref, "v1.0").commit == first
    assert case.source.resolve(ref, "feature/x").commit == second
    assert case.source.resolve(ref, first).commit == first
    assert len(first) == 40 and first != second
    with pytest.raises(RevisionNotFoundError, match="'nope'"):
        case.source.resolve(ref, "nope")
    with pytest.raises(RepoNotFoundError):
        case.source.resolve(RepoRef("acme/missing"), case.default_branch)


def test_listings_are_sorted_and_attest_every_file(case: Case) -> None:
    commit = case.hub.publish("acme/tiny", FILES)
    listed = case.source.list_files(RepoRef("acme/tiny"), commit)
    assert [item.path for item in listed] == sorted(FILES)
    for item in listed:
        assert item.size == len(FILES[item.path])
        assert attested(item.path, FILES[item.path], item), item.path
    assert {item.digest.algorithm for item in listed} == case.algorithms
    data = case.hub.publish("acme/set", {"train/a.parquet": b"rows"}, repo_type="dataset")
    (only,) = case.source.list_files(RepoRef("acme/set", "dataset"), data)
    assert only.path == "train/a.parquet"


def test_every_file_is_fetched_through_the_engine_and_verified(case: Case, tmp_path: Path) -> None:
    commit = case.hub.publish("acme/tiny", FILES)
    ref = RepoRef("acme/tiny")
    store = Store(tmp_path / "store")
    downloader = Downloader(always(case.source), store, case.transport, OPTIONS)
    for listed in case.source.list_files(ref, commit):
        path = downloader.fetch(task_for(ref, commit, listed))
        assert path.read_bytes() == FILES[listed.path], listed.path


def test_passing_failures_are_retried(case: Case, tmp_path: Path) -> None:
    commit = case.hub.publish("acme/tiny", FILES)
    ref = RepoRef("acme/tiny")
    listed = {item.path: item for item in case.source.list_files(ref, commit)}
    case.hub.fail_next(503)
    downloader = Downloader(always(case.source), Store(tmp_path / "s"), case.transport, OPTIONS)
    path = downloader.fetch(task_for(ref, commit, listed["config.json"]))
    assert path.read_bytes() == FILES["config.json"]


def test_a_file_missing_at_the_locked_commit_is_a_typed_error(case: Case, tmp_path: Path) -> None:
    commit = case.hub.publish("acme/tiny", FILES)
    ref = RepoRef("acme/tiny")
    ghost = RemoteFile("ghost.json", 3, Digest("git-sha1", "0" * 40))
    downloader = Downloader(always(case.source), Store(tmp_path / "s"), case.transport, OPTIONS)
    with pytest.raises(EntryNotFoundError):
        downloader.fetch(task_for(ref, commit, ghost))


def test_bytes_that_differ_from_the_listing_never_enter_the_store(
    case: Case, tmp_path: Path
) -> None:
    commit = case.hub.publish("acme/tiny", FILES)
    ref = RepoRef("acme/tiny")
    listed = {item.path: item for item in case.source.list_files(ref, commit)}
    case.hub.corrupt("model.safetensors")
    store = Store(tmp_path / "s")
    downloader = Downloader(always(case.source), store, case.transport, OPTIONS)
    wanted = task_for(ref, commit, listed["model.safetensors"])
    with pytest.raises(IntegrityError, match="do not match the lock"):
        downloader.fetch(wanted)
    assert not store.object_path(wanted.digest).exists()


def test_the_token_goes_only_to_the_sources_own_origin(case: Case) -> None:
    commit = case.hub.publish("acme/tiny", FILES)
    ref = RepoRef("acme/tiny")
    listed = case.source.list_files(ref, commit)[0]
    own = case.source.locate(task_for(ref, commit, listed))
    assert case.source.headers_for(own)["authorization"] == f"Bearer {TOKEN}"
    assert case.source.headers_for(case.other_origin + "/x") == {}
