"""Resolving manifest entries against their sources into lock entries.

Owns the rules for when a lock entry is reused (fresh and not asked to
upgrade: no request at all) and when it is resolved again (new, changed, or
asked to upgrade, unless it pins a commit). Talks to sources only through the
:class:`~modelpm.sources.base.Source` interface, obtained from an injected
lookup; never prints and never writes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from modelpm.errors import ManifestError
from modelpm.lockfile.model import Lock, LockedFile, LockedModel
from modelpm.manifest.model import Manifest, ModelSpec
from modelpm.resolve.staleness import locks_spec
from modelpm.select.patterns import is_selected
from modelpm.sources.base import Source
from modelpm.values import RepoRef, SourceKind

SourceFor = Callable[[SourceKind], Source]
"""The source of a kind (opened on first use, so a run that resolves nothing opens none)."""


@dataclass(frozen=True)
class LockOutcome:
    """The new lock and what happened to each model."""

    lock: Lock
    resolved: tuple[str, ...]  # asked the source
    kept: tuple[str, ...]  # reused the existing pin, no request
    removed: tuple[str, ...]  # dropped: no longer in the manifest
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
) -> LockOutcome:
    """Resolve what is new, changed or asked to upgrade; keep every other pin as it is."""
    manifest.check_names(list(upgrade_models))
    old = {model.name: model for model in (previous.models if previous else ())}
    models: list[LockedModel] = []
    resolved: list[str] = []
    kept: list[str] = []
    renamed: list[tuple[str, str]] = []
    for spec in manifest.models:
        existing = old.get(spec.name)
        wants_upgrade = (upgrade or spec.name in upgrade_models) and not spec.pins_commit
        if existing is not None and locks_spec(existing, spec) and not wants_upgrade:
            models.append(existing)
            kept.append(spec.name)
            continue
        model, canonical = resolve_named(spec, source_for(spec.source))
        models.append(model)
        resolved.append(spec.name)
        if canonical is not None:
            renamed.append((spec.name, canonical))
    wanted = {spec.name for spec in manifest.models}
    removed = tuple(sorted(name for name in old if name not in wanted))
    return LockOutcome(
        Lock(models=tuple(models)), tuple(resolved), tuple(kept), removed, tuple(renamed)
    )


def resolve_model(spec: ModelSpec, source: Source) -> LockedModel:
    """Ask the source which commit ``spec.revision`` is and which files it selects."""
    return resolve_named(spec, source)[0]


def resolve_named(spec: ModelSpec, source: Source) -> tuple[LockedModel, str | None]:
    """:func:`resolve_model`, and the repo's canonical id when the source now calls it by
    another one (renamed; None: the same)."""
    ref = RepoRef(spec.repo, spec.repo_type)
    # A commit is pinned as is; asking the source still proves it exists in this repo.
    found = source.resolve(ref, spec.revision)
    commit = found.commit
    remote = source.list_files(ref, commit)
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
    return model, found.canonical
