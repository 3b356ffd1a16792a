"""``modelpm export hf-cache`` and ``modelpm run``: the locked models for tools that load
by repo id.

``export`` links the locked files of a fresh lock into the official cache layout
(:mod:`modelpm.exports.hf_cache`): from the store, fetching (verified) only what
it lacks, never from anywhere else. ``run`` exports into the project's own cache,
``.modelpm/hf-cache/``, pruned to exactly what the lock pins (so nothing else can
be loaded by repo id), and runs a command with ``HF_HUB_CACHE`` pointing there and
``HF_HUB_OFFLINE=1``. Only Hub models are exported: the cache is the Hub
client's, and a repo id there means a Hub repo.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from modelpm.config import Overrides
from modelpm.errors import OfflineError, StaleLockError, UsageError
from modelpm.exports.hf_cache import CacheFile, Keep, export_repo, prune_cache, repo_folder
from modelpm.fs.atomic import atomic_write_text
from modelpm.lockfile.model import Lock, LockedModel
from modelpm.plan.tasks import FileTask, wanted_files
from modelpm.progress import Reporter
from modelpm.project.session import PathLike, ProjectView, open_view
from modelpm.resolve.staleness import staleness
from modelpm.values import RepoRef, RepoType, SourceKind
from modelpm.workflow.auditing import audit_models, refuse

if TYPE_CHECKING:
    from modelpm.sources.base import Source
    from modelpm.transfer.transport import Transport

RUN_CACHE = "hf-cache"  # under .modelpm/


@dataclass(frozen=True)
class ExportedRepo:
    name: str
    repo: str
    repo_type: RepoType
    revision: str
    commit: str
    folder: Path
    files: int
    written: int  # blobs and snapshot entries created or corrected (0: already there)


@dataclass(frozen=True)
class ExportResult:
    cache: Path
    repos: tuple[ExportedRepo, ...]
    skipped: tuple[str, ...] = ()  # models not exported, each with why


def export_hf_cache(
    directory: PathLike | None = None,
    names: Sequence[str] = (),
    *,
    project: PathLike | None = None,
    reporter: Reporter | None = None,
    sources: Mapping[SourceKind, Source] | None = None,
    transport: Transport | None = None,
) -> ExportResult:
    """Export the locked models (``names``, default all) into ``directory`` (default: the
    official client's ``HF_HUB_CACHE``)."""
    view = open_view(project, Overrides(), sources)
    cache = Path(directory) if directory is not None else view.config.hf_hub_cache
    assert cache is not None
    return export_view(view, cache.expanduser().resolve(), names, reporter, transport)


def export_view(
    view: ProjectView,
    cache: Path,
    names: Sequence[str] = (),
    reporter: Reporter | None = None,
    transport: Transport | None = None,
    *,
    main_refs: bool = False,
    prune: bool = False,
) -> ExportResult:
    """Export from ``view``'s fresh lock; ``main_refs``: point ``main`` at a repo's only commit;
    ``prune``: remove from ``cache`` what the lock does not pin (for a cache of our own)."""
    view.manifest.check_names(names)
    lock = fresh_lock(view)
    chosen = [m for m in lock.models if (not names or m.name in names)]
    exported = [m for m in chosen if m.source == "hf"]
    skipped = tuple(f"{m.name}: from {m.source}, not the Hub" for m in chosen if m not in exported)
    tasks = wanted_files(Lock(tuple(exported)), view.manifest.destinations)
    objects = _in_store(view, tasks, reporter, transport)
    # Exporting places files where loaders read them: the audit policy holds here too.
    refuse(audit_models(view, exported, lambda task: objects[task.digest], lock))
    repos: list[ExportedRepo] = []
    kept: dict[Path, Keep] = {}
    for model in exported:
        ref = RepoRef(model.repo, model.repo_type)
        revisions = {model.revision}
        if main_refs and _only_commit(exported, model):
            revisions.add("main")
        files = [CacheFile(f.path, f.digest, objects[f.digest]) for f in model.files]
        counts = export_repo(cache, ref, model.commit, revisions, files)
        folder = repo_folder(cache, ref)
        keep = kept.setdefault(folder, Keep(set(), set(), set()))
        keep.commits.add(model.commit)
        keep.refs.update(revision for revision in revisions if revision != model.commit)
        keep.blobs.update(item.digest.hexdigest for item in files)
        repos.append(
            ExportedRepo(
                model.name,
                model.repo,
                model.repo_type,
                model.revision,
                model.commit,
                folder,
                len(files),
                counts.written,
            )
        )
    if prune:
        prune_cache(cache, kept)
    return ExportResult(cache, tuple(repos), skipped)


def fresh_lock(view: ProjectView) -> Lock:
    stale = staleness(view.manifest, view.lock)
    if view.lock is None or not stale.is_fresh:
        detail = stale.describe() if view.lock is not None else "there is no models.lock"
        raise StaleLockError(
            f"models.lock is out of date: {detail}",
            hint="run `modelpm sync` first (`modelpm sync --locked` in CI)",
        )
    return view.lock


def _only_commit(models: Sequence[LockedModel], model: LockedModel) -> bool:
    """True when every exported entry of ``model``'s repo pins the same commit."""
    same = [m for m in models if (m.repo, m.repo_type) == (model.repo, model.repo_type)]
    return len({m.commit for m in same}) == 1


def _in_store(
    view: ProjectView,
    tasks: Sequence[FileTask],
    reporter: Reporter | None,
    transport: Transport | None,
) -> dict[object, Path]:
    """The store path of every task's object, fetching (verified) what the store lacks."""
    store = view.store
    missing = {t.digest: t for t in tasks if not store.vouch(t.digest, t.size)}
    if missing and view.config.offline:
        raise OfflineError(
            f"offline, and {len(missing)} locked files are not in the store",
            hint="run `modelpm sync` once with network access",
        )
    if missing:
        from modelpm.workflow.syncing import open_downloader

        with open_downloader(view, reporter, transport) as fetch:
            for task in missing.values():
                fetch.fetch(task)
    return {t.digest: store.object_path(t.digest) for t in tasks}


def run(
    command: Sequence[str],
    *,
    project: PathLike | None = None,
    reporter: Reporter | None = None,
    sources: Mapping[SourceKind, Source] | None = None,
    transport: Transport | None = None,
) -> int:
    """Run ``command`` with the project's models as an offline HF cache; its exit code."""
    if not command:
        raise UsageError(
            "no command to run", hint="write it after `--`: modelpm run -- python x.py"
        )
    view = open_view(project, Overrides(), sources)
    cache = view.project.state_dir / RUN_CACHE
    export_view(view, cache, (), reporter, transport, main_refs=True, prune=True)
    ignore = view.project.state_dir / ".gitignore"
    if not ignore.exists():
        atomic_write_text(ignore, "*\n")
    env = {
        **os.environ,
        "HF_HUB_CACHE": str(cache),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }
    try:
        child = subprocess.Popen(list(command), env=env)
    except FileNotFoundError:
        raise UsageError(
            f"cannot run {command[0]!r}: no such command", hint="check the command after `--`"
        ) from None
    except PermissionError:
        raise UsageError(f"cannot run {command[0]!r}: not executable") from None
    with child:
        while True:
            try:
                code = child.wait()
                break
            except KeyboardInterrupt:
                continue  # the command got the same Ctrl-C; how it ends is how we end
    return 128 - code if code < 0 else code  # killed by signal N: 128 + N, as a shell says
