"""The ``modelpm`` app: every command module registered on one typer app.

Commands are plain functions in :mod:`~modelpm.cli.project_cmds`,
:mod:`~modelpm.cli.edit_cmds`, :mod:`~modelpm.cli.publish_cmd` and
:mod:`~modelpm.cli.store_cmds`; this module
registers them (in the order ``--help`` lists them) and is the console-script
target behind :mod:`modelpm.entry`.
"""

from __future__ import annotations

import sys

import typer

from modelpm.cli import audit_cmds, edit_cmds, export_cmds, project_cmds, publish_cmd, store_cmds
from modelpm.cli.common import Command, ExportGroup, stderr

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


def _print_version(value: bool) -> None:
    if value:
        from modelpm.version import version_line

        print(version_line())
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    pass


app.command(cls=Command)(project_cmds.lock)
app.command(cls=Command)(project_cmds.sync)
app.command(cls=Command)(project_cmds.verify)
app.command(cls=Command)(project_cmds.status)
app.command("list", cls=Command)(project_cmds.list_models)
app.command(cls=Command)(edit_cmds.init)
app.command(cls=Command)(edit_cmds.add)
app.command(cls=Command)(edit_cmds.remove)
app.command(cls=Command)(project_cmds.outdated)
app.command(cls=Command)(publish_cmd.publish)

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

# Issue 12: what could run code, and the locked models for tools that load by repo id.
app.command(cls=Command)(audit_cmds.audit)
export_app = typer.Typer(
    cls=ExportGroup,
    help="The locked models in layouts other tools read.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
export_app.command("hf-cache", cls=Command)(export_cmds.hf_cache)
export_app.command("s3", cls=Command)(export_cmds.s3)
app.add_typer(export_app, name="export")
app.command(
    "run",
    cls=Command,
    context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True},
)(export_cmds.run_command)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - Ctrl-C outside any command body
        stderr.print("error: interrupted")
        sys.exit(130)
