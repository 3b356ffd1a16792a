"""Work over many items on a few threads: bounded, in order, and quick to stop.

``concurrent.futures`` holds a future per item (50,000 files are 50,000 futures, ~84 MB)
and its worker threads are joined at interpreter exit, so Ctrl-C would wait for every
running call to end. Here a fixed set of daemon threads pulls the next index from one
counter: memory does not grow with the number of items beyond their results, a failure
stops new items from starting, and Ctrl-C returns at once (running calls are abandoned
with the process; callers write nothing until every item is done).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar, cast

Item = TypeVar("Item")
Result = TypeVar("Result")

_NOT_RUN = object()


def map_bounded(
    work: Callable[[Item], Result],
    items: Sequence[Item],
    jobs: int,
    *,
    name: str = "modelpm",
    cancel: threading.Event | None = None,
) -> list[Result]:
    """``[work(item) for item in items]`` with at most ``jobs`` running at once.

    A failure stops items not yet started; once the running ones end, the failure of
    the earliest item (in ``items``' order) is raised, so a run that fails the same way
    always reports the same item. Ctrl-C stops items not yet started and is raised at
    once; with ``cancel`` (an event the work itself watches), it is set, and the running
    items are let finish first, so that what they record is whole."""
    workers = max(1, min(jobs, len(items)))
    if workers == 1 and cancel is None:
        return [work(item) for item in items]
    results: list[object] = [_NOT_RUN] * len(items)
    errors: dict[int, BaseException] = {}
    handed_out = iter(range(len(items)))
    lock = threading.Lock()
    stop = cancel or threading.Event()
    running = [workers]
    all_done = threading.Event()

    def worker() -> None:
        try:
            while not stop.is_set():
                with lock:
                    index = next(handed_out, None)
                if index is None:
                    return
                try:
                    results[index] = work(items[index])
                except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread
                    with lock:
                        errors[index] = exc
                    stop.set()
        finally:
            with lock:
                running[0] -= 1
                if running[0] == 0:
                    all_done.set()

    threads = [
        threading.Thread(target=worker, name=f"{name}-{number}", daemon=True)
        for number in range(workers)
    ]
    # An event, not Thread.join: a join that Ctrl-C interrupts can leave a thread looking
    # finished while it still runs (CPython gh-90882).
    try:
        for thread in threads:
            thread.start()
        while not all_done.wait(0.2):
            pass
    except KeyboardInterrupt:
        stop.set()
        if cancel is not None:
            # Ctrl-C may have come before every thread started, so the count of running
            # threads may never reach 0: wait for the ones alive (never joined, see above).
            while any(thread.is_alive() for thread in threads):
                time.sleep(0.05)
        raise
    if errors:
        raise errors[min(errors)]
    return cast(list[Result], results)
