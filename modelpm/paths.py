"""Rules for file paths that come from a hub, before they touch the disk.

A repo path is attacker-controlled input (a tampered mirror can list anything),
so it is checked once, at the edge, and only a path that passes may be joined
to a destination folder: relative, '/'-separated, no '..', no empty or '.'
part, no backslash, NUL or control character, and no part longer than the
file systems we target allow.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

MAX_PART_BYTES = 255
MAX_PATH_BYTES = 4096


def check_repo_path(path: str) -> str:
    """Return ``path`` if it is safe to place under a destination; raise ValueError otherwise."""
    shown = repr(path[:80] + ("…" if len(path) > 80 else ""))
    if not path:
        raise ValueError("empty file path")
    if any(ord(char) < 32 or ord(char) == 127 for char in path):
        raise ValueError(f"file path {shown} contains a control character")
    if "\\" in path:
        raise ValueError(f"file path {shown} contains a backslash")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise ValueError(f"file path {shown} is absolute")
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"file path {shown} has an empty, '.' or '..' part")
    if len(path.encode()) > MAX_PATH_BYTES or any(
        len(part.encode()) > MAX_PART_BYTES for part in parts
    ):
        raise ValueError(f"file path {shown} is too long")
    return path


def join_inside(root: Path, repo_path: str) -> Path:
    """``root / repo_path`` after checking ``repo_path``; the result is always inside ``root``."""
    return root.joinpath(*PurePosixPath(check_repo_path(repo_path)).parts)
