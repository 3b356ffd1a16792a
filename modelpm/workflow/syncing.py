"""``modelpm sync``: make every destination hold exactly the locked bytes.

The common case, nothing to do, is answered from a read-only view: no
project lock, no write, no request, no hub library loaded
(:func:`in_sync` is what the ``modelpm`` command asks before its CLI even
loads). Anything else runs in one :class:`~modelpm.project.session.ProjectSession`:
re-lock if stale and allowed, plan against the store, then place and fetch.
``dry_run`` plans from a view (re-locking in memory if needed) and writes nothing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from modelpm.config import Overrides
from modelpm.errors import LockfileError, OfflineError, StaleLockError, UsageError
from modelpm.lockfile.io import LOCK_NAME
from modelpm.lockfile.model import Lock
from modelpm.place.report import SyncReport
from modelpm.plan.planner import InStore, SyncPlan, nothing_in_store, plan_sync
from modelpm.plan.tasks import wanted_files
from modelpm.progress import Reporter
from modelpm.project.session import (
    PathLike,
    ProjectSession,
    ProjectView,
    open_view,
    project_session,
)
from modelpm.project.state import ModelSummary, State, inputs_key, whole_and_untouched
from modelpm.resolve.staleness import staleness
from modelpm.values import Digest, SourceKind
from modelpm.workflow.locking import lock_in_session, usable_lock
from modelpm.workflow.results import SyncResult

if TYPE_CHECKING:  # loaded only when there is work: the no-op answer needs none of them
    from modelpm.place.apply import Fetcher
    from modelpm.plan.tasks import FileTask
    from modelpm.sources.base import Source
    from modelpm.transfer.engine import Downloader
    from modelpm.transfer.origin import Origin, Wanted
    from modelpm.transfer.transport import Transport


def sync(
    names: Sequence[str] = (),
    *,
    project: PathLike | None = None,
    locked: bool = False,
    frozen: bool = False,
    offline: bool = False,
    jobs: int | None = None,
    connections: int | None = None,
    store: PathLike | None = None,
    reporter: Reporter | None = None,
    sources: Mapping[SourceKind, Source] | None = None,
    transport: Transport | None = None,
    endpoint: str | None = None,
    dry_run: bool = False,
    push: bool = False,
    no_remote: bool = False,
) -> SyncResult:
    """Make every destination hold exactly the locked bytes, fetching only what is missing.

    ``dry_run`` only says what that would do; ``push`` uploads what was fetched to the
    remote store (a failed upload fails the sync, after placing the files); ``no_remote``
    ignores the remote store for this run.
    """
    overrides = Overrides(
        store=Path(store) if store is not None else None,
        endpoint=endpoint,
        jobs=jobs,
        connections=connections,
        push=push,
        no_remote=no_remote,
    )
    view = open_view(project, overrides, sources)
    view.manifest.check_names(names)
    if push and view.config.remote is None:
        raise UsageError(
            "--push needs a remote store"
            + (" (and --no-remote turns it off)" if no_remote else ""),
            hint='set [settings] remote = "s3://bucket/prefix" in models.toml, or MODELPM_REMOTE',
        )
    offline = offline or view.config.offline
    current = usable_lock(view, locked=locked, frozen=frozen, offline=offline)
    if dry_run:
        return _dry_run(view, current, names, transport)
    if current is not None:
        plan = plan_for(view, current, names, view.state)
        if plan.is_noop:
            return SyncResult(None, plan, SyncReport(kept=len(plan.keep)))
    with project_session(None, view=view) as session:
        return sync_in_session(
            session,
            names,
            locked=locked,
            frozen=frozen,
            offline=offline,
            reporter=reporter,
            transport=transport,
        )


def sync_in_session(
    session: ProjectSession,
    names: Sequence[str],
    *,
    locked: bool = False,
    frozen: bool = False,
    offline: bool = False,
    reporter: Reporter | None = None,
    transport: Transport | None = None,
) -> SyncResult:
    """Sync ``names`` (all when empty) within ``session``; re-lock first if stale and allowed."""
    from modelpm.fs.cleanup import remove_temp_files
    from modelpm.place.apply import apply_sync
    from modelpm.workflow.remoting import after_sync

    current = usable_lock(session, locked=locked, frozen=frozen, offline=offline)
    lock_result = None
    if current is None:
        lock_result = lock_in_session(session, transport=transport)
        current = lock_result.lock
    store = session.store
    state = session.touch_state()
    plan = plan_for(session, current, names, state, store.vouch)
    root = session.root
    # Registered before anything lands, so `store gc` keeps what this sync fetches.
    store.register_project(root)
    # A run killed while replacing the state or the lock left a temp file beside it. Every
    # writer holds the project lock now; one younger than an hour may still be a live
    # writer's from a modelpm that predates it.
    remove_temp_files(session.project.state_dir, recursive=False, older_than=3600)
    remove_temp_files(root, of=LOCK_NAME, recursive=False, older_than=3600)
    config = session.config
    _gate(session, current, plan, offline, transport)
    # Offline from the hub, the remote store is still asked: it is not the hub.
    hubless = offline and session.remote is None
    fetching = (
        nullcontext(None)
        if hubless
        else open_downloader(session, reporter, transport, only_remote=offline)
    )
    with fetching as engine:
        report = apply_sync(
            plan,
            root=root,
            store=store,
            state=state,
            fetcher=None if engine is None else _audited(session, engine),
            jobs=config.jobs,
            reporter=reporter,
            link=config.link,
        )
        if engine is not None:
            # Which origin sent what; mirrors that could not be listed; bytes refused.
            report.served.update(engine.served)
            report.notes.extend([*session.mirrors.problems, *engine.warnings])
    if not names and staleness(session.manifest, current).is_fresh:
        # Every model of a fresh lock is in place: the next no-op needs only this state.
        state.inputs = inputs_key(session.project)
        state.models = {
            model.name: ModelSummary(model.commit, len(model.files), model.total_size)
            for model in current.models
        }
    after_sync(session, plan, report, reporter)
    return SyncResult(lock_result, plan, report)


def _audited(session: ProjectSession, engine: Downloader) -> Fetcher:
    """The engine's fetch, then the audit policy on what it fetched (before it is placed)."""
    from modelpm.workflow.auditing import gate_fetched

    def fetch_then_audit(task: FileTask, cancel: threading.Event) -> None:
        engine(task, cancel)
        gate_fetched(session, task, session.store.object_path(task.digest))

    return fetch_then_audit


def _gate(
    session: ProjectSession, lock: Lock, plan: SyncPlan, offline: bool, transport: Transport | None
) -> None:
    """The audit policy, before anything is placed (issue 12; :mod:`.auditing`)."""
    from modelpm.workflow.auditing import gate_plan
    from modelpm.workflow.fetching import StoreReader

    with StoreReader(session, transport) as reader:
        tasks = (*plan.check, *plan.place, *plan.fetch)
        gate_plan(session, lock, tasks, (lambda _task: None) if offline else reader.obtain)


def _dry_run(
    view: ProjectView, current: Lock | None, names: Sequence[str], transport: Transport | None
) -> SyncResult:
    """What a sync would do: the plan against the store as it is, and the lock it would use."""
    from modelpm.workflow.locking import relock

    lock_result = None
    if current is None:
        lock_result = relock(view, transport=transport)
        current = lock_result.lock
    plan = plan_for(view, current, names, view.state, view.store.has)
    return SyncResult(lock_result, plan, SyncReport(), dry_run=True)


@contextmanager
def open_downloader(
    session: ProjectView,
    reporter: Reporter | None,
    transport: Transport | None,
    only_remote: bool = False,
) -> Iterator[Downloader]:
    """The transfer engine for ``session``: the origins :mod:`~modelpm.workflow.origins`
    names, its store and options, and an HTTP pool."""
    from modelpm.transfer.engine import Downloader
    from modelpm.workflow.origins import origins_for, remote_origins

    options = session.config.transfer

    def origins(wanted: Wanted) -> tuple[Origin, ...]:
        if not only_remote:
            return origins_for(session, wanted)
        found = remote_origins(session)
        if not found:
            raise OfflineError(
                f"{wanted.label}: offline, and the remote store is unavailable",
                hint="run sync once with network access",
            )
        return found

    if transport is not None:
        yield Downloader(origins, session.store, transport, options, reporter)
        return
    from modelpm.transfer.http import HttpPool  # the no-op path loads no HTTP client

    with HttpPool(timeout=options.stall_timeout) as pool:
        yield Downloader(origins, session.store, pool, options, reporter)


def plan_for(
    view: ProjectView,
    lock: Lock,
    names: Sequence[str],
    state: State,
    in_store: InStore = nothing_in_store,
) -> SyncPlan:
    """What a sync of ``names`` (all when empty) has to do, from local facts only.

    Without ``in_store`` every file not in place counts as to be fetched: enough to tell a
    no-op, and it reads nothing in the store.
    """
    for name in names:
        if lock.get(name) is None:
            raise LockfileError(f"models.lock has no entry for {name!r}", hint="run `modelpm lock`")
    root = f"{view.root}/"  # joined as text: one stat per file is all a no-op sync costs
    return plan_sync(
        wanted_files(lock, view.manifest.destinations),
        names or None,
        state,
        lambda target: stat_or_none(root + target),
        in_store,
        lambda digest, placed: vouched_by_store(view, digest, placed),
    )


def vouched_by_store(view: ProjectView, digest: Digest, placed: os.stat_result) -> bool:
    """A placed file whose change time moved is still as placed if the store's ledger says
    the change was modelpm's own link (asked only then: the no-op path rarely opens it)."""
    return view.store.vouches_for(digest, placed)


def in_sync(
    names: Sequence[str] = (),
    *,
    project: PathLike | None = None,
    frozen: bool = False,
    store: PathLike | None = None,
) -> int | None:
    """The number of files in place if ``sync`` has nothing to do, else None.

    Reads only local files (no request, no write, no lock): the lock must be fresh
    (or ``frozen``) and every file as the last sync left it.
    """
    view = open_view(project, Overrides(store=Path(store) if store is not None else None))
    view.manifest.check_names(names)
    if not names and (whole := whole_and_untouched(view.project)) is not None:
        return whole.files
    try:
        current = usable_lock(view, locked=True, frozen=frozen, offline=True)
    except (StaleLockError, LockfileError):
        return None
    assert current is not None  # locked=True: a stale lock raises instead
    plan = plan_for(view, current, names, view.state)
    return len(plan.keep) if plan.is_noop else None


def stat_or_none(path: Path | str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None
