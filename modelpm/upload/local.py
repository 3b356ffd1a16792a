"""The folder being published: which of its files go up, and each one's two hashes.

Never uploaded, whatever the patterns say::

    .git/  .cache/           the official client refuses both (and .cache/huggingface
                             holds its download records)
    .modelpm/  the store     modelpm's own records and objects
    __pycache__/  .ipynb_checkpoints/
    *~  *.swp  *.swo  .#*  #*#  .DS_Store  Thumbs.db     editor and desktop droppings
    .modelpm-tmp-*           modelpm's half-written temp files
    a symbolic link that leads out of the folder

Then ``--include``/``--exclude`` select, with the manifest's pattern rules, on the
path relative to the folder. Each selected file is hashed once, in one pass, both
ways a hub may attest it (sha256 for LFS files, the git blob id for the rest), since
which one the hub uses is known only from its listing. Invariant: every path passes
:func:`modelpm.paths.check_repo_path`, so what is uploaded can be placed again.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from modelpm.errors import UsageError
from modelpm.fs.atomic import TEMP_PREFIX
from modelpm.fs.errors import storage_errors
from modelpm.hashing import block_buffer, new_hasher
from modelpm.paths import check_repo_path, outside_of
from modelpm.select.patterns import is_selected
from modelpm.values import Digest, HashAlgorithm

IGNORED_FOLDERS = frozenset({".git", ".cache", ".modelpm", "__pycache__", ".ipynb_checkpoints"})
IGNORED_NAMES = ("*~", "*.swp", "*.swo", ".#*", "#*#", ".DS_Store", "Thumbs.db", TEMP_PREFIX + "*")


@dataclass(frozen=True)
class LocalFile:
    """A file to publish: its repo path, where it is, and both hashes of its bytes."""

    path: str
    source: Path
    size: int
    sha256: Digest
    git_sha1: Digest

    def digest(self, algorithm: HashAlgorithm) -> Digest:
        return self.sha256 if algorithm == "sha256" else self.git_sha1


def is_ignored(relative: str) -> bool:
    """True for a path (relative, '/'-separated) that is never uploaded."""
    *folders, name = relative.split("/")
    return any(part in IGNORED_FOLDERS for part in folders) or any(
        fnmatchcase(name, pattern) for pattern in IGNORED_NAMES
    )


def select_files(
    folder: Path,
    include: Sequence[str] | None,
    exclude: Sequence[str],
    *,
    skip: Sequence[Path] = (),
) -> list[tuple[str, Path]]:
    """(repo path, file) of every file of ``folder`` to publish, sorted by path.

    ``skip``: folders never to enter (the store, when it lies inside ``folder``).
    """
    root = folder.resolve()
    skipped = {path.resolve() for path in skip}
    found: list[tuple[str, Path]] = []
    with storage_errors(folder, "read"):
        for current, dirs, names in os.walk(root):
            here = Path(current)
            dirs[:] = sorted(
                name
                for name in dirs
                if name not in IGNORED_FOLDERS
                and (here / name).resolve() not in skipped
                and not (here / name).is_symlink()
            )
            for name in sorted(names):
                path = here / name
                relative = path.relative_to(root).as_posix()
                if is_ignored(relative) or not path.is_file():
                    continue
                if path.is_symlink() and outside_of(root, path) is not None:
                    continue
                if not is_selected(relative, include, exclude):
                    continue
                try:
                    check_repo_path(relative)
                except ValueError as exc:
                    raise UsageError(
                        f"cannot publish {path}: {exc}", hint="rename it, or --exclude it"
                    ) from None
                found.append((relative, path))
    return sorted(found)


def hash_local(path: str, source: Path) -> LocalFile:
    """``source`` read once, hashed both ways."""
    with storage_errors(source, "read"), source.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        sha256, git_sha1 = new_hasher("sha256", size), new_hasher("git-sha1", size)
        buffer = block_buffer(size)
        view = memoryview(buffer)
        read = 0
        while count := handle.readinto(buffer):
            sha256.update(view[:count])
            git_sha1.update(view[:count])
            read += count
    if read != size:
        raise UsageError(
            f"{source} changed while it was read", hint="publish when nothing writes the folder"
        )
    return LocalFile(
        path,
        source,
        size,
        Digest("sha256", sha256.hexdigest()),
        Digest("git-sha1", git_sha1.hexdigest()),
    )
