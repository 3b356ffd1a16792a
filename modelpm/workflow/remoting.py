"""The remote store's commands and its part of ``sync``.

``store push`` uploads a project's locked objects that the remote store lacks;
``store gc --remote LOCKFILE…`` and ``store verify --remote`` keep the bucket
tidy and honest. :func:`after_sync` is what a sync does last: push what it
fetched when asked (``[settings] remote-push``: a failure is a warning;
``--push``: it fails the run, after the files were placed) and hand on the
remote store's warnings (one line per run for a store that is down).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from modelpm.config import Overrides, RemoteSettings
from modelpm.errors import ModelpmError, RemoteStoreError, UsageError
from modelpm.lockfile.io import read_lock
from modelpm.place.report import SyncReport
from modelpm.plan.planner import SyncPlan
from modelpm.plan.tasks import wanted_files
from modelpm.progress import Reporter
from modelpm.project.session import PathLike, ProjectView, open_view
from modelpm.store.remote.handle import Remote, open_remote
from modelpm.store.remote.push import PushItem, PushReport, push_objects
from modelpm.store.remote.upkeep import (
    RemoteCheck,
    RemoteGcReport,
    collect_remote_garbage,
    referenced,
    verify_remote,
)
from modelpm.workflow.storing import project_or_machine_config


def after_sync(
    view: ProjectView, plan: SyncPlan, report: SyncReport, reporter: Reporter | None
) -> None:
    """Push what the sync fetched if asked; add the remote store's warnings to ``report``."""
    remote = view.remote
    if remote is None:
        return
    settings = remote.settings
    if settings.push and plan.tasks:
        error: ModelpmError | None = None
        if remote.health.reason is not None:  # down: its one warning says so already
            if settings.push_required:
                error = RemoteStoreError(
                    f"remote store {remote.address}: {remote.health.reason}; nothing was pushed"
                )
        else:
            items = [PushItem(task.label, task.digest, task.size) for task in plan.tasks]
            try:
                error = push_error(
                    remote, push_objects(remote, view.store, items, jobs=view.config.jobs)
                )
            except ModelpmError as exc:
                error = exc
        if error is not None:
            if settings.push_required:
                report.notes.extend(remote.health.warnings)
                raise error
            report.notes.append(f"push to the remote store failed: {error.message}")
    report.notes.extend(remote.health.warnings)


def push_error(remote: Remote, report: PushReport) -> ModelpmError | None:
    """The error a push with failures or objects missing locally ends in (None: none)."""
    if report.failures:
        label, first = report.failures[0]
        more = f" ({len(report.failures)} objects failed)" if len(report.failures) > 1 else ""
        return RemoteStoreError(f"{label}: {first.message}{more}", hint=first.hint)
    if report.not_local:
        shown = ", ".join(report.not_local[:5])
        more = f" and {len(report.not_local) - 5} more" if len(report.not_local) > 5 else ""
        return ModelpmError(
            f"{len(report.not_local)} locked files are not in the local store, so they were "
            f"not pushed to {remote.address}: {shown}{more}",
            hint="run `modelpm sync` first, then push again",
        )
    return None


def push(
    names: Sequence[str] = (),
    *,
    project: PathLike | None = None,
    jobs: int | None = None,
    reporter: Reporter | None = None,
) -> PushReport:
    """Upload the locked objects of ``names`` (all when empty) that the remote store lacks;
    raise once the rest is uploaded if any failed or is not in the local store."""
    view = open_view(project, Overrides(jobs=jobs))
    view.manifest.check_names(names)
    remote = _strict_remote(view.config.remote)
    lock = view.lock
    if lock is None:
        raise UsageError("there is no models.lock to push", hint="run `modelpm lock` first")
    for name in names:
        if lock.get(name) is None:
            raise UsageError(f"models.lock has no entry for {name!r}", hint="run `modelpm lock`")
    tasks = wanted_files(lock, view.manifest.destinations)
    items = [
        PushItem(task.label, task.digest, task.size)
        for task in tasks
        if not names or task.model in names
    ]
    report = push_objects(remote, view.store, items, jobs=view.config.jobs, reporter=reporter)
    error = push_error(remote, report)
    if error is not None:
        raise error
    return report


def verify_remote_store(
    project: PathLike | None = None, *, remove_corrupt: bool = False
) -> RemoteCheck:
    """Re-hash every object of the remote store against its key."""
    return verify_remote(_strict_remote(_remote_settings(project)), remove=remove_corrupt)


def gc_remote_store(
    locks: Sequence[PathLike], *, project: PathLike | None = None, dry_run: bool = False
) -> RemoteGcReport:
    """Delete the remote objects that none of ``locks`` references (refused without one)."""
    if not locks:
        raise UsageError(
            "store gc --remote needs the lock files whose objects to keep; nothing was deleted",
            hint="name every project's models.lock that uses this bucket, e.g. "
            "`modelpm store gc --remote a/models.lock b/models.lock`",
        )
    loaded = []
    for path in locks:
        lock = read_lock(Path(path))
        if lock is None:
            raise UsageError(f"{path} does not exist; nothing was deleted")
        loaded.append(lock)
    remote = _strict_remote(_remote_settings(project))
    return collect_remote_garbage(remote, referenced(loaded), dry_run=dry_run)


def _remote_settings(project: PathLike | None) -> RemoteSettings | None:
    """The project's remote store (outside any project: ``MODELPM_REMOTE``'s)."""
    return project_or_machine_config(project).remote


def _strict_remote(settings: RemoteSettings | None) -> Remote:
    if settings is None:
        raise UsageError(
            "no remote store is configured",
            hint='set [settings] remote = "s3://bucket/prefix" in models.toml, or MODELPM_REMOTE',
        )
    return open_remote(settings)
