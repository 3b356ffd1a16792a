"""The commands on a project: ``lock``, ``sync``, ``verify``, ``status``/``list``, ``outdated``."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from modelpm import api
from modelpm.cli.common import (
    DryRunOption,
    JobsOption,
    JsonOption,
    NamesArgument,
    ProjectOption,
    QuietOption,
    VerboseOption,
    run,
    stderr,
    stdout,
)
from modelpm.cli.messages import noop_message
from modelpm.cli.plans import print_locked, print_plan, print_renames, print_skipped
from modelpm.cli.progress import ProgressReporter
from modelpm.cli.status_view import print_status
from modelpm.cli.verify_view import print_verify


def lock(
    project: ProjectOption = None,
    upgrade: Annotated[
        bool, typer.Option("--upgrade", "-U", help="Re-resolve every branch and tag.")
    ] = False,
    upgrade_model: Annotated[
        list[str] | None,
        typer.Option(
            "--upgrade-model", "-P", metavar="NAME", help="Re-resolve this model (repeatable)."
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if models.lock is stale; write nothing.")
    ] = False,
    dry_run: DryRunOption = False,
    quiet: QuietOption = False,
) -> None:
    """Resolve models.toml into models.lock.

    Entries that are new or changed are resolved (revision → commit, every selected file with
    its size and hash); unchanged entries keep their pins without asking the hub. Prints what
    each model's `weights` left out and the bytes that saves.

    \b
    Examples:
      modelpm lock
      modelpm lock --upgrade-model bert
      modelpm lock --dry-run    # what would be locked and skipped; writes nothing
      modelpm lock --check      # in CI
    """
    result = run(
        lambda: api.lock(
            project,
            upgrade=upgrade,
            upgrade_models=upgrade_model or (),
            check=check,
            dry_run=dry_run,
        )
    )
    if quiet:
        return
    if check:
        stderr.print("models.lock is up to date")
        return
    print_locked(stderr, result, verb="would lock" if dry_run else "locked")
    if dry_run:
        changes = result.resolved or result.removed
        stderr.print("dry run: nothing written" if changes else "models.lock is up to date")
    elif not result.written:
        stderr.print("models.lock is up to date")


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
    dry_run: DryRunOption = False,
    push: Annotated[
        bool,
        typer.Option(
            "--push", help="Upload what was fetched to the remote store; exit 1 if that fails."
        ),
    ] = False,
    no_remote: Annotated[
        bool, typer.Option("--no-remote", help="Do not use the remote store in this run.")
    ] = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Download what is missing, verify every byte, place the files.

    Locks first if models.lock is stale (unless --locked or --frozen). Each file comes from
    the store, else the remote store ([settings] remote, MODELPM_REMOTE), else its source.
    A second sync on a synced project makes no network request.

    \b
    Examples:
      modelpm sync
      modelpm sync bert --locked      # in CI
      modelpm sync --offline          # the remote store is still used
      modelpm sync --dry-run          # the plan; writes nothing
      modelpm sync --push             # share what this machine fetched
    """
    reporter = ProgressReporter(stderr, quiet=quiet, verbose=verbose)
    try:
        result = run(
            lambda: api.sync(
                names or (),
                project=project,
                locked=locked,
                frozen=frozen,
                offline=offline,
                jobs=jobs,
                connections=connections,
                reporter=reporter,
                dry_run=dry_run,
                push=push,
                no_remote=no_remote,
            )
        )
    finally:
        reporter.close()
    if quiet:
        return
    if result.dry_run:
        if result.lock is not None:
            print_locked(stderr, result.lock, verb="would lock")
        print_plan(stderr, result.plan)
        stderr.print("dry run: nothing written")
        return
    if result.lock is not None:
        for name in result.lock.resolved:
            stderr.print(f"locked {name}")
            print_skipped(stderr, result.lock.details.get(name))
        print_renames(stderr, result.lock.renamed)
    report = result.report
    for note in report.notes:
        stderr.print(f"warning: {note}", markup=False)
    if result.plan.is_noop:
        stderr.print(noop_message(report.kept), markup=False)
        return
    reporter.summary(report)


def verify(
    names: NamesArgument = None,
    project: ProjectOption = None,
    json_output: JsonOption = False,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", metavar="N", help="Files hashed in parallel (default 4).", min=1
        ),
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
    report = run(lambda: api.verify(names or (), project=project, jobs=jobs))
    code = print_verify(report, json_output)
    if code:
        raise typer.Exit(code)


def _status(project: Path | None, json_output: bool) -> None:
    print_status(run(lambda: api.status(project)), json_output)


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


def list_models(project: ProjectOption = None, json_output: JsonOption = False) -> None:
    """Alias of status.

    \b
    Examples:
      modelpm list --json
    """
    _status(project, json_output)


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
    rows = run(lambda: api.outdated(project))
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
            state = "outdated" if row.outdated else "up to date"
            if not row.locked_commit_on_source:
                state = "locked commit no longer on the source"
            table.add_row(row.name, row.revision, locked, now, state)
        stdout.print(table)
    if exit_code and any(row.outdated for row in rows):
        raise typer.Exit(1)
