"""How ``modelpm status`` prints its rows: a table, or JSON with ``--json``.

Imports rich and nothing of typer: :mod:`modelpm.entry` prints a synced project's status
from here before the CLI framework loads, and the full CLI prints from here too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict

from rich.table import Table

from modelpm.cli.consoles import stdout
from modelpm.sizes import human_size
from modelpm.workflow.results import ModelStatus

_COLUMNS = ("name", "repo", "revision", "files", "size", "state")


def print_status(rows: Sequence[ModelStatus], json_output: bool) -> None:
    if json_output:
        stdout.print_json(json.dumps([asdict(row) for row in rows]))
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in _COLUMNS:
        table.add_column(column, justify="right" if column in ("files", "size") else "left")
    for row in rows:
        commit = row.commit[:7] if row.commit else "-"
        table.add_row(
            row.name,
            row.repo if row.repo_type == "model" else f"{row.repo} ({row.repo_type})",
            f"{row.revision} → {commit}",
            str(row.files),
            human_size(row.size),
            row.describe(),
        )
    stdout.print(table)
