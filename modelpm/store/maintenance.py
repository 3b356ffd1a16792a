"""Store upkeep: ``modelpm store verify`` and ``modelpm store gc``.

``verify`` re-hashes every object (an object can only go bad through a hard
link edited in place, or the disk). ``gc`` keeps every object that the lock
of a registered project still references and removes the rest, with the
partial downloads of objects nobody wants; projects whose folder or lock is
gone leave the registry. Objects are removed under their own lock, so a sync
that is downloading the same object is never cut short.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from modelpm.errors import ModelpmError
from modelpm.hashing import hash_file
from modelpm.lockfile.io import LOCK_NAME, read_lock
from modelpm.store.local import Store
from modelpm.values import Digest


@dataclass(frozen=True)
class StoreCheck:
    objects: int
    corrupt: tuple[str, ...]  # object keys whose content no longer matches their name

    @property
    def passed(self) -> bool:
        return not self.corrupt


def verify_store(store: Store, *, remove_corrupt: bool = False) -> StoreCheck:
    corrupt: list[str] = []
    count = 0
    for digest, path in store.iter_objects():
        count += 1
        try:
            ok = hash_file(path, digest.algorithm) == digest
        except OSError:
            ok = False
        if not ok:
            corrupt.append(digest.key)
            if remove_corrupt:
                store.evict(digest)
    return StoreCheck(count, tuple(corrupt))


@dataclass(frozen=True)
class GcReport:
    projects: tuple[Path, ...]
    kept: int
    removed: int
    freed_bytes: int
    forgotten: tuple[Path, ...]  # registered projects that no longer exist


def referenced_digests(projects: list[Path]) -> tuple[set[Digest], list[Path], list[Path]]:
    """Digests referenced by the locks of ``projects``; also which projects are alive or gone."""
    wanted: set[Digest] = set()
    alive: list[Path] = []
    gone: list[Path] = []
    for root in projects:
        try:
            lock = read_lock(root / LOCK_NAME)
        except ModelpmError:
            # We cannot tell what that project needs: refuse rather than delete its files.
            raise ModelpmError(
                f"cannot read {root / LOCK_NAME}; refusing to collect garbage",
                hint="fix or remove that lock, then run `modelpm store gc` again",
            ) from None
        if lock is None:
            gone.append(root)
            continue
        alive.append(root)
        wanted.update(item.digest for model in lock.models for item in model.files)
    return wanted, alive, gone


def collect_garbage(store: Store, *, dry_run: bool = False) -> GcReport:
    wanted, alive, gone = referenced_digests(store.projects())
    removed = kept = freed = 0
    for digest, path in list(store.iter_objects()):
        if digest in wanted:
            kept += 1
            continue
        with store.locked(digest):
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue
            if not dry_run:
                store.evict(digest)
                store.discard_partial(digest)
        removed += 1
        freed += size
    partial_dir = store.root / "partial"
    if partial_dir.is_dir() and not dry_run:
        for partial in partial_dir.glob("*.part"):
            key = partial.name.removesuffix(".part")
            algorithm, _, hexdigest = key.partition("-")
            with contextlib.suppress(ValueError):
                digest = Digest.parse(algorithm, hexdigest)
                if digest not in wanted:
                    with store.locked(digest):
                        store.discard_partial(digest)
    if not dry_run:
        for root in gone:
            store.forget_project(root)
    return GcReport(tuple(alive), kept, removed, freed, tuple(gone))
