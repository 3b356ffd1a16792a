"""Lines the command prints on both paths: the fast no-op answer and the full CLI.

Imports nothing (not typer, not rich): :mod:`modelpm.entry` prints from here
before the CLI framework loads.
"""

from __future__ import annotations


def noop_message(files_in_place: int) -> str:
    """What a sync with nothing to do says."""
    if files_in_place == 0:
        return "nothing to sync: no model selected (add one with `modelpm add <org>/<repo>`)"
    return f"everything is in place ({files_in_place} files)"
