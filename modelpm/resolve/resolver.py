"""Resolving manifest entries against their sources into lock entries.

Owns the rules for when a lock entry is reused (fresh and not asked to
upgrade: no request at all) and when it is resolved again (new, changed, or
asked to upgrade, unless it pins a commit). Talks to sources only through the
:class:`~modelpm.sources.base.Source` interface, obtained from an injected
lookup; never prints and never writes.

A model's files are the listing, less what ``weights``/``variant`` leave out
(:mod:`modelpm.select.weights`), then filtered by include/exclude. The few
small files a weights rule reads come through an injected :data:`ReadFile`
(the workflow fetches them verified into the store), so no HTTP lives here.

Models are resolved concurrently on a bounded pool (two API calls each, so 200 models
one after another would take a minute across an ocean); each source retries its own 429s
after their ``Retry-After``. The lock keeps the manifest's order, and a failure is the
first failing model's in that order, whatever finished first.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

from modelpm.concurrency import map_bounded
from modelpm.errors import HubError, ManifestError
from modelpm.lockfile.model import Lock, LockedFile, LockedModel
from modelpm.manifest.model import Manifest, ModelSpec
from modelpm.paths import check_repo_path, check_size, check_tree
from modelpm.resolve.staleness import locks_spec
from modelpm.select.patterns import is_selected
from modelpm.select.rules import NoFit
from modelpm.select.weights import select_weights
from modelpm.sources.base import RemoteFile, Source
from modelpm.values import Commit, RepoRef, SourceKind

# Models resolved at once: enough to hide latency (200 models at 20 ms an answer: 2.2 s with
# 8, 1.6 s with 16, two calls each), and a bound for the hub; a 429 is waited out as asked.
RESOLVE_JOBS = 16

SourceFor = Callable[[SourceKind], Source]
"""The source of a kind (opened on first use, so a run that resolves nothing opens none)."""

ReadFile = Callable[[ModelSpec, Commit, RemoteFile], bytes]
"""The verified bytes of a listed file of ``spec``'s repo at ``commit``."""


def _no_reader(spec: ModelSpec, _commit: Commit, remote: RemoteFile) -> bytes:
    raise NoFit(f"cannot read {remote.path} of {spec.repo} here")


@dataclass(frozen=True)
class Resolved:
    """A model's lock entry, and what ``weights`` left out of it (path, size, reason)."""

    model: LockedModel
    skipped: tuple[tuple[str, int, str], ...] = ()
    notes: tuple[str, ...] = ()
    # The repo's id when the source now calls it by another one (renamed; None: the same).
    canonical: str | None = None

    @property
    def skipped_bytes(self) -> int:
        return sum(size for _path, size, _reason in self.skipped)


@dataclass(frozen=True)
class LockOutcome:
    """The new lock and what happened to each model."""

    lock: Lock
    resolved: tuple[str, ...]  # asked the source
    kept: tuple[str, ...]  # reused the existing pin, no request
    removed: tuple[str, ...]  # dropped: no longer in the manifest
    details: Mapping[str, Resolved] = field(default_factory=dict)  # of each resolved model
    # (name, canonical id) of models whose repo the source now calls by another id (renamed);
    # the lock keeps the manifest's id, so it stays fresh.
    renamed: tuple[tuple[str, str], ...] = ()


def lock_project(
    manifest: Manifest,
    previous: Lock | None,
    source_for: SourceFor,
    *,
    upgrade: bool = False,
    upgrade_models: Collection[str] = (),
    read: ReadFile = _no_reader,
    jobs: int = RESOLVE_JOBS,
) -> LockOutcome:
    """Resolve what is new, changed or asked to upgrade; keep every other pin as it is."""
    manifest.check_names(list(upgrade_models))
    old = {model.name: model for model in (previous.models if previous else ())}
    stale: list[ModelSpec] = []
    for spec in manifest.models:
        existing = old.get(spec.name)
        wants_upgrade = (upgrade or spec.name in upgrade_models) and not spec.pins_commit
        if existing is None or not locks_spec(existing, spec) or wants_upgrade:
            stale.append(spec)
    details = resolve_each(stale, source_for, read, jobs)
    models: list[LockedModel] = []
    kept: list[str] = []
    for spec in manifest.models:
        found = details.get(spec.name)
        if found is None:
            models.append(old[spec.name])
            kept.append(spec.name)
        else:
            models.append(found.model)
    resolved = [spec.name for spec in stale]
    renamed = [
        (name, found.canonical) for name, found in details.items() if found.canonical is not None
    ]
    wanted = {spec.name for spec in manifest.models}
    removed = tuple(sorted(name for name in old if name not in wanted))
    lock = Lock(models=tuple(models))
    return LockOutcome(lock, tuple(resolved), tuple(kept), removed, details, tuple(renamed))


def resolve_each(
    specs: Sequence[ModelSpec], source_for: SourceFor, read: ReadFile, jobs: int
) -> dict[str, Resolved]:
    """Every spec resolved, by name in ``specs``' order, at most ``jobs`` at once."""
    # Sources open here, in this thread, before any worker asks for one.
    pairs = [(spec, source_for(spec.source)) for spec in specs]
    found = map_bounded(lambda pair: resolve(*pair, read), pairs, jobs, name="modelpm-lock")
    return {spec.name: one for spec, one in zip(specs, found, strict=True)}


def resolve_model(spec: ModelSpec, source: Source, read: ReadFile = _no_reader) -> LockedModel:
    """Ask the source which commit ``spec.revision`` is and which files it selects."""
    return resolve(spec, source, read).model


def resolve(spec: ModelSpec, source: Source, read: ReadFile = _no_reader) -> Resolved:
    """:func:`resolve_model`, with what ``weights`` left out."""
    ref = RepoRef(spec.repo, spec.repo_type)
    # A commit is pinned as is; asking the source still proves it exists in this repo.
    found = source.resolve(ref, spec.revision)
    commit = found.commit
    remote = source.list_files(ref, commit)
    _check_listing(remote, source, ref, commit)
    return replace(select_files(spec, commit, remote, read), canonical=found.canonical)


def locked_model(
    spec: ModelSpec, commit: Commit, remote: Sequence[RemoteFile], read: ReadFile = _no_reader
) -> LockedModel:
    """The lock entry of ``spec`` at ``commit``, whose files are ``remote``."""
    return select_files(spec, commit, remote, read).model


def _check_listing(remote: list[RemoteFile], source: Source, ref: RepoRef, commit: str) -> None:
    """What every source's listing must be, whoever implemented the source: safe paths and
    sizes, each path once, no path both a file and a folder (the lock could never sync)."""
    try:
        for item in remote:
            check_repo_path(item.path)
            check_size(item.size, item.path)
        check_tree(item.path for item in remote)
    except ValueError as exc:
        raise HubError(
            f"{source.name} listed {exc} in {ref} @ {commit[:12]}",
            hint="the endpoint is not trustworthy; try another one",
        ) from None


def select_files(
    spec: ModelSpec, commit: Commit, remote: Sequence[RemoteFile], read: ReadFile = _no_reader
) -> Resolved:
    """The files of ``remote`` that ``spec`` takes (weights, then include/exclude)."""
    ref = RepoRef(spec.repo, spec.repo_type)
    by_path = {item.path: item for item in remote}
    try:
        chosen = select_weights(
            [(item.path, item.size) for item in remote],
            spec.effective_weights,
            spec.variant,
            lambda path: read(spec, commit, by_path[path]),
        )
    except NoFit as problem:
        raise ManifestError(
            f'models.toml: [models.{spec.name}] weights = "{spec.weights}"'
            f"{f' variant = {spec.variant!r}' if spec.variant else ''}: {problem.message} "
            f"({ref} @ {spec.revision})",
            hint=problem.hint,
        ) from None
    kept = set(chosen.kept)
    files = tuple(
        LockedFile(path=item.path, size=item.size, digest=item.digest)
        for item in remote
        if item.path in kept and is_selected(item.path, spec.include, spec.exclude)
    )
    if not files:
        if not remote:
            detail = "the repo has no files at this revision"
        else:
            sample = ", ".join(item.path for item in remote[:5])
            detail = f"the repo has {len(remote)} files, e.g. {sample}"
        raise ManifestError(
            f"models.toml: [models.{spec.name}] include/exclude select no file of "
            f"{ref} @ {spec.revision} ({detail})",
            hint="loosen the patterns; '*.json' matches at any depth, 'folder/' a whole folder",
        )
    model = LockedModel(
        name=spec.name,
        source=spec.source,
        repo=spec.repo,
        repo_type=spec.repo_type,
        revision=spec.revision,
        commit=commit,
        fingerprint=spec.fingerprint(),
        files=files,
    )
    skipped = tuple(
        (path, by_path[path].size, reason)
        for path, reason in chosen.skipped
        if is_selected(path, spec.include, spec.exclude)  # left out by weights, not patterns
    )
    return Resolved(model, skipped, chosen.notes)
