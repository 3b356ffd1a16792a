"""The ``modelpm`` app: every command module registered on one typer app.

Commands are plain functions in :mod:`~modelpm.cli.project_cmds`,
:mod:`~modelpm.cli.edit_cmds` and :mod:`~modelpm.cli.store_cmds`; this module
registers them (in the order ``--help`` lists them) and is the console-script
target behind :mod:`modelpm.entry`.
"""

from __future__ import annotations

import sys

import typer

from modelpm.cli import edit_cmds, export_cmds, project_cmds, store_cmds
from modelpm.cli.common import Command, stderr

app = typer.Typer(
    name="modelpm",
    help=(
        "A package manager for machine-learning models.\n\n"
        "Declare models in models.toml, pin them in models.lock, and sync verified "
        "files into your project.\n\n"
        "\b\n"
        "  modelpm lock     resolve revisions to commits; record every file's size and hash\n"
        "  modelpm sync     download what is missing, verify every byte, place the files\n"
        "  modelpm verify   re-hash placed files against the lock\n"
        "  modelpm status   one row per model"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command(cls=Command)(project_cmds.lock)
app.command(cls=Command)(project_cmds.sync)
app.command(cls=Command)(project_cmds.verify)
app.command(cls=Command)(project_cmds.status)
app.command("list", cls=Command)(project_cmds.list_models)
app.command(cls=Command)(edit_cmds.init)
app.command(cls=Command)(edit_cmds.add)
app.command(cls=Command)(edit_cmds.remove)
app.command(cls=Command)(project_cmds.outdated)
app.command(cls=Command)(export_cmds.export)

store_app = typer.Typer(
    help="The content-addressed store shared by your projects.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
store_app.command(cls=Command)(store_cmds.path)
store_app.command(cls=Command)(store_cmds.verify)
store_app.command(cls=Command)(store_cmds.gc)
store_app.command(cls=Command)(store_cmds.push)
app.add_typer(store_app, name="store")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - Ctrl-C outside any command body
        stderr.print("error: interrupted")
        sys.exit(130)
