"""Typed values every layer shares: closed sets, ids, and two small frozen values.

Closed sets are ``Literal`` types with the tuple of their members beside them
(for validation and messages); ids are ``NewType`` so a commit cannot be passed
where a path is meant. :class:`Digest` (an attested content hash) and
:class:`RepoRef` (a repository on a source) travel through every layer from the
listing to the store, so they live here and import nothing of modelpm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal, NewType, TypeGuard

HashAlgorithm = Literal["sha256", "git-sha1"]
# Hex digits of each algorithm's digest.
HASH_LENGTHS: Final[dict[HashAlgorithm, int]] = {"sha256": 64, "git-sha1": 40}

RepoType = Literal["model", "dataset", "space"]
REPO_TYPES: Final[tuple[RepoType, ...]] = ("model", "dataset", "space")

# Where a model is resolved: the Hugging Face Hub (or an endpoint speaking its API), ModelScope.
SourceKind = Literal["hf", "modelscope"]
SOURCE_KINDS: Final[tuple[SourceKind, ...]] = ("hf", "modelscope")
DEFAULT_SOURCE: Final[SourceKind] = "hf"
# The revision a model table without `revision` asks for, per source (never "main" on ModelScope).
DEFAULT_REVISIONS: Final[dict[SourceKind, str]] = {"hf": "main", "modelscope": "master"}

# What `modelpm status` reports, stable for --json: in place; some or all files missing or
# changed since sync placed them; not in models.lock yet; locked from another manifest entry.
StatusState = Literal["synced", "partly-synced", "not-synced", "not-locked", "lock-stale"]
STATES: Final[tuple[StatusState, ...]] = (
    "synced",
    "partly-synced",
    "not-synced",
    "not-locked",
    "lock-stale",
)

# How files reach destinations ([settings] link): the store's inode, a clone, or a copy.
LinkMode = Literal["hardlink", "reflink", "copy"]
LINK_MODES: Final[tuple[LinkMode, ...]] = ("hardlink", "reflink", "copy")

Commit = NewType("Commit", str)
"""A full commit id: 40 lowercase hex digits."""

COMMIT_PATTERN: Final = re.compile(r"^[0-9a-f]{40}$")
_HEX: Final = re.compile(r"^[0-9a-f]+$")


def is_commit(value: object) -> TypeGuard[Commit]:
    """True for a full commit id (40 lowercase hex digits)."""
    return isinstance(value, str) and bool(COMMIT_PATTERN.match(value))


def is_hash_algorithm(value: object) -> TypeGuard[HashAlgorithm]:
    return value in HASH_LENGTHS


def is_repo_type(value: object) -> TypeGuard[RepoType]:
    return value in REPO_TYPES


def is_source_kind(value: object) -> TypeGuard[SourceKind]:
    return value in SOURCE_KINDS


def is_link_mode(value: object) -> TypeGuard[LinkMode]:
    return value in LINK_MODES


@dataclass(frozen=True, order=True, slots=True)
class Digest:
    """A content hash a source attests: ``sha256`` (LFS files) or ``git-sha1`` (git blobs)."""

    algorithm: HashAlgorithm
    hexdigest: str

    def __post_init__(self) -> None:
        length = HASH_LENGTHS.get(self.algorithm)
        if length is None:
            raise ValueError(f"unknown hash algorithm {self.algorithm!r}")
        if len(self.hexdigest) != length or not _HEX.match(self.hexdigest):
            raise ValueError(f"{self.algorithm} must be {length} lowercase hex digits")

    @classmethod
    def unchecked(cls, algorithm: str, hexdigest: str) -> Digest:
        """A digest built without its checks, for text a reader has already matched against
        them: a 50,000-file lock builds 50,000 digests on every read."""
        digest = object.__new__(cls)
        object.__setattr__(digest, "algorithm", algorithm)
        object.__setattr__(digest, "hexdigest", hexdigest)
        return digest

    @classmethod
    def parse(cls, algorithm: str, hexdigest: str) -> Digest:
        """A digest from untrusted text; ValueError names what is wrong."""
        if not is_hash_algorithm(algorithm):
            raise ValueError(f"unknown hash algorithm {algorithm!r}")
        return cls(algorithm, hexdigest)

    @property
    def key(self) -> str:
        """A file-name-safe identity, used as the store's object name."""
        return f"{self.algorithm}-{self.hexdigest}"

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hexdigest}"


@dataclass(frozen=True)
class RepoRef:
    """A repository on a source."""

    repo: str
    repo_type: RepoType = "model"

    def __str__(self) -> str:
        return self.repo if self.repo_type == "model" else f"{self.repo_type} {self.repo}"
