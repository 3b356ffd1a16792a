"""Carrying a sync plan out: remove, check, place, then fetch what the store lacks.

Fetches run on a bounded set of worker threads that pull objects from one
queue, largest first (the longest transfer starts at once), each object once
however many paths share it. On any failure every other file still lands;
then one error names every file that failed. Ctrl-C stops the workers and
keeps everything already placed. The caller writes the state afterwards, even
on failure, so the next run starts from everything that did succeed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from modelpm.concurrency import map_bounded
from modelpm.errors import Interrupted, ModelpmError, OfflineError
from modelpm.fs.cleanup import remove_temp_files
from modelpm.place.placer import Placer
from modelpm.place.report import SyncReport
from modelpm.place.space import check_free_space
from modelpm.plan.planner import SyncPlan
from modelpm.plan.tasks import FileTask
from modelpm.progress import NullReporter, Reporter
from modelpm.project.state import State
from modelpm.store.local import Store
from modelpm.values import Digest, LinkMode

Fetcher = Callable[[FileTask, threading.Event], None]
"""Puts a task's object in the store (fetch + verify) or raises; stops once the event is set."""


def apply_sync(
    plan: SyncPlan,
    *,
    root: Path,
    store: Store,
    state: State,
    fetcher: Fetcher | None,
    jobs: int = 8,
    reporter: Reporter | None = None,
    link: LinkMode = "hardlink",
) -> SyncReport:
    """Carry out ``plan``; ``state`` is updated in place as files land.

    ``fetcher`` None means offline: anything that would need a download fails
    with :class:`OfflineError`.
    """
    reporter = reporter or NullReporter()
    placer = Placer(root, store, state, link)
    tasks = plan.tasks
    prefix = f"{root}/"
    targets = {prefix + task.target for task in tasks}
    for folder in {task.dest for task in tasks}:
        remove_temp_files(root / folder, keep=targets)
    placer.report.kept = len(plan.keep)
    for target in plan.remove:
        placer.remove(target)
    place = list(plan.place)
    fetch = list(plan.fetch)
    for task in plan.check:
        if not placer.check(task):
            (place if store.vouch(task.digest, task.size) else fetch).append(task)
    for task in place:
        placer.place(task)
    if fetch:
        if fetcher is None:
            missing = ", ".join(task.label for task in fetch[:5])
            more = f" and {len(fetch) - 5} more" if len(fetch) > 5 else ""
            raise OfflineError(
                f"offline, and {len(fetch)} files are not in the store: {missing}{more}",
                hint="run sync once with network access",
            )
        check_free_space(store, fetch, copies=link != "hardlink")
        _fetch_all(fetch, fetcher, placer, jobs, reporter)
    reporter.end()
    return placer.report


def _fetch_all(
    fetch: list[FileTask], fetcher: Fetcher, placer: Placer, jobs: int, reporter: Reporter
) -> None:
    by_object: dict[Digest, list[FileTask]] = {}
    for task in fetch:
        by_object.setdefault(task.digest, []).append(task)
    # Largest first: the longest download starts at once instead of after the small files.
    objects = sorted((tasks[0] for tasks in by_object.values()), key=lambda t: -t.size)
    reporter.begin(len(objects), sum(task.size for task in objects))
    cancel = threading.Event()
    failures: list[tuple[str, BaseException]] = []
    failures_lock = threading.Lock()

    def fetch_one(task: FileTask) -> None:
        try:
            fetcher(task, cancel)
            for same in by_object[task.digest]:
                placer.place(same)
        except BaseException as exc:  # noqa: BLE001 - reported once every worker is done
            with failures_lock:
                failures.append((task.label, exc))
            return
        with placer.lock:
            placer.report.downloaded += 1
            placer.report.downloaded_bytes += task.size

    try:
        # Every object is tried whatever fails (fetch_one keeps its failure); Ctrl-C lets
        # the running ones finish recording, then ends the run.
        map_bounded(fetch_one, objects, jobs, name="modelpm-fetch", cancel=cancel)
    except KeyboardInterrupt:
        raise Interrupted(
            "interrupted; files already downloaded are kept", hint="run sync again to resume"
        ) from None
    if failures:
        raise combined_error(failures)


MAX_NAMED = 20  # files named in the message; every one is in the error's ``failures``


def combined_error(failures: list[tuple[str, BaseException]]) -> BaseException:
    """One error for a run in which files failed, naming every failed file.

    One failure is its own error. Several are the error of the first failed file by
    name (its class, message, hint and exit code) with every failed file named after it
    (``… (3 files failed: m/a, m/b, m/c)``); each file's own error is in ``failures``.
    """
    strange = next((exc for _, exc in failures if not isinstance(exc, ModelpmError)), None)
    if strange is not None:
        return strange  # a bug, not a failure a user can act on: show it as it is
    # By file name, not by the order threads happened to fail in: the same run, the same line.
    named = sorted(
        ((label, exc) for label, exc in failures if isinstance(exc, ModelpmError)),
        key=lambda item: item[0],
    )
    first = named[0][1]
    if len(named) == 1:
        return first
    error = type(first)(f"{first.message} ({_files([label for label, _ in named])})", first.hint)
    error.__dict__.update(
        {key: value for key, value in vars(first).items() if key not in ("message", "hint")}
    )
    error.failures = tuple(named)
    return error


def _files(labels: list[str]) -> str:
    shown = ", ".join(labels[:MAX_NAMED])
    more = f" and {len(labels) - MAX_NAMED} more" if len(labels) > MAX_NAMED else ""
    return f"{len(labels)} files failed: {shown}{more}"
