"""The transfer engine against a faulty loopback hub: ranges, resume, retries, verification."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import random_bytes, wait_until

from modelpm.errors import GatedRepoError, IntegrityError, Interrupted
from modelpm.plan.tasks import FileTask
from modelpm.sources.hf.source import HfSource
from modelpm.store.local import Store
from modelpm.testing import Fault, TestHub
from modelpm.transfer.engine import Downloader, always
from modelpm.transfer.http import HttpPool
from modelpm.transfer.options import TransferOptions
from modelpm.transfer.retry import RetryPolicy
from modelpm.values import Commit, Digest, RepoRef

MiB = 1024 * 1024
SIZE = 6 * MiB + 123
IN_FLIGHT = 2 * MiB  # bytes a loopback connection can hold in its buffers when it is cut
FAST = TransferOptions(
    connections=4,
    split_size=1 * MiB,
    chunk_size=1 * MiB,
    min_segment=256 * 1024,
    read_size=64 * 1024,
    stall_timeout=0.5,
    connect_timeout=2,
    retry=RetryPolicy(retries=4, backoff=0.01, max_backoff=0.05),
    record_every=0.0,
)


@pytest.fixture
def data() -> bytes:
    return random_bytes(SIZE, 42)


@pytest.fixture
def task(hub: TestHub, data: bytes) -> FileTask:
    repo = hub.create_repo("acme/big")
    commit = Commit(repo.commit({"model.safetensors": data, "small.json": b'{"x": 1}'}))
    return FileTask(
        model="big",
        source="hf",
        repo=RepoRef("acme/big"),
        commit=commit,
        path="model.safetensors",
        target="models/big/model.safetensors",
        size=len(data),
        digest=Digest("sha256", hashlib.sha256(data).hexdigest()),
    )


class FakeClock:
    """Time that moves only when the engine sleeps: a wait of N s takes no real time and
    advances this clock by exactly N s."""

    def __init__(self) -> None:
        self.time = 0.0
        self.slept = 0.0
        self.lock = threading.Lock()

    def now(self) -> float:
        with self.lock:
            return self.time

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.time += seconds
            self.slept += seconds


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")


@pytest.fixture
def downloader(hub: TestHub, store: Store) -> Iterator[Downloader]:
    with HttpPool(timeout=FAST.stall_timeout) as pool:
        yield Downloader(always(HfSource(hub.endpoint, None)), store, pool, FAST)


def cdn_gets(hub: TestHub) -> list[str | None]:
    return [r.headers.get("range") for r in hub.requests if r.origin == "cdn" and r.method == "GET"]


def test_large_file_over_several_connections_with_one_resolve(
    hub: TestHub, downloader: Downloader, task: FileTask, data: bytes, store: Store
) -> None:
    path = downloader.fetch(task)
    assert path.read_bytes() == data
    assert path.stat().st_mode & 0o222 == 0, "store objects are read-only"
    assert len([r for r in hub.requests if "/resolve/" in r.path]) == 1
    ranges = cdn_gets(hub)
    assert len(ranges) >= 4 and all(r and r.startswith("bytes=") for r in ranges)
    # A connection whose tail another one took over is closed; what the server had already
    # put on the wire for it is the only waste.
    assert SIZE <= hub.bytes_sent < SIZE + IN_FLIGHT
    assert not list((store.root / "partial").glob("*.part"))


def test_small_git_file_streams_from_resolve(
    hub: TestHub, downloader: Downloader, task: FileTask
) -> None:
    small = FileTask(
        task.model,
        "hf",
        task.repo,
        task.commit,
        "small.json",
        "x/small.json",
        8,
        Digest("git-sha1", hub.repo("acme/big").files()["small.json"].git_sha1),
    )
    assert downloader.fetch(small).read_bytes() == b'{"x": 1}'
    assert [r.status for r in hub.requests] == [200]


@pytest.mark.parametrize("kind", ["drop", "reset", "truncate"])
def test_broken_connections_resume_without_resending(
    hub: TestHub, downloader: Downloader, task: FileTask, data: bytes, kind: str
) -> None:
    hub.add_fault(Fault(kind, origin="cdn", after_bytes=700_000, times=2))  # type: ignore[arg-type]
    assert downloader.fetch(task).read_bytes() == data
    assert any(r and not r.endswith(f"-{SIZE - 1}") for r in cdn_gets(hub))
    assert hub.bytes_sent < SIZE + 2 * IN_FLIGHT, "only what was lost is sent again"


def test_stall_is_cut_and_retried(
    hub: TestHub, downloader: Downloader, task: FileTask, data: bytes
) -> None:
    hub.add_fault(Fault("stall", origin="cdn", after_bytes=300_000, seconds=3))
    assert downloader.fetch(task).read_bytes() == data
    # The stalled piece is asked again from its last whole read (less than one read before
    # the stall: what arrived is kept), long before the server would have gone on by itself
    # (3 s against a 0.5 s stall timeout).
    starts = [int(r.split("=")[1].split("-")[0]) for r in cdn_gets(hub) if r]
    assert any(300_000 - FAST.read_size < start % MiB <= 300_000 for start in starts), starts


def test_429_honours_retry_after_and_5xx_are_retried(
    hub: TestHub, store: Store, task: FileTask, data: bytes
) -> None:
    hub.add_fault(Fault("status", origin="cdn", status=429, retry_after=2, times=1))
    hub.add_fault(Fault("status", origin="hub", path_contains="/resolve/", status=503, times=2))
    clock = FakeClock()
    with HttpPool(timeout=FAST.stall_timeout) as pool:
        source = HfSource(hub.endpoint, None)
        downloader = Downloader(always(source), store, pool, FAST, clock=clock)
        assert downloader.fetch(task).read_bytes() == data
    # Retry-After: 2 once, plus two backoffs of at most 0.01 and 0.02 s for the 503s.
    assert 2.0 <= clock.slept <= 2.03, clock.slept


def test_server_ignoring_range_falls_back_to_one_stream(
    hub: TestHub, downloader: Downloader, task: FileTask, data: bytes
) -> None:
    hub.add_fault(Fault("ignore_range", origin="cdn", times=None))
    assert downloader.fetch(task).read_bytes() == data
    assert cdn_gets(hub)[-1] is None, "the last attempt asks for the whole body"


def test_expired_cdn_link_is_resolved_again(
    hub: TestHub, downloader: Downloader, task: FileTask, data: bytes
) -> None:
    hub.add_fault(Fault("expire_cdn", times=2))
    assert downloader.fetch(task).read_bytes() == data
    assert len([r for r in hub.requests if "/resolve/" in r.path]) >= 2


def test_corrupted_bytes_are_refused_after_one_retry(
    hub: TestHub, downloader: Downloader, task: FileTask, store: Store
) -> None:
    hub.add_fault(Fault("corrupt", origin="cdn", after_bytes=10, times=None))
    with pytest.raises(IntegrityError) as caught:
        downloader.fetch(task)
    message = caught.value.message
    assert "big/model.safetensors" in message and f"expected {task.digest}" in message
    assert "got sha256:" in message
    assert not store.has(task.digest, task.size)
    assert not list((store.root / "partial").glob("*.part"))


def test_resume_across_runs_sends_only_the_missing_bytes(
    hub: TestHub, store: Store, task: FileTask, data: bytes
) -> None:
    """A first run is stopped half-way; the next one resumes from the recorded ranges."""
    hub.add_fault(Fault("throttle", origin="cdn", rate=2 * MiB, times=None))
    cancel = threading.Event()
    outcome: list[BaseException] = []

    def first_run() -> None:
        with HttpPool(timeout=FAST.stall_timeout) as pool:
            try:
                Downloader(always(HfSource(hub.endpoint, None)), store, pool, FAST).fetch(
                    task, cancel
                )
            except BaseException as exc:  # noqa: BLE001 - checked below
                outcome.append(exc)

    thread = threading.Thread(target=first_run)
    thread.start()
    wait_until(lambda: hub.bytes_sent >= SIZE // 2, 10, "half the file to be sent")
    cancel.set()
    thread.join()
    assert outcome and isinstance(outcome[0], Interrupted)
    record = json.loads(store.ranges_path(task.digest).read_text())
    written = sum(end - start for start, end in record["done"])
    assert SIZE // 3 <= written < SIZE
    hub.clear_faults()
    hub.reset_stats()
    with HttpPool(timeout=FAST.stall_timeout) as pool:
        second = Downloader(always(HfSource(hub.endpoint, None)), store, pool, FAST)
        assert second.fetch(task).read_bytes() == data
    assert SIZE - written <= hub.bytes_sent < SIZE - written + IN_FLIGHT


def test_gated_file_without_access_is_a_typed_error(hub: TestHub, store: Store) -> None:
    repo = hub.create_repo("acme/gated", gated=True)
    commit = Commit(repo.commit({"w.bin": b"secret weights"}))
    gated = FileTask(
        "g",
        "hf",
        RepoRef("acme/gated"),
        commit,
        "w.bin",
        "g/w.bin",
        14,
        Digest("sha256", hashlib.sha256(b"secret weights").hexdigest()),
    )
    with HttpPool(timeout=FAST.stall_timeout) as pool:
        downloader = Downloader(always(HfSource(hub.endpoint, None)), store, pool, FAST)
        with pytest.raises(GatedRepoError, match="acme/gated is gated and no token is set"):
            downloader.fetch(gated)


def test_threads_sharing_a_store_download_each_object_once(
    hub: TestHub, store: Store, task: FileTask, data: bytes
) -> None:
    hub.add_fault(Fault("throttle", origin="cdn", rate=20 * MiB, times=None))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with HttpPool(timeout=FAST.stall_timeout) as pool:
                Downloader(always(HfSource(hub.endpoint, None)), store, pool, FAST).fetch(task)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert store.object_path(task.digest).read_bytes() == data
    assert hub.bytes_sent < SIZE + IN_FLIGHT, "downloaded once, not three times"
