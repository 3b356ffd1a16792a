"""The library side of ``modelpm init``, ``add`` and ``remove``.

``add`` resolves the new model before it touches any file, so a typo in a
repo id leaves models.toml and models.lock exactly as they were. ``remove``
edits both files, then removes only the files modelpm placed for that model
and nobody changed since.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from modelpm.api import PathLike, SyncResult, load_context, make_hub, sync
from modelpm.errors import ManifestError
from modelpm.hub import Hub
from modelpm.lockfile import LockedModel, read_lock, write_lock
from modelpm.manifest import MANIFEST_NAME
from modelpm.manifest_edit import (
    add_model,
    init_manifest,
    remove_model,
    render_table,
    write_manifest,
)
from modelpm.progress import Reporter
from modelpm.project import read_state, write_state
from modelpm.resolve import lock_project
from modelpm.store import Store
from modelpm.syncing import SyncReport, apply_sync, plan_sync, wanted_files


def init(folder: PathLike | None = None) -> Path:
    """Write a commented models.toml in ``folder`` (default: the current folder)."""
    path = Path(folder or ".").resolve() / MANIFEST_NAME
    init_manifest(path)
    return path


@dataclass(frozen=True)
class AddResult:
    model: LockedModel
    dest: str
    sync: SyncResult | None


def add(
    repo: str,
    *,
    name: str | None = None,
    revision: str | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    dest: str | None = None,
    repo_type: str = "model",
    sync_now: bool = True,
    project: PathLike | None = None,
    hub: Hub | None = None,
    jobs: int | None = None,
    reporter: Reporter | None = None,
) -> AddResult:
    """Add a model to models.toml, lock it and (unless ``sync_now=False``) sync it."""
    ctx = load_context(project)
    name = name or repo.rstrip("/").split("/")[-1]
    if any(spec.name == name for spec in ctx.manifest.models):
        raise ManifestError(
            f"{MANIFEST_NAME}: a model named {name!r} already exists",
            hint="choose another name with --name",
        )
    text = ctx.project.manifest_path.read_text(encoding="utf-8")
    table = render_table(
        name,
        repo,
        revision=revision,
        include=include,
        exclude=exclude,
        dest=dest,
        repo_type=repo_type,
    )
    new_text, new_manifest = add_model(ctx.manifest, text, table)
    previous = read_lock(ctx.project.lock_path)
    outcome = lock_project(new_manifest, previous, hub or make_hub(ctx.config.endpoint))
    # Only now that the hub answered do the files change: manifest first, then lock.
    write_manifest(ctx.project.manifest_path, new_text)
    write_lock(ctx.project.lock_path, outcome.lock)
    model = outcome.lock.get(name)
    assert model is not None
    spec = new_manifest.model(name)
    synced = None
    if sync_now:
        synced = sync([name], project=ctx.project.root, hub=hub, jobs=jobs, reporter=reporter)
    return AddResult(model, spec.dest, synced)


@dataclass(frozen=True)
class RemoveResult:
    name: str
    dest: str
    report: SyncReport


def remove(name: str, *, project: PathLike | None = None) -> RemoveResult:
    """Remove a model from models.toml and models.lock, and the files modelpm placed for it."""
    ctx = load_context(project)
    spec = ctx.manifest.model(name)
    text = ctx.project.manifest_path.read_text(encoding="utf-8")
    new_text, new_manifest = remove_model(ctx.manifest, text, name)
    previous = read_lock(ctx.project.lock_path)
    write_manifest(ctx.project.manifest_path, new_text)
    report = SyncReport()
    if previous is not None:
        remaining = previous.with_models(m for m in previous.models if m.name != name)
        write_lock(ctx.project.lock_path, remaining)
        destinations = {s.name: s.dest for s in new_manifest.models}
        state = read_state(ctx.project)
        plan = plan_sync(
            wanted_files(remaining, destinations),
            (),
            state,
            lambda _: None,
            lambda _digest, _size: False,
        )
        try:
            report = apply_sync(
                plan,
                root=ctx.project.root,
                store=Store(ctx.config.store_root),
                state=state,
                fetcher=None,
            )
        finally:
            write_state(ctx.project, state)
    return RemoveResult(name, spec.dest, report)


__all__ = ["AddResult", "RemoveResult", "add", "init", "remove"]
