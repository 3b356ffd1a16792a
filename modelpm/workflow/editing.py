"""``modelpm init``, ``add`` and ``remove``: edits of the manifest, in one session each.

``add`` resolves the new model before it touches any file, so a typo in a
repo id leaves models.toml and models.lock exactly as they were; then it
writes the manifest, the lock and (unless asked not to) syncs the model, in
the same session. ``remove`` edits both files, then removes only the files
modelpm placed for that model and nobody changed since.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from modelpm.config import Overrides
from modelpm.errors import ManifestError, UsageError
from modelpm.lockfile.model import LockedModel
from modelpm.manifest.edit import add_model, init_manifest, remove_model, render_table
from modelpm.manifest.model import MANIFEST_NAME
from modelpm.manifest.reference import Reference, parse_reference
from modelpm.place.apply import apply_sync
from modelpm.place.report import SyncReport
from modelpm.plan.planner import plan_sync
from modelpm.plan.tasks import wanted_files
from modelpm.progress import Reporter
from modelpm.project.session import PathLike, project_session
from modelpm.resolve.resolver import Resolved, lock_project
from modelpm.sources.base import Source
from modelpm.transfer.transport import Transport
from modelpm.values import SOURCE_KINDS, SourceKind, is_source_kind
from modelpm.workflow.auditing import record_hub_scans
from modelpm.workflow.fetching import StoreReader
from modelpm.workflow.results import SyncResult
from modelpm.workflow.syncing import sync_in_session


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
    resolved: Resolved | None = None  # what `weights` left out, and notes
    renamed_from: str | None = None  # the id typed, when the source now calls it otherwise


def add(
    repo: str,
    *,
    name: str | None = None,
    revision: str | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    dest: str | None = None,
    repo_type: str | None = None,  # a RepoType (default: the URL's, else "model"); anything
    # else is refused with the manifest's error
    source: str | None = None,  # a SourceKind (default: the URL's, else [settings] source)
    weights: str | None = None,
    variant: str | None = None,
    sync_now: bool = True,
    project: PathLike | None = None,
    sources: Mapping[SourceKind, Source] | None = None,
    transport: Transport | None = None,
    jobs: int | None = None,
    reporter: Reporter | None = None,
) -> AddResult:
    """Add a model to models.toml, lock it and (unless ``sync_now=False``) sync it.

    ``repo`` is a repo id or a pasted repo URL (:mod:`modelpm.manifest.reference`).
    """
    ref = parse_reference(repo)
    with project_session(project, Overrides(jobs=jobs), sources) as session:
        kind = _chosen_source(ref, source, session.manifest.settings.source)
        repo_type = _agreed("repo type", ref.repo_type, repo_type) or "model"
        revision = _agreed("revision", ref.revision, revision)
        repo = ref.repo
        name = name or repo.rstrip("/").split("/")[-1]
        if any(spec.name == name for spec in session.manifest.models):
            raise ManifestError(
                f"{MANIFEST_NAME}: a model named {name!r} already exists",
                hint="choose another name with --name",
            )
        text = session.project.manifest_path.read_text(encoding="utf-8")

        def table_for(repo_id: str) -> str:
            return render_table(
                name,
                repo_id,
                revision=revision,
                include=include,
                exclude=exclude,
                dest=dest,
                repo_type=repo_type,
                weights=weights,
                variant=variant,
                source=kind,
                default_source=session.manifest.settings.source,
            )

        new_text, new_manifest = add_model(session.manifest, text, table_for(repo))
        with StoreReader(session, transport) as reader:
            outcome = lock_project(new_manifest, session.lock, session.source, read=reader)
            canonical = dict(outcome.renamed).get(name)
            if canonical is not None:  # renamed on the source: the table names it as it is now
                new_text, new_manifest = add_model(session.manifest, text, table_for(canonical))
                outcome = lock_project(new_manifest, session.lock, session.source, read=reader)
        # Only now that the source answered do the files change: manifest first, then lock.
        session.write_manifest(new_text, new_manifest)
        session.write_lock(outcome.lock)
        model = outcome.lock.get(name)
        assert model is not None
        record_hub_scans(session, [model])
        synced = None
        if sync_now:
            synced = sync_in_session(session, [name], reporter=reporter, transport=transport)
        renamed_from = repo if canonical is not None else None
        return AddResult(
            model, new_manifest.model(name).dest, synced, outcome.details.get(name), renamed_from
        )


def _chosen_source(ref: Reference, given: str | None, default: SourceKind) -> SourceKind:
    if given is not None and not is_source_kind(given):
        raise UsageError(
            f"--source {given!r} is not a source", hint=f"sources are {', '.join(SOURCE_KINDS)}"
        )
    chosen = _agreed("source", ref.source, given)
    return chosen if is_source_kind(chosen) else default


def _agreed(what: str, from_url: str | None, given: str | None) -> str | None:
    """The value the URL names or the option gives; they must not contradict each other."""
    if from_url is not None and given is not None and from_url != given:
        raise UsageError(
            f"the URL names {what} {from_url!r}, and the option says {given!r}",
            hint="drop the option, or give the repo id instead of the URL",
        )
    return given if given is not None else from_url


@dataclass(frozen=True)
class RemoveResult:
    name: str
    dest: str
    report: SyncReport


def remove(name: str, *, project: PathLike | None = None) -> RemoveResult:
    """Remove a model from models.toml and models.lock, and the files modelpm placed for it."""
    with project_session(project) as session:
        spec = session.manifest.model(name)
        text = session.project.manifest_path.read_text(encoding="utf-8")
        new_text, new_manifest = remove_model(session.manifest, text, name)
        previous = session.lock
        session.write_manifest(new_text, new_manifest)
        report = SyncReport()
        if previous is not None:
            remaining = previous.without(name)
            session.write_lock(remaining)
            state = session.touch_state()
            plan = plan_sync(
                wanted_files(remaining, new_manifest.destinations), (), state, lambda _: None
            )
            report = apply_sync(
                plan, root=session.root, store=session.store, state=state, fetcher=None
            )
        return RemoveResult(name, spec.dest, report)
