"""Remote store upkeep: ``store verify --remote`` and ``store gc --remote LOCKFILE…``.

``verify`` reads every object under ``objects/`` and hashes it against its
key; a bad one is named (and deleted with ``remove``). ``gc`` deletes the
objects that none of the given locks references: a team bucket serves many
projects, so the caller names every lock to keep, and without one nothing is
deleted. Keys under the prefix that are not object keys (nothing modelpm
wrote) are left alone. Only objects are ever deleted, never the marker.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from modelpm.hashing import new_hasher
from modelpm.lockfile.model import Lock
from modelpm.store.remote.handle import Remote
from modelpm.values import Digest


@dataclass
class RemoteCheck:
    objects: int = 0
    bad: list[str] = field(default_factory=list)  # s3:// URLs of objects that do not match

    @property
    def passed(self) -> bool:
        return not self.bad


def verify_remote(remote: Remote, *, remove: bool = False) -> RemoteCheck:
    client = remote.client
    check = RemoteCheck()
    for listed in list(client.listing()):
        if listed.digest is None:
            continue
        check.objects += 1
        hasher = new_hasher(listed.digest.algorithm, listed.size)
        for chunk in client.read(listed.digest):
            hasher.update(chunk)
        if hasher.hexdigest() != listed.digest.hexdigest:
            check.bad.append(remote.address.url_of(listed.digest))
            if remove:
                client.delete(listed.digest)
    return check


@dataclass(frozen=True)
class RemoteGcReport:
    kept: int
    removed: int
    freed_bytes: int


def referenced(locks: Iterable[Lock]) -> set[Digest]:
    return {item.digest for lock in locks for model in lock.models for item in model.files}


def collect_remote_garbage(
    remote: Remote, keep: set[Digest], *, dry_run: bool = False
) -> RemoteGcReport:
    """Delete every object whose digest is not in ``keep`` (the caller refuses an empty
    list of locks before it gets here)."""
    client = remote.client
    kept = removed = freed = 0
    for listed in list(client.listing()):
        if listed.digest is None:
            continue
        if listed.digest in keep:
            kept += 1
            continue
        if not dry_run:
            client.delete(listed.digest)
        removed += 1
        freed += listed.size
    return RemoteGcReport(kept, removed, freed)
