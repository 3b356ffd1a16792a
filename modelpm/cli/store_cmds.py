"""``modelpm store path|verify|gc|push``: the content-addressed store shared by your projects,
and (``push``, ``--remote``) the remote store shared by your team."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelpm import api
from modelpm.cli.common import (
    JobsOption,
    NamesArgument,
    ProjectOption,
    QuietOption,
    human_size,
    run,
    stderr,
    stdout,
)
from modelpm.cli.progress import ProgressReporter


def path(project: ProjectOption = None) -> None:
    """Print where the store is (MODELPM_HOME, [settings] store, or ~/.cache/modelpm).

    \b
    Examples:
      du -sh "$(modelpm store path)"
    """
    stdout.print(str(run(lambda: api.store_root(project))), markup=False)


def verify(
    project: ProjectOption = None,
    remove: Annotated[
        bool, typer.Option("--remove", help="Delete corrupt objects; the next sync refetches.")
    ] = False,
    remote: Annotated[
        bool, typer.Option("--remote", help="Re-hash the remote store's objects instead.")
    ] = False,
) -> None:
    """Re-hash every object in the store; exit 1 if any is corrupt.

    \b
    Examples:
      modelpm store verify
      modelpm store verify --remove && modelpm sync
      modelpm store verify --remote
    """
    if remote:
        remote_check = run(lambda: api.verify_remote_store(project, remove_corrupt=remove))
        _report(remote_check.bad, remote_check.objects, remove, "remote objects", "--remote ")
        return
    check = run(lambda: api.verify_store(project, remove_corrupt=remove))
    _report(list(check.corrupt), check.objects, remove, "objects", "")


def _report(bad: list[str], count: int, remove: bool, what: str, flag: str) -> None:
    """Name each bad object; exit 1 if there is one."""
    for name in bad:
        stderr.print(f"corrupt {name}{' (removed)' if remove else ''}", markup=False)
    if not bad:
        stderr.print(f"ok: {count} {what} match their hashes")
        return
    if not remove:
        then = "modelpm store push" if flag else "modelpm sync"
        stderr.print(f"hint: run `modelpm store verify {flag}--remove`, then `{then}`")
    raise typer.Exit(1)


def gc(
    locks: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="LOCKFILE",
            help="With --remote: every models.lock whose objects the bucket keeps.",
            show_default=False,
        ),
    ] = None,
    project: ProjectOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be removed; remove nothing.")
    ] = False,
    remote: Annotated[
        bool,
        typer.Option("--remote", help="Clean the remote store: keep only what LOCKFILEs name."),
    ] = False,
) -> None:
    """Remove objects that no known project's models.lock references.

    Projects are known once they have synced with this store; a project whose folder or
    lock is gone is forgotten. With --remote, the remote store's objects that none of the
    given lock files references are removed (a bucket serves many projects: name every
    lock to keep); plain `store gc` never touches the bucket.

    \b
    Examples:
      modelpm store gc --dry-run
      modelpm store gc
      modelpm store gc --remote */models.lock --dry-run
    """
    if remote:
        remote_report = run(
            lambda: api.gc_remote_store(locks or [], project=project, dry_run=dry_run)
        )
        verb = "would remove" if dry_run else "removed"
        stderr.print(
            f"{verb} {remote_report.removed} remote objects "
            f"({human_size(remote_report.freed_bytes)}); kept {remote_report.kept}"
        )
        return
    if locks:
        stderr.print("error: lock files are only given with --remote")
        stderr.print("hint: `modelpm store gc` keeps what every known project's lock uses")
        raise typer.Exit(2)
    report = run(lambda: api.gc_store(project, dry_run=dry_run))
    verb = "would remove" if dry_run else "removed"
    stderr.print(
        f"{verb} {report.removed} objects ({human_size(report.freed_bytes)}); kept "
        f"{report.kept} used by {len(report.projects)} projects"
    )
    for root in report.forgotten:
        stderr.print(f"forgot {root} (no models.lock there any more)", markup=False)


def push(
    names: NamesArgument = None,
    project: ProjectOption = None,
    jobs: JobsOption = None,
    quiet: QuietOption = False,
) -> None:
    """Upload the project's locked objects that the remote store lacks.

    Only verified objects of the local store are uploaded (run `modelpm sync` first), each
    hashed again while it is read; safe to run from many machines at once, and a second
    run uploads nothing. Exits 1 naming what could not be pushed.

    \b
    Examples:
      modelpm store push
      modelpm store push bert
      MODELPM_REMOTE=s3://team-models/modelpm modelpm store push   # in CI
    """
    reporter = ProgressReporter(stderr, quiet=quiet, action=("uploading", "uploaded"))
    try:
        report = run(lambda: api.push(names or (), project=project, jobs=jobs, reporter=reporter))
    finally:
        reporter.close()
    if not quiet:
        stderr.print(
            f"uploaded {report.uploaded} objects ({human_size(report.uploaded_bytes)}); "
            f"{report.present} already in the remote store"
        )
