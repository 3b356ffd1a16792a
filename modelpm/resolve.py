"""Manifest + hub → lock: resolution, freshness and upgrades.

Owns the rules for when a lock entry is reused (same fingerprint, not asked to
upgrade: no request at all), when it is resolved again, and what makes a lock
stale. Talks to the hub only through the injected :class:`~modelpm.hub.Hub`;
never prints and never writes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from modelpm.errors import ManifestError
from modelpm.hub import Hub, RepoRef
from modelpm.lockfile import Lock, LockedFile, LockedModel
from modelpm.manifest import Manifest, ModelSpec
from modelpm.patterns import is_selected


@dataclass(frozen=True)
class Staleness:
    """How a lock differs from its manifest; empty when the lock is up to date."""

    missing: tuple[str, ...] = ()  # in the manifest, not in the lock
    changed: tuple[str, ...] = ()  # fingerprint differs
    orphaned: tuple[str, ...] = ()  # in the lock, not in the manifest

    @property
    def is_fresh(self) -> bool:
        return not (self.missing or self.changed or self.orphaned)

    def describe(self, *, names_only: bool = False) -> str:
        parts = []
        if self.missing:
            parts.append("not locked yet: " + ", ".join(self.missing))
        if self.changed and not names_only:
            parts.append("changed in models.toml: " + ", ".join(self.changed))
        if self.orphaned:
            parts.append("no longer in models.toml: " + ", ".join(self.orphaned))
        return "; ".join(parts)


def staleness(manifest: Manifest, lock: Lock | None) -> Staleness:
    locked = {model.name: model for model in (lock.models if lock else ())}
    missing = tuple(spec.name for spec in manifest.models if spec.name not in locked)
    changed = tuple(
        spec.name
        for spec in manifest.models
        if spec.name in locked and not _locks_spec(locked[spec.name], spec)
    )
    wanted = {spec.name for spec in manifest.models}
    orphaned = tuple(sorted(name for name in locked if name not in wanted))
    return Staleness(missing, changed, orphaned)


def _locks_spec(model: LockedModel, spec: ModelSpec) -> bool:
    """True when ``model`` was resolved from ``spec`` as it reads now.

    The fingerprint covers the patterns too; the fields the lock spells out are compared
    as well, so a hand-edited lock that names another repo under a copied fingerprint is
    stale, not trusted.
    """
    return (model.fingerprint, model.repo, model.repo_type, model.revision) == (
        spec.fingerprint(),
        spec.repo,
        spec.repo_type,
        spec.revision,
    )


@dataclass(frozen=True)
class LockOutcome:
    """The new lock and what happened to each model."""

    lock: Lock
    resolved: tuple[str, ...]  # asked the hub
    kept: tuple[str, ...]  # reused the existing pin, no request
    removed: tuple[str, ...]  # dropped: no longer in the manifest


def lock_project(
    manifest: Manifest,
    previous: Lock | None,
    hub: Hub,
    *,
    upgrade: bool = False,
    upgrade_models: Collection[str] = (),
    on_model: Callable[[ModelSpec], None] | None = None,
) -> LockOutcome:
    """Resolve what is new, changed or asked to upgrade; keep every other pin as it is."""
    for name in upgrade_models:
        manifest.model(name)  # raises a ManifestError naming the unknown model
    old = {model.name: model for model in (previous.models if previous else ())}
    models: list[LockedModel] = []
    resolved: list[str] = []
    kept: list[str] = []
    for spec in manifest.models:
        existing = old.get(spec.name)
        wants_upgrade = (upgrade or spec.name in upgrade_models) and not spec.pins_commit
        if existing is not None and _locks_spec(existing, spec) and not wants_upgrade:
            models.append(existing)
            kept.append(spec.name)
            continue
        if on_model is not None:
            on_model(spec)
        models.append(resolve_model(spec, hub))
        resolved.append(spec.name)
    wanted = {spec.name for spec in manifest.models}
    removed = tuple(sorted(name for name in old if name not in wanted))
    return LockOutcome(Lock().with_models(models), tuple(resolved), tuple(kept), removed)


def resolve_model(spec: ModelSpec, hub: Hub) -> LockedModel:
    """Ask the hub which commit ``spec.revision`` is and which files it selects."""
    ref = RepoRef(spec.repo, spec.repo_type)
    # A commit is pinned as is; asking the hub still proves it exists in this repo.
    commit = hub.resolve(ref, spec.revision).commit
    remote = hub.list_files(ref, commit)
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
        repo=spec.repo,
        repo_type=spec.repo_type,
        revision=spec.revision,
        commit=commit,
        fingerprint=spec.fingerprint(),
        files=files,
    )
