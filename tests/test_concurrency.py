"""Bounded work on a few threads (modelpm.concurrency), and `lock` resolving models at once.

Concurrency is proved with barriers, never with timings: a barrier of N parties is only
passed when N calls are running together, and it breaks (failing the test) otherwise.
"""

from __future__ import annotations

import _thread
import contextlib
import threading
from pathlib import Path

import pytest

from modelpm.concurrency import map_bounded
from modelpm.errors import Interrupted, RepoNotFoundError
from modelpm.fs import objlock
from modelpm.manifest.model import Manifest
from modelpm.manifest.parse import parse_manifest
from modelpm.resolve.resolver import lock_project
from modelpm.sources.base import ResolvedRevision
from modelpm.testing.memory import MemorySource
from modelpm.values import RepoRef

MODELS = 12


def test_results_keep_the_order_of_the_items_and_jobs_run_together() -> None:
    together = threading.Barrier(4, timeout=10)

    def work(number: int) -> int:
        if number < 4:
            together.wait()  # broken (an error) unless the first four run at once
        return number * number

    assert map_bounded(work, list(range(20)), 4) == [number * number for number in range(20)]


def test_never_more_than_jobs_at_once() -> None:
    lock = threading.Lock()
    running = [0]
    most = [0]
    release = threading.Event()

    def work(number: int) -> int:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            if running[0] == 3:
                release.set()
        release.wait(10)
        with lock:
            running[0] -= 1
        return number

    assert map_bounded(work, list(range(30)), 3) == list(range(30))
    assert most[0] == 3


def test_the_earliest_failure_is_raised_and_later_items_never_start() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def work(number: int) -> int:
        with lock:
            started.append(number)
        if number in (2, 5):
            raise ValueError(f"item {number}")
        return number

    with pytest.raises(ValueError, match="item 2"):
        map_bounded(work, list(range(100)), 2)
    assert max(started) < 10, "a failure stops items that have not started"


class MeetingSource(MemorySource):
    """A memory hub whose revision calls wait until ``parties`` of them run at once."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self.meeting = threading.Barrier(parties, timeout=10)

    def resolve(self, ref: RepoRef, revision: str) -> ResolvedRevision:
        if not self.meeting.broken:
            # A broken meeting is reported by the assertion on ``broken`` in the test.
            with contextlib.suppress(threading.BrokenBarrierError):
                self.meeting.wait()
        return super().resolve(ref, revision)


def twelve_models(source: MemorySource, missing: tuple[int, ...] = ()) -> Manifest:
    for index in range(MODELS):
        if index not in missing:
            source.create_repo(f"acme/m{index:02d}").commit({"config.json": b"%d" % index})
    text = "".join(
        f'[models.m{index:02d}]\nrepo = "acme/m{index:02d}"\n\n' for index in range(MODELS)
    )
    return parse_manifest(text, Path("/p/models.toml"))


def test_lock_resolves_models_at_once_and_keeps_the_manifests_order() -> None:
    source = MeetingSource(parties=4)
    manifest = twelve_models(source)
    outcome = lock_project(manifest, None, lambda _kind: source, jobs=4)
    assert not source.meeting.broken, "four models were being resolved at the same time"
    assert [model.name for model in outcome.lock.models] == [f"m{i:02d}" for i in range(MODELS)]
    assert outcome.resolved == tuple(f"m{i:02d}" for i in range(MODELS))
    source.meeting.abort()  # one at a time from here: nobody to meet
    one_by_one = lock_project(manifest, None, lambda _kind: source, jobs=1)
    assert one_by_one.lock.same_content(outcome.lock)


def test_a_failed_lock_reports_the_first_failing_model_in_the_manifests_order() -> None:
    source = MemorySource()
    manifest = twelve_models(source, missing=(4, 9))
    for _ in range(5):
        with pytest.raises(RepoNotFoundError, match="acme/m04"):
            lock_project(manifest, None, lambda _kind: source, jobs=8)


def test_an_object_lock_excludes_every_other_holder_and_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "sha256-ab.lock"
    inside = [0]
    overlaps: list[int] = []

    def hammer(_number: int) -> None:
        for _ in range(200):
            fd = objlock.acquire(path)
            try:
                inside[0] += 1
                if inside[0] != 1:
                    overlaps.append(inside[0])
                inside[0] -= 1
            finally:
                objlock.release(path, fd)

    map_bounded(hammer, list(range(4)), 4)
    assert overlaps == [], "two holders at once"
    assert not path.exists()


def test_waiting_for_an_object_lock_ends_once_cancelled(tmp_path: Path) -> None:
    path = tmp_path / "sha256-ab.lock"
    fd = objlock.acquire(path)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Interrupted):
        objlock.acquire(path, cancel)
    objlock.release(path, fd)
    objlock.release(path, objlock.acquire(path))  # free again


def test_ctrl_c_with_a_cancel_event_lets_running_items_finish_and_starts_no_more() -> None:
    cancel = threading.Event()
    finished: list[int] = []

    def work(number: int) -> int:
        if number == 0:
            _thread.interrupt_main()  # Ctrl-C, while this item runs
        assert cancel.wait(10), "the caller's cancel event was set"
        finished.append(number)  # the running item gets to finish what it records
        return number

    with pytest.raises(KeyboardInterrupt):
        map_bounded(work, list(range(50)), 2, cancel=cancel)
    assert cancel.is_set()
    assert 0 in finished and len(finished) <= 2, "no item started after Ctrl-C"
