"""The ``modelpm`` command: a thin typer layer over :mod:`modelpm.api`.

Owns argument parsing, rendering (rich tables, progress, JSON) and the one
place where errors become output: ``error: <message>`` and ``hint: <hint>``
on stderr and the error's exit code (0 ok, 1 failed, 2 bad input, 130
interrupted). Nothing here is needed by a library user; nothing imports it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from modelpm import api, api_edit
from modelpm.entry import noop_message
from modelpm.errors import Interrupted, ModelpmError
from modelpm.render import ProgressReporter, human_size
from modelpm.verification import VerifyReport

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

stderr = Console(stderr=True, highlight=False, soft_wrap=True)
# A pipe or a CI log gets one line per row, however long: never a table wrapped at 80.
stdout = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 500)

T = TypeVar("T")


def _fail(error: ModelpmError) -> NoReturn:
    stderr.print(f"error: {error.message}", markup=False)
    if error.hint:
        stderr.print(f"hint: {error.hint}", markup=False)
    raise typer.Exit(error.exit_code)


def _run(action: Callable[[], T]) -> T:
    """Run ``action``; every failure a user can meet becomes one or two lines and an exit code."""
    try:
        return action()
    except ModelpmError as error:
        _fail(error)
    except KeyboardInterrupt:
        _fail(Interrupted("interrupted; nothing was lost", hint="run the command again to resume"))


@app.command()
def lock(
    project: ProjectOption = None,
    upgrade: Annotated[
        bool, typer.Option("--upgrade", "-U", help="Re-resolve every branch and tag.")
    ] = False,
    upgrade_model: Annotated[
        list[str] | None,
        typer.Option("--upgrade-model", "-P", metavar="NAME",
                     help="Re-resolve this model (repeatable)."),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if models.lock is stale; write nothing.")
    ] = False,
    quiet: QuietOption = False,
) -> None:
    """Resolve models.toml into models.lock.

    Entries that are new or changed are resolved (revision → commit, every selected file with
    its size and hash); unchanged entries keep their pins without asking the hub.

    \b
    Examples:
      modelpm lock
      modelpm lock --upgrade-model bert
      modelpm lock --check      # in CI
    """
    result = _run(
        lambda: api.lock(project, upgrade=upgrade, upgrade_models=upgrade_model or (), check=check)
    )
    if quiet:
        return
    if check:
        stderr.print("models.lock is up to date")
        return
    for name in result.resolved:
        model = result.lock.get(name)
        assert model is not None
        stderr.print(
            f"locked {name}: {model.repo} @ {model.revision} → {model.commit[:12]} "
            f"({len(model.files)} files, {human_size(model.total_size)})"
        )
    for name in result.removed:
        stderr.print(f"removed {name} from models.lock")
    if not result.written:
        stderr.print("models.lock is up to date")


@app.command()
def sync(
    names: NamesArgument = None,
    project: ProjectOption = None,
    locked: Annotated[
        bool, typer.Option("--locked", help="Fail if models.lock is stale instead of locking.")
    ] = False,
    frozen: Annotated[
        bool, typer.Option("--frozen", help="Use models.lock as is; do not compare it.")
    ] = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="No network: use placed files and the store only.")
    ] = False,
    jobs: JobsOption = None,
    connections: Annotated[
        int | None,
        typer.Option(
            "--connections",
            metavar="N",
            help="Connections per large file (default 16); large files downloading at once "
            "share them.",
            min=1,
        ),
    ] = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Download what is missing, verify every byte, place the files.

    Locks first if models.lock is stale (unless --locked or --frozen). A second sync on a
    synced project makes no network request.

    \b
    Examples:
      modelpm sync
      modelpm sync bert --locked      # in CI
      modelpm sync --offline
    """
    reporter = ProgressReporter(stderr, quiet=quiet, verbose=verbose)
    try:
        result = _run(
            lambda: api.sync(
                names or (),
                project=project,
                locked=locked,
                frozen=frozen,
                offline=offline,
                jobs=jobs,
                connections=connections,
                reporter=reporter,
            )
        )
    finally:
        reporter.close()
    if quiet:
        return
    if result.lock is not None:
        for name in result.lock.resolved:
            stderr.print(f"locked {name}")
    report = result.report
    for note in report.notes:
        stderr.print(f"warning: {note}", markup=False)
    if result.plan.is_noop:
        stderr.print(noop_message(report.kept), markup=False)
        return
    reporter.summary(report)


@app.command()
def verify(
    names: NamesArgument = None,
    project: ProjectOption = None,
    json_output: JsonOption = False,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", metavar="N", help="Files hashed in parallel (default 4).",
                     min=1),
    ] = None,
) -> None:
    """Re-hash placed files against models.lock.

    Exit 0 when every file matches; exit 1 naming each missing, modified or unexpected
    file. `modelpm sync` restores missing and modified files; unexpected files are yours,
    and modelpm never deletes them.

    \b
    Examples:
      modelpm verify
      modelpm verify bert --json
    """
    report = _run(lambda: api.verify(names or (), project=project, jobs=jobs))
    if json_output:
        payload = {"passed": report.passed, "models": [asdict(check) for check in report.models]}
        stdout.print_json(json.dumps(payload))
    else:
        for check in report.models:
            if check.passed:
                stderr.print(f"ok {check.name}: {len(check.ok)} files match ({check.dest})")
                continue
            for kind in ("missing", "modified", "unexpected"):
                for path in getattr(check, kind):
                    stderr.print(f"{kind} {check.name}: {check.dest}/{path}", markup=False)
    if not report.passed:
        if not json_output:
            stderr.print(f"hint: {_verify_hint(report)}", markup=False)
        raise typer.Exit(1)


def _verify_hint(report: VerifyReport) -> str:
    broken = any(check.missing or check.modified for check in report.models)
    strangers = any(check.unexpected for check in report.models)
    hints = []
    if broken:
        hints.append("run `modelpm sync` to restore missing and modified files")
    if strangers:
        hints.append("move unexpected files out of the model folders (modelpm never deletes them)")
    return "; ".join(hints)


def _status(project: Path | None, json_output: bool) -> None:
    rows = _run(lambda: api.status(project))
    if json_output:
        stdout.print_json(json.dumps([asdict(row) for row in rows]))
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("name", "repo", "revision", "files", "size", "state"):
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


@app.command()
def status(project: ProjectOption = None, json_output: JsonOption = False) -> None:
    """One row per model: name, repo, revision → commit, files, size, state.

    Reads local files only (no network, no hashing; `modelpm verify` hashes). States:
    synced, partly-synced, not-synced, not-locked, lock-stale.

    \b
    Examples:
      modelpm status
      modelpm status --json | jq -r '.[] | select(.state != "synced") | .name'
    """
    _status(project, json_output)


@app.command("list")
def list_models(project: ProjectOption = None, json_output: JsonOption = False) -> None:
    """Alias of status.

    \b
    Examples:
      modelpm list --json
    """
    _status(project, json_output)


@app.command()
def init(
    folder: Annotated[
        Path,
        typer.Argument(
            metavar="[DIR]", help="Where to create models.toml (default: here).",
            show_default=False,
        ),
    ] = Path(),
) -> None:
    """Write a commented models.toml (refuses to overwrite one).

    \b
    Examples:
      modelpm init
      modelpm init path/to/project
    """
    path = _run(lambda: api_edit.init(folder))
    stderr.print(f"created {path}", markup=False)
    stderr.print("next: modelpm add <org>/<repo>", markup=False)


@app.command()
def add(
    repo: Annotated[
        str,
        typer.Argument(
            metavar="REPO", help="Repo id on the hub, e.g. google-bert/bert-base-uncased."
        ),
    ],
    name: Annotated[
        str | None,
        typer.Option("--name", "-n", metavar="NAME",
                     help="Local name (default: the repo's last part)."),
    ] = None,
    revision: Annotated[
        str | None,
        typer.Option("--revision", "-r", metavar="REV",
                     help="Branch, tag or commit (default main)."),
    ] = None,
    include: Annotated[
        list[str] | None,
        typer.Option("--include", "-i", metavar="GLOB",
                     help="Files to take (repeatable; default: every file)."),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", "-x", metavar="GLOB", help="Files to skip (repeatable)."),
    ] = None,
    dest: Annotated[
        str | None,
        typer.Option("--dest", metavar="DIR",
                     help="Folder for the files (default: <dest-root>/<name>)."),
    ] = None,
    repo_type: Annotated[
        str,
        typer.Option("--repo-type", metavar="TYPE", help="model, dataset or space.",
                     show_default=False),
    ] = "model",
    no_sync: Annotated[
        bool, typer.Option("--no-sync", help="Lock it, but do not download.")
    ] = False,
    project: ProjectOption = None,
    jobs: JobsOption = None,
    quiet: QuietOption = False,
) -> None:
    """Add a model to models.toml, lock it and sync it.

    Comments and formatting in models.toml are kept; the new table goes at the end.

    \b
    Examples:
      modelpm add google-bert/bert-base-uncased --include '*.json' --include '*.safetensors'
      modelpm add rajpurkar/squad --repo-type dataset --no-sync
    """
    reporter = ProgressReporter(stderr, quiet=quiet)
    try:
        result = _run(
            lambda: api_edit.add(
                repo,
                name=name,
                revision=revision,
                include=include or (),
                exclude=exclude or (),
                dest=dest,
                repo_type=repo_type,
                sync_now=not no_sync,
                project=project,
                jobs=jobs,
                reporter=reporter,
            )
        )
    finally:
        reporter.close()
    if quiet:
        return
    model = result.model
    stderr.print(
        f"added {model.name}: {model.repo} @ {model.revision} → {model.commit[:12]} "
        f"({len(model.files)} files, {human_size(model.total_size)}) in {result.dest}",
        markup=False,
    )
    if result.sync is not None:
        reporter.summary(result.sync.report)


@app.command()
def remove(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="The model's name in models.toml.")
    ],
    project: ProjectOption = None,
) -> None:
    """Remove a model from models.toml and models.lock, and the files modelpm placed for it.

    Files you added or changed in its folder are kept. Comments in models.toml stay.

    \b
    Examples:
      modelpm remove bert
    """
    result = _run(lambda: api_edit.remove(name, project=project))
    stderr.print(
        f"removed {result.name} ({result.report.removed} files from {result.dest})", markup=False
    )
    for note in result.report.notes:
        stderr.print(f"warning: {note}", markup=False)


@app.command()
def outdated(
    project: ProjectOption = None,
    json_output: JsonOption = False,
    exit_code: Annotated[
        bool, typer.Option("--exit-code", help="Exit 1 when a model is outdated (for CI).")
    ] = False,
) -> None:
    """For branch and tag revisions: the locked commit against where the ref points now.

    `modelpm lock --upgrade` (or --upgrade-model NAME) moves the pins. Exits 0 either
    way unless --exit-code is given.

    \b
    Examples:
      modelpm outdated
      modelpm outdated --exit-code     # in CI: exit 1 when a pin is behind
    """
    rows = _run(lambda: api.outdated(project))
    if json_output:
        payload = [{**asdict(row), "outdated": row.outdated} for row in rows]
        stdout.print_json(json.dumps(payload))
    else:
        table = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("name", "revision", "locked", "now", "state"):
            table.add_column(column)
        for row in rows:
            locked = row.locked_commit[:7] + (
                f" ({row.locked_date[:10]})" if row.locked_date else ""
            )
            now = row.current_commit[:7] + (
                f" ({row.current_date[:10]})" if row.current_date else ""
            )
            table.add_row(
                row.name, row.revision, locked, now, "outdated" if row.outdated else "up to date"
            )
        stdout.print(table)
    if exit_code and any(row.outdated for row in rows):
        raise typer.Exit(1)


store_app = typer.Typer(
    help="The content-addressed store shared by your projects.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(store_app, name="store")


@store_app.command("path")
def store_path(project: ProjectOption = None) -> None:
    """Print where the store is (MODELPM_HOME, [settings] store, or ~/.cache/modelpm).

    \b
    Examples:
      du -sh "$(modelpm store path)"
    """
    stdout.print(str(_run(lambda: api.store_root(project))), markup=False)


@store_app.command("verify")
def store_verify(
    project: ProjectOption = None,
    remove: Annotated[
        bool, typer.Option("--remove", help="Delete corrupt objects; the next sync refetches.")
    ] = False,
) -> None:
    """Re-hash every object in the store; exit 1 if any is corrupt.

    \b
    Examples:
      modelpm store verify
      modelpm store verify --remove && modelpm sync
    """
    check = _run(lambda: api.verify_store(project, remove_corrupt=remove))
    for key in check.corrupt:
        stderr.print(f"corrupt {key}{' (removed)' if remove else ''}", markup=False)
    if check.passed:
        stderr.print(f"ok: {check.objects} objects match their hashes")
        return
    if not remove:
        stderr.print("hint: run `modelpm store verify --remove`, then `modelpm sync`")
    raise typer.Exit(1)


@store_app.command("gc")
def store_gc(
    project: ProjectOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be removed; remove nothing.")
    ] = False,
) -> None:
    """Remove objects that no known project's models.lock references.

    Projects are known once they have synced with this store; a project whose folder or
    lock is gone is forgotten.

    \b
    Examples:
      modelpm store gc --dry-run
      modelpm store gc
    """
    report = _run(lambda: api.gc_store(project, dry_run=dry_run))
    verb = "would remove" if dry_run else "removed"
    stderr.print(
        f"{verb} {report.removed} objects ({human_size(report.freed_bytes)}); kept "
        f"{report.kept} used by {len(report.projects)} projects"
    )
    for root in report.forgotten:
        stderr.print(f"forgot {root} (no models.lock there any more)", markup=False)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - Ctrl-C outside any command body
        stderr.print("error: interrupted")
        sys.exit(130)
