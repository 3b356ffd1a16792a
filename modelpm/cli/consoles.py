"""The two consoles every command prints through.

Imports rich and nothing of typer: :mod:`modelpm.entry` prints through them before the
CLI framework loads.
"""

from __future__ import annotations

import sys

from rich.console import Console

stderr = Console(stderr=True, highlight=False, soft_wrap=True)
# A pipe or a CI log gets one line per row, however long: never a table wrapped at 80.
stdout = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 500)
