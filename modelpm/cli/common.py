"""What every command shares: the consoles, the shared options, help without type noise,
and the one fatal path.

Every failure a user can cause or meet reaches :func:`run` as a
:class:`~modelpm.errors.ModelpmError` and leaves as ``error: <message>`` and
``hint: <hint>`` on stderr and the error's exit code (0 ok, 1 failed, 2 bad
input, 130 interrupted). Never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from modelpm.cli.consoles import INTERRUPTED, print_failure, stderr, stdout
from modelpm.errors import ModelpmError
from modelpm.sizes import human_size

__all__ = ["human_size", "stderr", "stdout"]  # shared with the commands

if TYPE_CHECKING:  # typer vendors click; these are its types
    from typer._click.core import Context, Parameter
    from typer._click.formatting import HelpFormatter

T = TypeVar("T")

ProjectOption = Annotated[
    Path | None,
    typer.Option(
        "--project",
        metavar="DIR",
        help="Project folder (default: the nearest folder upward holding models.toml).",
        show_default=False,
    ),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
VerboseOption = Annotated[
    bool, typer.Option("--verbose", "-v", help="Print retries and per-file detail.")
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Print what would be done; write nothing.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]
NamesArgument = Annotated[
    list[str] | None,
    typer.Argument(metavar="NAME", help="Model names (default: all).", show_default=False),
]
JobsOption = Annotated[
    int | None,
    typer.Option(
        "--jobs", "-j", metavar="N", help="Files downloaded in parallel (default 8).", min=1
    ),
]


def fail(error: ModelpmError) -> NoReturn:
    raise typer.Exit(print_failure(error))


def run(action: Callable[[], T]) -> T:
    """Run ``action``; every failure a user can meet becomes one or two lines and an exit code."""
    try:
        return action()
    except ModelpmError as error:
        fail(error)
    except KeyboardInterrupt:
        fail(INTERRUPTED)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


class Command(typer.core.TyperCommand):
    """A command whose help names arguments as users write them: ``add [OPTIONS] REPO``,
    ``sync [OPTIONS] [NAME]...``, never ``{REPO}`` or ``NAME <list[str]>``."""

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                pieces.append(_usage_name(param))
        return pieces

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        arguments: list[tuple[str, str]] = []
        options: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append((_argument_name(param), record[1]))
            else:
                options.append(record)
        if arguments:
            with formatter.section("Arguments"):
                formatter.write_dl(arguments)
        if options:
            with formatter.section("Options"):
                formatter.write_dl(options)


def _argument_name(param: Parameter) -> str:
    name = param.metavar or (param.name or "").upper()
    return f"{name}..." if param.nargs != 1 else name


def _usage_name(param: Parameter) -> str:
    name = _argument_name(param)
    if param.required:
        return name
    return f"[{name}]" if param.nargs == 1 else f"[{name.removesuffix('...')}]..."


class ExportGroup(typer.core.TyperGroup):
    """``modelpm export``: a target names its kind, so ``export s3://bucket/prefix/NAME``
    means ``export s3 s3://bucket/prefix/NAME`` (both spellings work)."""

    def resolve_command(
        self, ctx: Context, args: list[str]
    ) -> tuple[str | None, typer.core.TyperCommand | None, list[str]]:
        if args and args[0].startswith("s3://"):
            command = self.get_command(ctx, "s3")
            if isinstance(command, typer.core.TyperCommand):
                return "s3", command, args
        name, command, rest = super().resolve_command(ctx, args)
        return name, command if isinstance(command, typer.core.TyperCommand) else None, rest
