"""The read-only commands: ``status``, ``path``, ``verify`` and ``outdated``.

Each opens a :class:`~modelpm.project.session.ProjectView` and writes nothing.
``status`` and ``path`` read local files only (one ``stat`` per file, no
hashing, no network); ``verify`` hashes every placed file; ``outdated`` asks
each model's source where its branch or tag points now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from modelpm.config import Overrides
from modelpm.errors import LockfileError, NotSyncedError, RevisionNotFoundError, StaleLockError
from modelpm.lockfile.model import Lock, LockedModel
from modelpm.manifest.model import ModelSpec
from modelpm.plan.planner import plan_sync
from modelpm.plan.tasks import wanted_files
from modelpm.project.session import PathLike, ProjectView, open_view
from modelpm.project.state import ModelSummary, whole_and_untouched
from modelpm.resolve.staleness import staleness
from modelpm.sources.base import Source
from modelpm.values import RepoRef, SourceKind, StatusState
from modelpm.verification import VerifyReport, check_model
from modelpm.workflow.results import ModelStatus, OutdatedRow
from modelpm.workflow.syncing import stat_or_none, vouched_by_store


def status(project: PathLike | None = None) -> list[ModelStatus]:
    """One row per manifest entry; reads only local files (stat, no hashing, no network)."""
    return status_rows(open_view(project))


def synced_status(project: PathLike | None = None) -> list[ModelStatus] | None:
    """:func:`status` if the last whole sync still holds, else None: read from what that
    sync recorded, with no lock parsed (the whole of ``status`` at 50,000 files, most of
    the time)."""
    return _rows_of_whole_sync(open_view(project))


def status_rows(view: ProjectView) -> list[ModelStatus]:
    synced = _rows_of_whole_sync(view)
    if synced is not None:
        return synced
    current = view.lock
    stale = staleness(view.manifest, current)
    rows: list[ModelStatus] = []
    for spec in view.manifest.models:
        model = current.get(spec.name) if current else None
        if model is None:
            rows.append(_row(spec, None, "not-locked", 0))
            continue
        missing = _missing(view, spec, model)
        state = _state(spec.name in stale.changed, missing, len(model.files))
        rows.append(_row(spec, model, state, missing))
    return rows


def _rows_of_whole_sync(view: ProjectView) -> list[ModelStatus] | None:
    """Every model synced, if the last whole sync still holds: the same manifest and lock,
    every file as it left them."""
    whole = whole_and_untouched(view.project)
    if whole is None or whole.models.keys() != {spec.name for spec in view.manifest.models}:
        return None
    return [_summary_row(spec, whole.models[spec.name]) for spec in view.manifest.models]


def _row(
    spec: ModelSpec, model: LockedModel | None, state: StatusState, missing: int
) -> ModelStatus:
    return ModelStatus(
        name=spec.name,
        repo=spec.repo,
        repo_type=spec.repo_type,
        revision=spec.revision,
        commit=model.commit if model else None,
        files=len(model.files) if model else 0,
        size=model.total_size if model else 0,
        dest=spec.dest,
        state=state,
        missing=missing,
    )


def _summary_row(spec: ModelSpec, summary: ModelSummary) -> ModelStatus:
    return ModelStatus(
        name=spec.name,
        repo=spec.repo,
        repo_type=spec.repo_type,
        revision=spec.revision,
        commit=summary.commit,
        files=summary.files,
        size=summary.size,
        dest=spec.dest,
        state="synced",
        missing=0,
    )


def _missing(view: ProjectView, spec: ModelSpec, model: LockedModel) -> int:
    """Locked files of ``model`` not in place as sync left them."""
    wanted = wanted_files(Lock((model,)), {spec.name: spec.dest})
    root = f"{view.root}/"
    in_place = plan_sync(
        wanted,
        None,
        view.state,
        lambda target: stat_or_none(root + target),
        still_vouched=lambda digest, placed: vouched_by_store(view, digest, placed),
    ).keep
    return len(wanted) - len(in_place)


def _state(stale: bool, missing: int, files: int) -> StatusState:
    if stale:
        return "lock-stale"
    if missing == 0:
        return "synced"
    return "not-synced" if missing == files else "partly-synced"


def path(name: str, project: PathLike | None = None) -> Path:
    """The folder of a synced model, for ``from_pretrained(modelpm.path("bert"))``."""
    view = open_view(project)
    spec = view.manifest.model(name)
    row = next(row for row in status_rows(view) if row.name == name)
    if row.state != "synced":
        raise NotSyncedError(
            f"model {name!r} is {row.describe()}", hint=f"run `modelpm sync {name}`"
        )
    return view.root / spec.dest


def locked_models(view: ProjectView, names: Sequence[str]) -> list[tuple[LockedModel, str]]:
    """The lock entry and ``dest`` of each model named (all when empty), in manifest order."""
    view.manifest.check_names(names)
    current = view.lock
    if current is None:
        raise LockfileError("there is no models.lock yet", hint="run `modelpm lock`")
    chosen: list[tuple[LockedModel, str]] = []
    for spec in view.manifest.models:
        if names and spec.name not in names:
            continue
        model = current.get(spec.name)
        if model is None:
            raise StaleLockError(f"{spec.name!r} is not locked yet", hint="run `modelpm sync`")
        chosen.append((model, spec.dest))
    return chosen


def verify(
    names: Sequence[str] = (), *, project: PathLike | None = None, jobs: int | None = None
) -> VerifyReport:
    """Re-hash every placed file of the locked models and report what differs."""
    view = open_view(project, Overrides(jobs=jobs))
    checks = tuple(
        check_model(model, view.root, dest, jobs=min(view.config.jobs, 4))
        for model, dest in locked_models(view, names)
    )
    return VerifyReport(checks)


def outdated(
    project: PathLike | None = None, *, sources: Mapping[SourceKind, Source] | None = None
) -> list[OutdatedRow]:
    """For each branch or tag revision: the locked commit and the commit it points to now."""
    view = open_view(project, sources=sources)
    rows: list[OutdatedRow] = []
    for model, _dest in locked_models(view, ()):
        spec = view.manifest.model(model.name)
        if spec.pins_commit:
            continue
        source = view.source(model.source)
        ref = RepoRef(model.repo, model.repo_type)
        now = source.resolve(ref, model.revision)
        then, on_source = now, True
        if now.commit != model.commit:
            try:
                then = source.resolve(ref, model.commit)
            except RevisionNotFoundError:  # history rewritten: a super-squash, a force-push
                then, on_source = replace(now, date=None), False
        rows.append(
            OutdatedRow(
                model.name,
                model.repo,
                model.revision,
                model.commit,
                now.commit,
                then.date.isoformat() if then.date else None,
                now.date.isoformat() if now.date else None,
                on_source,
            )
        )
    return rows
