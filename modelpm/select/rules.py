"""What every layout rule shares: the listing it sees, what it decides, and its refusal.

A rule (:mod:`~modelpm.select.transformers`, :mod:`~modelpm.select.diffusers`,
:mod:`~modelpm.select.sentence_transformers`, :mod:`~modelpm.select.gguf`) is a
pure function of the listed paths (and of small files it asks ``read`` for)
that returns a :class:`Decision`: the paths it leaves out, each with a reason,
and notes for the user. A repo that does not fit the choice is a :class:`NoFit`
(message and hint), which the resolver turns into an error naming the model.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

Reader = Callable[[str], bytes]
"""The verified bytes of a listed file (shard indexes, ``model_index.json``, …)."""

MAX_READ = 16 * 1024 * 1024  # the largest small file a rule reads (a 1T model's index is ~2 MB)


class NoFit(Exception):
    """The repo does not fit what the table asks for."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass
class Decision:
    """Paths left out (with the reason shown to the user) and notes."""

    drop: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def merge(self, other: Decision) -> None:
        for path, reason in other.drop.items():
            self.drop.setdefault(path, reason)
        self.notes.extend(other.notes)


@dataclass(frozen=True)
class Listing:
    """The paths of one commit, and a way to read the small ones."""

    paths: Collection[str]
    sizes: dict[str, int]
    read: Reader

    def json(self, path: str) -> Any:
        """The JSON document at ``path``; :class:`NoFit` if it is too large or not JSON."""
        if self.sizes.get(path, 0) > MAX_READ:
            raise NoFit(f"{path} is too large to be a metadata file", hint=ALL_HINT)
        try:
            return json.loads(self.read(path))
        except (UnicodeDecodeError, ValueError) as exc:
            raise NoFit(f"{path} is not valid JSON ({exc})", hint=ALL_HINT) from None


ALL_HINT = 'set weights = "all" to take every file, and pick files with include/exclude'
