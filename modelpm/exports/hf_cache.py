"""Locked files in the official client's cache layout, hard-linked from the store.

The layout ``huggingface_hub`` reads (shared/hub-protocol.md §8)::

    <cache>/models--<org>--<name>/          datasets--…, spaces--… for other repo types
        blobs/<etag>                         the bytes: a hard link to the store object
        snapshots/<commit>/<path>            -> ../../blobs/<etag> (relative symlink)
        refs/<revision>                      the commit, no newline (refs/feature/x nested)

The etag is what the Hub's ``HEAD /resolve`` answers and the client names blobs
by: the sha256 for LFS files, the git blob sha1 for the rest, which is exactly
the hash the lock pins for a Hub file, so a blob's name is its lock hash.

Invariants: only the folders of exported repos are written, and in them only the
blobs, snapshot entries and refs of locked files (another snapshot, blob or ref,
the client's own ``.no_exist/`` and ``trees/``, and every other repo of the cache
are left alone); each write is atomic (temp name, then rename), and an entry
already right is not rewritten, so exporting twice changes nothing. Where the
file system refuses symlinks, the snapshot entry is a hard link to the blob (the
client copies there).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from modelpm.fs.atomic import atomic_write_text, temp_sibling
from modelpm.fs.errors import storage_errors
from modelpm.paths import join_inside
from modelpm.place.links import place_file
from modelpm.values import Digest, RepoRef, is_commit


@dataclass(frozen=True)
class CacheFile:
    """One locked file and the verified store object holding its bytes."""

    path: str
    digest: Digest
    source: Path


@dataclass
class ExportCounts:
    written: int = 0  # blobs or snapshot entries created or corrected
    kept: int = 0  # already right
    copied: int = 0  # blobs copied because the file system refused a hard link


def repo_folder(cache: Path, ref: RepoRef) -> Path:
    """``<cache>/models--org--name``, as ``huggingface_hub`` names a repo's folder."""
    return cache / f"{ref.repo_type}s--{ref.repo.replace('/', '--')}"


def export_repo(
    cache: Path, ref: RepoRef, commit: str, revisions: Iterable[str], files: Iterable[CacheFile]
) -> ExportCounts:
    """Put ``files`` of ``ref`` at ``commit`` in ``cache``; point ``revisions`` at it."""
    assert is_commit(commit), commit
    folder = repo_folder(cache, ref)
    counts = ExportCounts()
    snapshot = folder / "snapshots" / commit
    for item in files:
        blob = folder / "blobs" / item.digest.hexdigest
        _blob(item.source, blob, counts)
        _entry(join_inside(snapshot, item.path), blob, counts)
    for revision in sorted(set(revisions)):
        if revision != commit:
            _ref(join_inside(folder / "refs", revision), commit, counts)
    return counts


def _blob(source: Path, blob: Path, counts: ExportCounts) -> None:
    with contextlib.suppress(OSError):
        if os.path.samefile(source, blob):
            counts.kept += 1
            return
    # Absent, or another copy of the same bytes (its name is their hash): link ours instead.
    blob.parent.mkdir(parents=True, exist_ok=True)
    how, _placed = place_file(source, blob.parent, blob.name)
    if how != "hardlink":
        counts.copied += 1
    counts.written += 1


def _entry(entry: Path, blob: Path, counts: ExportCounts) -> None:
    target = os.path.relpath(blob, entry.parent)
    with contextlib.suppress(OSError):
        if os.readlink(entry) == target:
            counts.kept += 1
            return
    with contextlib.suppress(OSError):
        if not entry.is_symlink() and os.path.samefile(entry, blob):
            counts.kept += 1  # a hard link made where symlinks are refused
            return
    with storage_errors(entry, "place"):
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_sibling(entry)
        try:
            try:
                os.symlink(target, tmp)
            except OSError:
                os.link(blob, tmp)
            os.replace(tmp, entry)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    counts.written += 1


def _ref(path: Path, commit: str, counts: ExportCounts) -> None:
    with contextlib.suppress(OSError):
        if path.read_text(encoding="utf-8") == commit:
            return
    atomic_write_text(path, commit)


@dataclass
class Keep:
    """What a pruned cache keeps of one repo folder."""

    commits: set[str]
    refs: set[str]
    blobs: set[str]


def prune_cache(cache: Path, keep: dict[Path, Keep]) -> int:
    """Remove what ``keep`` does not name: other repo folders, snapshots, refs and blobs.

    For a cache modelpm owns (``modelpm run``'s), so that exactly the locked files
    load by repo id. Returns how many entries were removed.
    """
    import shutil

    removed = 0
    for folder in sorted(cache.glob("*--*")) if cache.is_dir() else []:
        wanted = keep.get(folder)
        if wanted is None:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
            continue
        for snapshot in sorted((folder / "snapshots").glob("*")):
            if snapshot.name not in wanted.commits:
                shutil.rmtree(snapshot, ignore_errors=True)
                removed += 1
        refs = folder / "refs"
        for ref in sorted(refs.rglob("*")) if refs.is_dir() else []:
            if ref.is_file() and ref.relative_to(refs).as_posix() not in wanted.refs:
                ref.unlink()
                removed += 1
        for blob in sorted((folder / "blobs").glob("*")):
            if blob.name not in wanted.blobs:
                blob.unlink()
                removed += 1
        for extra in (".no_exist", "trees"):
            if (folder / extra).exists():
                shutil.rmtree(folder / extra, ignore_errors=True)
    return removed
