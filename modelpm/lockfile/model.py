"""The values of a lock: models, their files, and the whole lock.

Invariant: values are canonical as constructed (files sorted by path, models
sorted by name), so two equal resolutions compare equal and render to the same
bytes. ``Lock.version`` is the format the lock was read in; it takes no part in
equality of content (:meth:`Lock.same_content`), which is what decides whether
a lock needs writing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from modelpm.values import Commit, Digest, RepoType, SourceKind

# Version 2 added `source` per model; version 1 locks are read as source "hf".
LOCK_VERSION = 2


@dataclass(frozen=True, slots=True)
class LockedFile:
    """One selected file of a model: repo path, size and the attested hash."""

    path: str
    size: int
    digest: Digest


@dataclass(frozen=True)
class LockedModel:
    """What one manifest entry resolved to."""

    name: str
    source: SourceKind
    repo: str
    repo_type: RepoType
    revision: str
    commit: Commit
    fingerprint: str
    files: tuple[LockedFile, ...]

    def __post_init__(self) -> None:
        # One canonical order, so equal resolutions compare and render equal.
        object.__setattr__(self, "files", tuple(sorted(self.files, key=lambda item: item.path)))

    @property
    def total_size(self) -> int:
        return sum(item.size for item in self.files)


@dataclass(frozen=True)
class Lock:
    """The whole lock; models sorted by name."""

    models: tuple[LockedModel, ...] = ()
    version: int = LOCK_VERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "models", tuple(sorted(self.models, key=lambda model: model.name)))

    def get(self, name: str) -> LockedModel | None:
        for model in self.models:
            if model.name == name:
                return model
        return None

    def with_models(self, models: Iterable[LockedModel]) -> Lock:
        """A lock holding ``models``, in the current format."""
        return Lock(models=tuple(models))

    def without(self, name: str) -> Lock:
        return self.with_models(model for model in self.models if model.name != name)

    def same_content(self, other: Lock | None) -> bool:
        """True when ``other`` pins exactly the same models (whatever format it was read in)."""
        return other is not None and self.models == other.models
