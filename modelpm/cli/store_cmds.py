"""``modelpm store path|verify|gc``: the content-addressed store shared by your projects."""

from __future__ import annotations

from typing import Annotated

import typer

from modelpm import api
from modelpm.cli.common import (
    ProjectOption,
    human_size,
    run,
    stderr,
    stdout,
)


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
) -> None:
    """Re-hash every object in the store; exit 1 if any is corrupt.

    \b
    Examples:
      modelpm store verify
      modelpm store verify --remove && modelpm sync
    """
    check = run(lambda: api.verify_store(project, remove_corrupt=remove))
    for key in check.corrupt:
        stderr.print(f"corrupt {key}{' (removed)' if remove else ''}", markup=False)
    if check.passed:
        stderr.print(f"ok: {check.objects} objects match their hashes")
        return
    if not remove:
        stderr.print("hint: run `modelpm store verify --remove`, then `modelpm sync`")
    raise typer.Exit(1)


def gc(
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
    report = run(lambda: api.gc_store(project, dry_run=dry_run))
    verb = "would remove" if dry_run else "removed"
    stderr.print(
        f"{verb} {report.removed} objects ({human_size(report.freed_bytes)}); kept "
        f"{report.kept} used by {len(report.projects)} projects"
    )
    for root in report.forgotten:
        stderr.print(f"forgot {root} (no models.lock there any more)", markup=False)
