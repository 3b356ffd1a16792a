"""Include/exclude filtering of repo paths, with the official client's semantics.

``fnmatchcase`` on the whole repo path, so ``*`` crosses ``/`` (``*.json``
matches ``sub/a.json``); a pattern ending in ``/`` selects a folder (``*`` is
appended); ``\\`` is read as ``/`` in patterns and paths. A path is selected
when it matches an include pattern (or there are none) and no exclude pattern.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase


def _normalise(pattern: str) -> str:
    pattern = pattern.replace("\\", "/")
    return pattern + "*" if pattern.endswith("/") else pattern


def is_selected(path: str, include: Sequence[str] | None, exclude: Sequence[str]) -> bool:
    path = path.replace("\\", "/")
    if include is not None and not any(fnmatchcase(path, _normalise(p)) for p in include):
        return False
    return not any(fnmatchcase(path, _normalise(p)) for p in exclude)


def select(
    paths: Iterable[str], include: Sequence[str] | None, exclude: Sequence[str]
) -> list[str]:
    return [path for path in paths if is_selected(path, include, exclude)]
