"""The two consoles every command prints through, and the lines a failure prints.

Imports rich and nothing of typer: :mod:`modelpm.entry` prints through them before the
CLI framework loads.
"""

from __future__ import annotations

import sys

from rich.console import Console

from modelpm.errors import Interrupted, ModelpmError
from modelpm.redact import scrub

stderr = Console(stderr=True, highlight=False, soft_wrap=True)
# A pipe or a CI log gets one line per row, however long: never a table wrapped at 80.
stdout = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 500)

# What Ctrl-C during a command reports (it leaves every placed file and the store intact).
INTERRUPTED = Interrupted("interrupted; nothing was lost", hint="run the command again to resume")


def print_failure(error: ModelpmError) -> int:
    """Print ``error`` as one line and its hint; the exit code it asks for."""
    # Messages may carry text a server chose: the last guard against escapes and secrets.
    stderr.print(f"error: {scrub(error.message)}", markup=False)
    if error.hint:
        stderr.print(f"hint: {scrub(error.hint)}", markup=False)
    return error.exit_code
