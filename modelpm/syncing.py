"""Lock → files in destinations: a pure plan, then its application.

:func:`plan_sync` looks only at the lock, the recorded state and one ``stat``
per file (injected), and sorts every wanted file into exactly one of:

    keep   placed earlier and unchanged since (size, mtime, inode as recorded)
    check  something is at the target that the state cannot vouch for: hash it
    place  the store has the object: link (or copy) it into place
    fetch  download into the store first, then place

plus the placed files that nothing wants any more (``remove``).
:func:`apply_sync` carries a plan out: parallel fetches through an injected
fetcher, atomic placement, removal of only what modelpm placed and nobody
changed, and the state written even when something failed or Ctrl-C came,
so the next run starts from everything that did succeed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from modelpm.errors import Interrupted, ModelpmError, OfflineError
from modelpm.fsutil import place_file, remove_empty_parents, remove_temp_files, storage_errors
from modelpm.hashing import hash_file
from modelpm.hub import RepoRef
from modelpm.lockfile import Digest, Lock
from modelpm.paths import join_inside, outside_of
from modelpm.progress import NullReporter, Reporter
from modelpm.project import PlacedFile, State
from modelpm.store import Store

if TYPE_CHECKING:
    from concurrent.futures import Future


@dataclass(frozen=True)
class FileTask:
    """One locked file and where it goes (``target`` is relative to the project root)."""

    model: str
    repo: RepoRef
    commit: str
    path: str
    target: str
    size: int
    digest: Digest

    @property
    def label(self) -> str:
        return f"{self.model}/{self.path}"

    @property
    def dest(self) -> str:
        """The model's folder, relative to the project root."""
        return self.target[: -len(self.path)].rstrip("/")


@dataclass(frozen=True)
class SyncPlan:
    keep: tuple[FileTask, ...] = ()
    check: tuple[FileTask, ...] = ()
    place: tuple[FileTask, ...] = ()
    fetch: tuple[FileTask, ...] = ()
    remove: tuple[str, ...] = ()

    @property
    def is_noop(self) -> bool:
        return not (self.check or self.place or self.fetch or self.remove)

    @property
    def fetch_bytes(self) -> int:
        return sum(task.size for task in unique_objects(self.fetch))


def wanted_files(lock: Lock, destinations: Mapping[str, str]) -> list[FileTask]:
    """Every file of every locked model with a destination (``destinations[name]``)."""
    tasks: list[FileTask] = []
    for model in lock.models:
        dest = destinations.get(model.name)
        if dest is None:
            continue
        ref = RepoRef(model.repo, model.repo_type)
        for item in model.files:
            target = join_inside(Path(dest), item.path).as_posix()
            tasks.append(
                FileTask(model.name, ref, model.commit, item.path, target, item.size, item.digest)
            )
    return tasks


StatFn = Callable[[str], "os.stat_result | None"]


def plan_sync(
    wanted: Sequence[FileTask],
    selected: Iterable[str] | None,
    state: State,
    stat: StatFn,
    in_store: Callable[[Digest, int], bool],
) -> SyncPlan:
    """Sort the files of the ``selected`` models (None: all) into keep/check/place/fetch.

    Removal is decided against every wanted file, so syncing one model never
    removes another model's files.
    """
    chosen = None if selected is None else set(selected)
    keep: list[FileTask] = []
    check: list[FileTask] = []
    place: list[FileTask] = []
    fetch: list[FileTask] = []
    for task in wanted:
        if chosen is not None and task.model not in chosen:
            continue
        current = stat(task.target)
        record = state.files.get(task.target)
        if (
            current is not None
            and record is not None
            and record.digest == task.digest
            and record.matches(current)
        ):
            keep.append(task)
        elif current is not None and current.st_size == task.size:
            check.append(task)
        elif in_store(task.digest, task.size):
            place.append(task)
        else:
            fetch.append(task)
    wanted_targets = {task.target for task in wanted}
    remove = tuple(sorted(target for target in state.files if target not in wanted_targets))
    return SyncPlan(tuple(keep), tuple(check), tuple(place), tuple(fetch), remove)


def unique_objects(tasks: Iterable[FileTask]) -> list[FileTask]:
    """One task per store object: two paths with the same bytes download once."""
    seen: dict[Digest, FileTask] = {}
    for task in tasks:
        seen.setdefault(task.digest, task)
    return list(seen.values())


Fetcher = Callable[[FileTask, threading.Event], None]
"""Puts a task's object in the store (download + verify) or raises; stops once the event is set."""


@dataclass
class SyncReport:
    downloaded: int = 0
    downloaded_bytes: int = 0
    linked: int = 0
    copied: int = 0
    kept: int = 0
    removed: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class _Applier:
    root: Path
    store: Store
    state: State
    reporter: Reporter
    report: SyncReport = field(default_factory=SyncReport)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, task: FileTask) -> None:
        stat = (self.root / task.target).stat()
        with self.lock:
            self.state.files[task.target] = PlacedFile(
                task.digest, stat.st_size, stat.st_mtime_ns, stat.st_ino
            )

    def place(self, task: FileTask) -> None:
        target = self.root / task.target
        if target.is_symlink() or target.is_dir():
            raise _in_the_way(target)
        escape = outside_of(self.root / task.dest, target.parent)
        if escape is not None:
            raise ModelpmError(
                f"cannot place {task.target}: a symbolic link in its way leads out of "
                f"{task.dest} (to {escape})",
                hint="remove the link and run sync again; modelpm writes only inside the "
                "destination",
            )
        if self._unvouched_file_at(target, task.target):
            # The user's bytes go; say so (a file modelpm placed and nobody touched is
            # replaced silently when the lock moves on).
            with self.lock:
                self.report.notes.append(
                    f"restored {task.target}: its content differed from the lock"
                )
        kind = place_file(self.store.object_path(task.digest), target)
        self.record(task)
        with self.lock:
            if kind == "hardlink":
                self.report.linked += 1
            else:
                self.report.copied += 1

    def check(self, task: FileTask) -> bool:
        """True if the file already at the target has the locked bytes (then it is recorded)."""
        target = self.root / task.target
        if target.is_symlink() or not target.is_file():
            return False
        with storage_errors(target, "read"):
            ok = hash_file(target, task.digest.algorithm) == task.digest
            shares_store_inode = _same_inode(target, self.store.object_path(task.digest))
        if ok:
            self.record(task)
            return True
        if shares_store_inode:
            # Edited in place through the hard link: the store's copy is damaged too.
            self.store.evict(task.digest)
        return False

    def _unvouched_file_at(self, target: Path, key: str) -> bool:
        """True if a file stands at ``target`` that modelpm did not place as it is now."""
        try:
            current = target.stat()
        except OSError:
            return False
        record = self.state.files.get(key)
        return record is None or not record.matches(current)

    def remove(self, target: str) -> None:
        path = self.root / target
        record = self.state.files.pop(target)
        if outside_of(self.root, path.parent) is not None:
            self.report.notes.append(f"kept {target}: a symbolic link leads it out of the project")
            return
        try:
            current = path.stat()
        except OSError:
            return
        if not record.matches(current):
            self.report.notes.append(
                f"kept {target}: no longer in the lock, but changed since modelpm placed it"
            )
            return
        with storage_errors(path, "remove"):
            path.unlink()
        remove_empty_parents(path.parent, self.root)
        self.report.removed += 1


def _same_inode(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _in_the_way(target: Path) -> ModelpmError:
    kind = "a symlink" if target.is_symlink() else "a folder"
    return ModelpmError(
        f"cannot place {target}: {kind} is in the way", hint="move it away and run sync again"
    )


def apply_sync(
    plan: SyncPlan,
    *,
    root: Path,
    store: Store,
    state: State,
    fetcher: Fetcher | None,
    jobs: int = 8,
    reporter: Reporter | None = None,
) -> SyncReport:
    """Carry out ``plan``; ``state`` is updated in place as files land.

    ``fetcher`` None means offline: anything that would need a download fails
    with :class:`OfflineError`. On any failure every other file still lands,
    then the first error is raised with a count of the others.
    """
    reporter = reporter or NullReporter()
    applier = _Applier(root, store, state, reporter)
    targets = {root / task.target for task in _all_tasks(plan)}
    for folder in {task.dest for task in _all_tasks(plan)}:
        remove_temp_files(root / folder, keep=targets)
    applier.report.kept = len(plan.keep)
    for target in plan.remove:
        applier.remove(target)
    place = list(plan.place)
    fetch = list(plan.fetch)
    for task in plan.check:
        if not applier.check(task):
            (place if store.vouch(task.digest, task.size) else fetch).append(task)
    for task in place:
        applier.place(task)
    if fetch:
        if fetcher is None:
            missing = ", ".join(task.label for task in fetch[:5])
            more = f" and {len(fetch) - 5} more" if len(fetch) > 5 else ""
            raise OfflineError(
                f"offline, and {len(fetch)} files are not in the store: {missing}{more}",
                hint="run sync once with network access",
            )
        _fetch_all(fetch, fetcher, applier, jobs)
    reporter.end()
    return applier.report


def _all_tasks(plan: SyncPlan) -> Iterable[FileTask]:
    return (*plan.keep, *plan.check, *plan.place, *plan.fetch)


def _fetch_all(fetch: list[FileTask], fetcher: Fetcher, applier: _Applier, jobs: int) -> None:
    # Imported here: the thread pool (and the logging it pulls in) is not needed by a no-op.
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    by_object: dict[Digest, list[FileTask]] = {}
    for task in fetch:
        by_object.setdefault(task.digest, []).append(task)
    # Largest first: the longest download starts at once instead of after the small files.
    objects = sorted((tasks[0] for tasks in by_object.values()), key=lambda t: -t.size)
    applier.reporter.begin(len(objects), sum(task.size for task in objects))
    cancel = threading.Event()
    errors: list[BaseException] = []

    def run(task: FileTask) -> None:
        fetcher(task, cancel)
        for same in by_object[task.digest]:
            applier.place(same)
        with applier.lock:
            applier.report.downloaded += 1
            applier.report.downloaded_bytes += task.size

    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="modelpm-fetch")
    futures: list[Future[None]] = [pool.submit(run, task) for task in objects]
    try:
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
            errors.extend(exc for f in done if (exc := f.exception()) is not None)
    except KeyboardInterrupt:
        cancel.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise Interrupted(
            "interrupted; files already downloaded are kept", hint="run sync again to resume"
        ) from None
    pool.shutdown(wait=True)
    if errors:
        first = errors[0]
        if not isinstance(first, ModelpmError):
            raise first
        if len(errors) > 1:
            others = f" ({len(errors) - 1} other file(s) failed too)"
            error = type(first)(first.message + others, first.hint)
            error.exit_code = first.exit_code
            raise error from first
        raise first
