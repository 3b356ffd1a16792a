"""Resolving manifest entries against their sources into lock entries.

Owns the rules for when a lock entry is reused (fresh and not asked to
upgrade: no request at all) and when it is resolved again (new, changed, or
asked to upgrade, unless it pins a commit). Talks to sources only through the
:class:`~modelpm.sources.base.Source` interface, obtained from an injected
lookup; never prints and never writes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from modelpm.errors import HubError, ManifestError
from modelpm.lockfile.model import Lock, LockedFile, LockedModel
from modelpm.manifest.model import Manifest, ModelSpec
from modelpm.paths import check_repo_path, check_size, check_tree
from modelpm.resolve.staleness import locks_spec
from modelpm.select.patterns import is_selected
from modelpm.sources.base import RemoteFile, Source
from modelpm.values import Commit, RepoRef, SourceKind

SourceFor = Callable[[SourceKind], Source]
"""The source of a kind (opened on first use, so a run that resolves nothing opens none)."""


@dataclass(frozen=True)
class LockOutcome:
    """The new lock and what happened to each model."""

    lock: Lock
    resolved: tuple[str, ...]  # asked the source
    kept: tuple[str, ...]  # reused the existing pin, no request
    removed: tuple[str, ...]  # dropped: no longer in the manifest


def lock_project(
    manifest: Manifest,
    previous: Lock | None,
    source_for: SourceFor,
    *,
    upgrade: bool = False,
    upgrade_models: Collection[str] = (),
) -> LockOutcome:
    """Resolve what is new, changed or asked to upgrade; keep every other pin as it is."""
    manifest.check_names(list(upgrade_models))
    old = {model.name: model for model in (previous.models if previous else ())}
    models: list[LockedModel] = []
    resolved: list[str] = []
    kept: list[str] = []
    for spec in manifest.models:
        existing = old.get(spec.name)
        wants_upgrade = (upgrade or spec.name in upgrade_models) and not spec.pins_commit
        if existing is not None and locks_spec(existing, spec) and not wants_upgrade:
            models.append(existing)
            kept.append(spec.name)
            continue
        models.append(resolve_model(spec, source_for(spec.source)))
        resolved.append(spec.name)
    wanted = {spec.name for spec in manifest.models}
    removed = tuple(sorted(name for name in old if name not in wanted))
    return LockOutcome(Lock(models=tuple(models)), tuple(resolved), tuple(kept), removed)


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


def resolve_model(spec: ModelSpec, source: Source) -> LockedModel:
    """Ask the source which commit ``spec.revision`` is and which files it selects."""
    ref = RepoRef(spec.repo, spec.repo_type)
    # A commit is pinned as is; asking the source still proves it exists in this repo.
    commit = source.resolve(ref, spec.revision).commit
    remote = source.list_files(ref, commit)
    _check_listing(remote, source, ref, commit)
    return locked_model(spec, commit, remote)


def locked_model(spec: ModelSpec, commit: Commit, remote: Sequence[RemoteFile]) -> LockedModel:
    """The lock entry of ``spec`` at ``commit``, whose files are ``remote``."""
    ref = RepoRef(spec.repo, spec.repo_type)
    files = tuple(
        LockedFile(path=item.path, size=item.size, digest=item.digest)
        for item in remote
        if is_selected(item.path, spec.include, spec.exclude)
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
    return LockedModel(
        name=spec.name,
        source=spec.source,
        repo=spec.repo,
        repo_type=spec.repo_type,
        revision=spec.revision,
        commit=commit,
        fingerprint=spec.fingerprint(),
        files=files,
    )
