"""When a lock is out of date with its manifest, judged on meaning (pure).

A lock entry is fresh when its fingerprint (the fields that decide which bytes
are selected), source, repo, repo type and revision all match the manifest
entry of the same name. Reordering tables or patterns, moving a ``dest`` or
editing comments never makes a lock stale; a hand-edited lock naming another
repo under a copied fingerprint always does.

An entry made before ``weights`` existed took every file. For a table without
a ``weights`` key (so ``auto`` now) it is stale, and said so in its own words
(:data:`BEFORE_WEIGHTS`); for ``weights = "all"`` it is what that table asks.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelpm.lockfile.model import Lock, LockedModel
from modelpm.manifest.model import Manifest, ModelSpec


@dataclass(frozen=True)
class Staleness:
    """How a lock differs from its manifest; empty when the lock is up to date."""

    missing: tuple[str, ...] = ()  # in the manifest, not in the lock
    changed: tuple[str, ...] = ()  # fingerprint (or source, repo, type, revision) differs
    orphaned: tuple[str, ...] = ()  # in the lock, not in the manifest
    before_weights: tuple[str, ...] = ()  # of `changed`: locked by a modelpm before `weights`

    @property
    def is_fresh(self) -> bool:
        return not (self.missing or self.changed or self.orphaned)

    def describe(self, *, names_only: bool = False) -> str:
        parts = []
        if self.missing:
            parts.append("not locked yet: " + ", ".join(self.missing))
        changed = [name for name in self.changed if name not in self.before_weights]
        if changed and not names_only:
            parts.append("changed in models.toml: " + ", ".join(changed))
        if self.before_weights and not names_only:
            parts.append(f"{', '.join(self.before_weights)}: {BEFORE_WEIGHTS}")
        if self.orphaned:
            parts.append("no longer in models.toml: " + ", ".join(self.orphaned))
        return "; ".join(parts)


def staleness(manifest: Manifest, lock: Lock | None) -> Staleness:
    locked = {model.name: model for model in (lock.models if lock else ())}
    missing = tuple(spec.name for spec in manifest.models if spec.name not in locked)
    changed = tuple(
        spec.name
        for spec in manifest.models
        if spec.name in locked and not locks_spec(locked[spec.name], spec)
    )
    wanted = {spec.name for spec in manifest.models}
    orphaned = tuple(sorted(name for name in locked if name not in wanted))
    before = tuple(
        spec.name
        for spec in manifest.models
        if spec.name in changed and predates_weights(locked[spec.name], spec)
    )
    return Staleness(missing, changed, orphaned, before)


BEFORE_WEIGHTS = (
    "made by an older modelpm that fetched every file: run `modelpm lock` to apply "
    'weights = "auto", or set weights = "all" to keep every file'
)


def predates_weights(model: LockedModel, spec: ModelSpec) -> bool:
    """True when ``model`` was locked from this table by a modelpm that knew no ``weights``."""
    same_repo = (model.source, model.repo, model.repo_type, model.revision) == (
        spec.source,
        spec.repo,
        spec.repo_type,
        spec.revision,
    )
    return (
        same_repo
        and not spec.weights_written
        and model.fingerprint == spec.legacy_fingerprint() != spec.fingerprint()
    )


def locks_spec(model: LockedModel, spec: ModelSpec) -> bool:
    """True when ``model`` was resolved from ``spec`` as it reads now."""
    return (model.fingerprint, model.source, model.repo, model.repo_type, model.revision) == (
        spec.fingerprint(),
        spec.source,
        spec.repo,
        spec.repo_type,
        spec.revision,
    )
