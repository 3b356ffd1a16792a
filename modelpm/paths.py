"""Rules for names and paths that come from a hub or a hand-edited file, before use.

A repo path is attacker-controlled input (a tampered mirror can list anything),
so it is checked once, at the edge, and only a path that passes may be joined
to a destination folder: relative, '/'-separated, no '..', no empty or '.'
part, no backslash, NUL or control character, and no part longer than the
file systems we target allow.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

MAX_PART_BYTES = 255
MAX_PATH_BYTES = 4096
# Larger than any file a hub serves (256 TiB), small enough for every size arithmetic and
# file-system call: a listing or lock claiming more is refused, not carried to a crash.
MAX_FILE_SIZE = 1 << 48
# Folder names that belong to tools, never to a model: git runs what `.git/config` says.
RESERVED_PARTS = frozenset({".git"})
# The Hub's own rule: letters, digits, '-', '_', '.'; no '--' or '..'; '-' and
# '.' never first or last; at most 96 characters; an optional 'org/' prefix.
_REPO_PART = r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?"
_REPO_ID = re.compile(rf"^(?:{_REPO_PART}/)?{_REPO_PART}$")
# One scan each, in C: every path of a 50,000-file lock is checked on every no-op sync.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BAD_PART = re.compile(r"(?:^|/)(?:\.{0,2})(?:/|$)")
_RESERVED = re.compile(
    "(?:^|/)(?:" + "|".join(map(re.escape, sorted(RESERVED_PARTS))) + ")(?:/|$)", re.IGNORECASE
)


def is_repo_id(value: str) -> bool:
    """True for a repo id the Hub accepts (``org/name`` or ``name``)."""
    return (
        len(value) <= 96 and bool(_REPO_ID.match(value)) and "--" not in value and ".." not in value
    )


def check_repo_path(path: str) -> str:
    """Return ``path`` if it is safe to place under a destination; raise ValueError otherwise."""
    if not path:
        raise ValueError("empty file path")
    if _CONTROL.search(path):
        raise ValueError(f"file path {_shown(path)} contains a control character")
    if "\\" in path:
        raise ValueError(f"file path {_shown(path)} contains a backslash")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise ValueError(f"file path {_shown(path)} is absolute")
    if _BAD_PART.search(path):
        raise ValueError(f"file path {_shown(path)} has an empty, '.' or '..' part")
    if _RESERVED.search(path):  # in any case: '.GIT' is '.git' on a case-blind disk
        raise ValueError(f"file path {_shown(path)} is inside a .git folder")
    size = len(path.encode())
    if size > MAX_PATH_BYTES or (
        size > MAX_PART_BYTES
        and any(len(part.encode()) > MAX_PART_BYTES for part in path.split("/"))
    ):
        raise ValueError(f"file path {_shown(path)} is too long")
    return path


# What a bad part looks like in paths joined by "\n" and wrapped in "\n": an empty, '.' or
# '..' part between two separators, and a '.git' part (in lowercase ASCII text).
_BAD_PART_TEXTS = tuple(
    f"{before}{part}{after}" for part in ("", ".", "..") for before in "/\n" for after in "/\n"
)
_RESERVED_TEXTS = tuple(
    f"{before}{part}{after}"
    for part in sorted(RESERVED_PARTS)
    for before in "/\n"
    for after in "/\n"
)


def check_repo_paths(paths: Sequence[str]) -> None:
    """:func:`check_repo_path` of each path, in order, mostly as a few scans of all of them
    at once: a 50,000-file lock is read on every ``sync``, ``status`` and ``verify``.

    The scans can only err towards suspicion (any non-ASCII, ':' or long path counts as
    suspect); then every path is checked alone, so the first bad one raises exactly what
    :func:`check_repo_path` says of it."""
    if not paths:
        return
    if not _surely_safe(paths):
        for path in paths:
            check_repo_path(path)


def _surely_safe(paths: Sequence[str]) -> bool:
    # Printable ASCII has no control character (and no "\n" to blur the joins), and one
    # character is one byte: then the longest path bounds every part's length.
    if not all(map(str.isprintable, paths)):
        return False
    wrapped = "\n" + "\n".join(paths) + "\n"
    if not wrapped.isascii() or "\\" in wrapped or ":" in wrapped:
        return False
    if max(map(len, paths)) > MAX_PART_BYTES:
        return False
    if any(text in wrapped for text in _BAD_PART_TEXTS):
        return False  # also an empty path, and an absolute one ("\n/")
    lowered = wrapped.lower()
    return not any(text in lowered for text in _RESERVED_TEXTS)


def _shown(path: str) -> str:
    return repr(path[:80] + ("…" if len(path) > 80 else ""))


def check_size(size: object, path: str) -> int:
    """Return ``size`` if it is a plausible file size; raise ValueError otherwise."""
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_FILE_SIZE:
        raise ValueError(f"file {path!r} has an invalid size")
    return size


class TreeError(ValueError):
    """Paths that no folder can hold at once: ``str()`` reads "'a' twice" or "'a' both as a
    file and as a folder"."""

    def __init__(self, path: str, how: str) -> None:
        super().__init__(f"{path!r} {how}")
        self.path = path
        self.how = how


def check_tree(paths: Iterable[str]) -> None:
    """Raise :class:`TreeError` if a path is listed twice, or as a file and as a folder at
    once (``a`` and ``a/b.json``: the lock could never be placed)."""
    listed = list(paths)
    seen = set(listed)
    if len(seen) != len(listed):
        once: set[str] = set()
        for path in listed:
            if path in once:
                raise TreeError(path, "twice")
            once.add(path)
    # Every folder is a parent of a path or a folder of a parent; files share parents, so
    # the folders are found from the few distinct parents, not from every path.
    folders: set[str] = set()
    for parent in {path.rpartition("/")[0] for path in listed}:
        while parent and parent not in folders:
            folders.add(parent)
            parent = parent.rpartition("/")[0]
    clashes = seen & folders
    if clashes:
        raise TreeError(min(clashes), "both as a file and as a folder")


def join_inside(root: Path, repo_path: str) -> Path:
    """``root / repo_path`` after checking ``repo_path``; the result is always inside ``root``."""
    # A checked path is '/'-separated with no '.', '..' or empty part: exactly how a
    # POSIX path parses it, so it is joined as it is.
    return root / check_repo_path(repo_path)


def outside_of(root: Path, path: Path) -> Path | None:
    """Where ``path`` really leads if a symbolic link on the way takes it out of ``root``.

    Manifest and hub paths are checked as text; this is the check on disk, for a link a
    user (or anyone with write access to the project) put in a destination's way.
    """
    try:
        real_root = root.resolve()
        real = path.resolve()
    except (OSError, RuntimeError):  # a symbolic link loop: it leads nowhere we may write
        return path
    if real == real_root or real_root in real.parents:
        return None
    return real
