"""``modelpm audit``, and the policy gate every placement passes (sync, export).

For each locked model: its pickles and the imports they would call (picklescan,
cached per store object in :mod:`modelpm.audit.records`), its ``*.py`` files, and
the ``auto_map`` entries of its configs, with code named in *another* repo
reported as not pinned unless the project locks that repo too. The policy
(:mod:`modelpm.audit.policy`) turns findings into refusals:

- a pickle whose scan finds a dangerous call, unless ``allow-unsafe-pickle``;
- a model with code (``*.py``, ``auto_map``), when ``allow-remote-code = false``.

The gate runs where bytes are about to be placed: before anything is placed for
objects the store already holds, and right after each verified download for the
rest, so a refused file never reaches a destination or a cache.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from modelpm.audit.code import CodeReference, auto_map, is_config, is_pickle, is_python
from modelpm.audit.policy import policy_for
from modelpm.audit.records import Record, read_record, write_record
from modelpm.audit.scanner import PickleScan, scan_pickle, scanner_name
from modelpm.config import Overrides
from modelpm.errors import HubError, LockfileError, OfflineError, PolicyError
from modelpm.lockfile.model import Lock, LockedModel
from modelpm.plan.tasks import FileTask, wanted_files
from modelpm.project.session import PathLike, ProjectView, open_view
from modelpm.sources.base import ScansFiles
from modelpm.values import RepoRef, SourceKind

if TYPE_CHECKING:
    from modelpm.sources.base import Source
    from modelpm.transfer.transport import Transport

ObjectOf = Callable[[FileTask], "Path | None"]
"""The verified store object of a task (fetched if needed); None: not there yet, skip it."""


@dataclass(frozen=True)
class FileFinding:
    path: str
    kind: Literal["pickle", "python"]
    imports: tuple[str, ...] = ()  # module.name, every one the pickle would import
    dangerous: tuple[str, ...] = ()  # the dangerous ones among them
    error: str | None = None  # could not be read as a pickle
    hub_status: str | None = None  # the Hub's own scan, recorded when locked


@dataclass(frozen=True)
class CodeFinding:
    file: str
    key: str
    reference: str
    repo: str | None  # another repo, None for this one
    pinned: bool  # this repo, or another repo this project locks too


@dataclass(frozen=True)
class ModelAudit:
    name: str
    repo: str
    commit: str
    files: tuple[FileFinding, ...]
    code: tuple[CodeFinding, ...]
    refused: tuple[str, ...]  # what the policy refuses, one sentence each
    notes: tuple[str, ...]  # what is not pinned, and how to pin it


@dataclass(frozen=True)
class AuditReport:
    models: tuple[ModelAudit, ...]

    @property
    def passed(self) -> bool:
        return not any(model.refused for model in self.models)


def audit_models(
    view: ProjectView, models: Iterable[LockedModel], obj: ObjectOf, lock: Lock | None = None
) -> AuditReport:
    """The findings of ``models`` (their files' objects through ``obj``) and the refusals."""
    lock = lock or view.lock or Lock()
    locked_repos: set[tuple[str, str]] = {(m.repo, m.repo_type) for m in lock.models}
    audits = []
    for model in models:
        tasks = wanted_files(Lock((model,)), {model.name: ""})
        audits.append(_audit_model(view, model, tasks, obj, locked_repos))
    return AuditReport(tuple(audits))


def _audit_model(
    view: ProjectView,
    model: LockedModel,
    tasks: Sequence[FileTask],
    obj: ObjectOf,
    locked_repos: set[tuple[str, str]],
) -> ModelAudit:
    policy = policy_for(view.manifest.model(model.name), view.manifest.settings)
    files: list[FileFinding] = []
    code: list[CodeFinding] = []
    for task in tasks:
        if is_python(task.path):
            files.append(FileFinding(task.path, "python"))
            continue
        if not (is_pickle(task.path) or is_config(task.path)):
            continue
        path = obj(task)
        if path is None:
            continue
        if is_pickle(task.path):
            files.append(pickle_finding(view, task, path))
        else:
            code.extend(
                _code_finding(r, locked_repos) for r in auto_map(task.path, path.read_bytes())
            )
    refused = [
        f"{model.name}/{f.path} would call {', '.join(f.dangerous)} when loaded"
        for f in files
        if f.dangerous and not policy.allow_unsafe_pickle
    ]
    shipped = [f.path for f in files if f.kind == "python"] + [c.reference for c in code]
    if shipped and not policy.allow_remote_code:
        refused.append(f"{model.name} ships or names code ({', '.join(shipped[:4])})")
    notes = [
        f"{c.file}: {c.key} → {c.reference} is code from {c.repo}, which models.lock does not "
        f"pin; pin it with `modelpm add {c.repo} --include '*.py' --include '*.json'` and "
        "load through `modelpm run`"
        for c in code
        if not c.pinned
    ]
    return ModelAudit(
        model.name,
        model.repo,
        model.commit,
        tuple(files),
        tuple(code),
        tuple(refused),
        tuple(notes),
    )


def _code_finding(ref: CodeReference, locked_repos: set[tuple[str, str]]) -> CodeFinding:
    pinned = ref.repo is None or (ref.repo, "model") in locked_repos
    return CodeFinding(ref.file, ref.key, ref.reference, ref.repo, pinned)


def pickle_finding(view: ProjectView, task: FileTask, path: Path) -> FileFinding:
    """The scan of one pickle object: from its record, or scanned now and recorded."""
    root = view.config.store_root
    record = read_record(root, task.digest)
    scan = record.pickle
    if scan is None or scan.scanner != scanner_name():
        scan = scan_pickle(path, task.path)
        with contextlib.suppress(OSError):  # a read-only store still audits, uncached
            write_record(root, task.digest, Record(scan, record.hub))
    return _finding(task.path, scan, record.hub.status if record.hub else None)


def _finding(path: str, scan: PickleScan, hub: str | None) -> FileFinding:
    imports = tuple(str(item) for item in scan.imports)
    return FileFinding(path, "pickle", imports, scan.dangerous, scan.error, hub)


def refuse(report: AuditReport) -> None:
    """Raise the one :class:`PolicyError` that names every refusal of ``report``."""
    refusals = [line for model in report.models for line in model.refused]
    if not refusals:
        return
    more = f" (and {len(refusals) - 1} more: {'; '.join(refusals[1:])})" if refusals[1:] else ""
    names = [model.name for model in report.models if model.refused]
    raise PolicyError(
        f"{refusals[0]}; not placed{more}",
        hint=f"run `modelpm audit {' '.join(names)}`; if you trust it, set "
        "allow-unsafe-pickle = true (or allow-remote-code = true) in its [models.<name>] table",
    )


def gate_fetched(view: ProjectView, task: FileTask, path: Path) -> None:
    """Refuse a just-fetched pickle the policy forbids, before it is placed."""
    if not is_pickle(task.path):
        return
    policy = policy_for(view.manifest.model(task.model), view.manifest.settings)
    finding = pickle_finding(view, task, path)
    if finding.dangerous and not policy.allow_unsafe_pickle:
        raise PolicyError(
            f"{task.label} would call {', '.join(finding.dangerous)} when loaded; not placed",
            hint=f"run `modelpm audit {task.model}`; if you trust it, set "
            f"allow-unsafe-pickle = true in [models.{task.model}]",
        )


def record_hub_scans(view: ProjectView, models: Iterable[LockedModel]) -> None:
    """Keep what each model's source says of its pickles' security (best effort)."""
    root = view.config.store_root
    for model in models:
        pickles = {f.path: f.digest for f in model.files if is_pickle(f.path)}
        source = view.source(model.source) if pickles else None
        if not isinstance(source, ScansFiles):
            continue
        ref = RepoRef(model.repo, model.repo_type)
        try:
            scans = source.security_status(ref, model.commit, sorted(pickles))
        except HubError:
            continue  # advisory: a hub without scans, or a failed call, changes nothing
        for path, scan in scans.items():
            if path in pickles:
                record = read_record(root, pickles[path])
                with contextlib.suppress(OSError):
                    write_record(root, pickles[path], Record(record.pickle, scan))


def gate_plan(view: ProjectView, lock: Lock, tasks: Sequence[FileTask], fetch: ObjectOf) -> None:
    """Refuse, before anything is placed, what the policy forbids among ``tasks``' models:
    pickles the store already holds (the rest are judged as they arrive, by
    :func:`gate_fetched`) and code (for a model that refuses code, its configs are fetched
    with ``fetch`` to read their ``auto_map``)."""
    names = {task.model for task in tasks}
    store = view.store
    settings = view.manifest.settings

    def obj(task: FileTask) -> Path | None:
        if store.vouch(task.digest, task.size):
            return store.object_path(task.digest)
        if not is_config(task.path):
            return None  # a pickle: judged when it arrives
        if policy_for(view.manifest.model(task.model), settings).allow_remote_code:
            return None  # its auto_map changes nothing: no need to read it first
        try:
            return fetch(task)
        except HubError:
            return None  # the sync fetches it again, and reports the failure with the rest

    refuse(audit_models(view, [m for m in lock.models if m.name in names], obj, lock))


def audit(
    names: Sequence[str] = (),
    *,
    project: PathLike | None = None,
    sources: Mapping[SourceKind, Source] | None = None,
    transport: Transport | None = None,
) -> AuditReport:
    """What could run code in each locked model (``names``, default all), and what the
    policy refuses. Scans what the store holds, fetching (verified) what it lacks."""
    from modelpm.workflow.fetching import StoreReader

    view = open_view(project, Overrides(), sources)
    view.manifest.check_names(names)
    if view.lock is None:
        raise LockfileError("there is no models.lock yet", hint="run `modelpm lock`")
    models = [m for m in view.lock.models if not names or m.name in names]
    store = view.store
    with StoreReader(view, transport) as reader:

        def obj(task: FileTask) -> Path:
            if store.vouch(task.digest, task.size):
                return store.object_path(task.digest)
            if view.config.offline:
                raise OfflineError(
                    f"offline, and {task.label} is not in the store",
                    hint="run `modelpm sync` once with network access",
                )
            return reader.obtain(task)

        return audit_models(view, models, obj)
