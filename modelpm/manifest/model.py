"""The values of a manifest: what ``models.toml`` asks for, normalised.

Invariant: a :class:`Manifest` that exists is valid (:mod:`modelpm.manifest.parse`
builds it only after every rule held): every repo id is well-formed, every
``dest`` is a distinct relative path inside the project, and no ``dest``
contains another.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from modelpm.errors import ManifestError
from modelpm.select.choice import ALL, AUTO, Weights
from modelpm.values import (
    DEFAULT_REVISIONS,
    DEFAULT_SOURCE,
    LinkMode,
    RepoType,
    SourceKind,
    is_commit,
)

MANIFEST_NAME = "models.toml"
DEFAULT_DEST_ROOT = "models"
DEFAULT_REVISION = DEFAULT_REVISIONS[DEFAULT_SOURCE]


@dataclass(frozen=True)
class Mirror:
    """Another repo with the same files (``mirrors = ["modelscope:owner/name@rev"]``): a place
    bytes may come from, never part of the lock or its fingerprint."""

    source: SourceKind
    repo: str
    revision: str | None = None  # None: the source's default branch

    @property
    def wanted_revision(self) -> str:
        return self.revision or DEFAULT_REVISIONS[self.source]

    def __str__(self) -> str:
        return f"{self.source}:{self.repo}" + (f"@{self.revision}" if self.revision else "")


@dataclass(frozen=True)
class ModelSpec:
    """One ``[models.<name>]`` table, normalised."""

    name: str
    repo: str
    repo_type: RepoType = "model"
    revision: str = DEFAULT_REVISION
    include: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    dest: str = ""
    source: SourceKind = DEFAULT_SOURCE
    # Selection and safety (issue 12): `weights`/`variant` decide bytes, so they are part of
    # the fingerprint; the two policies decide only what may be placed, so they are not.
    weights: Weights = AUTO
    variant: str | None = None
    weights_written: bool = False  # the table has a `weights` or `variant` key
    allow_unsafe_pickle: bool | None = None  # None: as [settings] says
    allow_remote_code: bool | None = None
    mirrors: tuple[Mirror, ...] = ()  # not in the fingerprint: where bytes may also come from

    @property
    def effective_weights(self) -> Weights:
        """What selects this entry's files: datasets and spaces are never filtered."""
        return self.weights if self.repo_type == "model" else ALL

    @property
    def pins_commit(self) -> bool:
        """True when the revision is already a full commit sha: nothing to resolve."""
        return is_commit(self.revision)

    def fingerprint(self) -> str:
        """Hash of what decides the resolution, so a lock entry knows it is stale.

        Only fields that change which bytes are selected count; ``dest`` and
        the order of patterns do not, so moving a folder or reordering a list
        never forces a re-lock. The source is compared on its own, beside the
        fingerprint, so locks made before sources existed keep their fingerprints.
        ``weights = "all"`` (every file, what modelpm did before ``weights``
        existed) adds nothing, so it fingerprints as such an old entry does.
        """
        canonical: dict[str, object] = self._legacy_canonical()
        weights = self.effective_weights
        if weights != ALL:
            canonical["weights"] = str(weights)
            if self.variant is not None:
                canonical["variant"] = self.variant
        return _digest(canonical)

    def legacy_fingerprint(self) -> str:
        """The fingerprint a modelpm from before ``weights`` gave this table (every file)."""
        return _digest(self._legacy_canonical())

    def _legacy_canonical(self) -> dict[str, object]:
        return {
            "repo": self.repo,
            "repo-type": self.repo_type,
            "revision": self.revision,
            "include": sorted(set(self.include)) if self.include is not None else None,
            "exclude": sorted(set(self.exclude)),
        }


def _digest(canonical: dict[str, object]) -> str:
    digest = hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()
    return f"sha256:{digest[:32]}"


@dataclass(frozen=True)
class Settings:
    """The optional ``[settings]`` table; None means "not set in the file"."""

    endpoint: str | None = None
    dest_root: str = DEFAULT_DEST_ROOT
    store: str | None = None
    link: LinkMode = "hardlink"  # how files reach destinations: hardlink, reflink or copy
    allow_unsafe_pickle: bool = False  # place a pickle whose scan finds a dangerous call
    allow_remote_code: bool = True  # place models that ship or reference code
    remote: str | None = None  # the shared remote store, "s3://bucket/prefix"
    remote_push: bool = False  # every sync uploads what it fetched to the remote store
    # -- sources (issue 11) --
    source: SourceKind = DEFAULT_SOURCE  # the source of a model table without `source`
    modelscope_endpoint: str | None = None


@dataclass(frozen=True)
class Manifest:
    """A parsed, validated ``models.toml``."""

    path: Path
    settings: Settings = field(default_factory=Settings)
    models: tuple[ModelSpec, ...] = ()

    @property
    def root(self) -> Path:
        """The project folder: where models.toml lives; every ``dest`` is relative to it."""
        return self.path.parent

    def model(self, name: str) -> ModelSpec:
        for spec in self.models:
            if spec.name == name:
                return spec
        known = ", ".join(spec.name for spec in self.models) or "none"
        raise ManifestError(
            f"{self.path.name}: no model named {name!r} (models: {known})",
            hint="check the name against the [models.<name>] tables",
        )

    def check_names(self, names: Sequence[str]) -> None:
        """Raise a :class:`ManifestError` naming the first of ``names`` with no table."""
        for name in names:
            self.model(name)

    @property
    def destinations(self) -> dict[str, str]:
        """Each model's ``dest``, by name."""
        return {spec.name: spec.dest for spec in self.models}
