"""``modelpm lock``, and the lock a sync works from.

Unchanged entries keep their pins without a request; a lock whose content
does not change is not rewritten (a version-1 lock stays version 1 until it
changes for another reason); ``--check`` and the rules of ``sync
--locked``/``--frozen``/``--offline`` never write. ``--dry-run`` resolves what
is stale and writes nothing: not the lock, and not the store (the small files
a weights rule reads go to a temporary store).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from modelpm.config import Overrides
from modelpm.errors import LockfileError, StaleLockError
from modelpm.lockfile.model import Lock
from modelpm.project.session import (
    PathLike,
    ProjectSession,
    ProjectView,
    open_view,
    project_session,
)
from modelpm.resolve.staleness import staleness
from modelpm.values import SourceKind
from modelpm.workflow.results import LockResult

if TYPE_CHECKING:
    from modelpm.sources.base import Source
    from modelpm.transfer.transport import Transport


def lock(
    project: PathLike | None = None,
    *,
    upgrade: bool = False,
    upgrade_models: Sequence[str] = (),
    check: bool = False,
    dry_run: bool = False,
    sources: Mapping[SourceKind, Source] | None = None,
    transport: Transport | None = None,
    endpoint: str | None = None,
) -> LockResult:
    """Bring models.lock up to date with models.toml (``check``: only report, write nothing;
    ``dry_run``: resolve what is stale, write nothing)."""
    overrides = Overrides(endpoint=endpoint)
    if check:
        return check_lock(open_view(project, overrides, sources), upgrade_models)
    if dry_run:
        view = open_view(project, overrides, sources)
        return relock(view, upgrade=upgrade, upgrade_models=upgrade_models, transport=transport)
    with project_session(project, overrides, sources) as session:
        return lock_in_session(
            session, upgrade=upgrade, upgrade_models=upgrade_models, transport=transport
        )


def check_lock(view: ProjectView, upgrade_models: Sequence[str] = ()) -> LockResult:
    """The lock as it is, or :class:`StaleLockError` if it is out of date."""
    previous = view.lock
    stale = staleness(view.manifest, previous)
    view.manifest.check_names(upgrade_models)
    if not stale.is_fresh:
        raise StaleLockError(
            f"models.lock is out of date: {stale.describe()}", hint="run `modelpm lock`"
        )
    unchanged = previous or Lock()
    return LockResult(unchanged, False, (), tuple(m.name for m in unchanged.models), (), stale)


def lock_in_session(
    session: ProjectSession,
    *,
    upgrade: bool = False,
    upgrade_models: Sequence[str] = (),
    transport: Transport | None = None,
) -> LockResult:
    """Resolve what is stale (or asked to upgrade) and write the lock if it changed."""
    result = relock(session, upgrade=upgrade, upgrade_models=upgrade_models, transport=transport)
    if not result.resolved and not result.removed and session.lock is not None:
        return result
    written = session.write_lock(result.lock)
    from modelpm.workflow.auditing import record_hub_scans

    record_hub_scans(session, [m for m in result.lock.models if m.name in result.resolved])
    return replace(result, written=written, dry_run=False)


def relock(
    view: ProjectView,
    *,
    upgrade: bool = False,
    upgrade_models: Sequence[str] = (),
    transport: Transport | None = None,
) -> LockResult:
    """The lock resolving what is stale would give, written nowhere (``dry_run`` is set)."""
    previous = view.lock
    stale = staleness(view.manifest, previous)
    view.manifest.check_names(upgrade_models)
    if stale.is_fresh and not upgrade and not upgrade_models and previous is not None:
        kept = tuple(model.name for model in previous.models)
        return LockResult(previous, False, (), kept, (), stale)
    from modelpm.resolve.resolver import lock_project  # a no-op sync resolves nothing
    from modelpm.workflow.fetching import StoreReader

    dry_run = not isinstance(view, ProjectSession)
    with StoreReader(view, transport, scratch=dry_run) as reader:
        outcome = lock_project(
            view.manifest,
            previous,
            view.source,
            upgrade=upgrade,
            upgrade_models=upgrade_models,
            read=reader,
        )
    return LockResult(
        outcome.lock,
        False,
        outcome.resolved,
        outcome.kept,
        outcome.removed,
        stale,
        outcome.details,
        dry_run=dry_run,
        renamed=outcome.renamed,
    )


def usable_lock(view: ProjectView, *, locked: bool, frozen: bool, offline: bool) -> Lock | None:
    """The lock a sync may use as it is, or None when it must be re-locked first.

    Raises when the lock is stale and re-locking is not allowed (``locked``, ``offline``),
    or when ``frozen`` finds no lock or one naming other models than the manifest.
    """
    current = view.lock
    stale = staleness(view.manifest, current)
    if frozen:
        if current is None:
            raise LockfileError(
                "--frozen needs models.lock, and there is none",
                hint="run `modelpm lock` and commit models.lock",
            )
        if stale.missing or stale.orphaned:
            # The lock's pins are used as they are, but a file's dest comes from the manifest.
            raise StaleLockError(
                f"--frozen: models.lock and models.toml name different models: "
                f"{stale.describe(names_only=True)}",
                hint="run `modelpm lock` and commit models.lock",
            )
        return current
    if stale.is_fresh:
        return current or Lock()
    if locked:
        raise StaleLockError(
            f"models.lock is out of date: {stale.describe()}",
            hint="run `modelpm lock` and commit models.lock, or drop --locked",
        )
    if offline:
        raise StaleLockError(
            f"models.lock is out of date and offline mode forbids resolving: {stale.describe()}",
            hint="run `modelpm lock` with network access",
        )
    return None
