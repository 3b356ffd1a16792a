"""``modelpm publish DIR --repo ORG/NAME``: the command, its flags and what it prints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from modelpm import api
from modelpm.cli.common import (
    JsonOption,
    ProjectOption,
    QuietOption,
    human_size,
    plural,
    run,
    stderr,
    stdout,
)
from modelpm.cli.progress import ProgressReporter

_WIDTH = 9  # "unchanged"


def publish(
    folder: Annotated[
        Path,
        typer.Argument(metavar="DIR", help="The folder to push (e.g. what save_pretrained wrote)."),
    ],
    repo: Annotated[
        str,
        typer.Option("--repo", metavar="ORG/NAME", help="The repo on the hub.", show_default=False),
    ],
    revision: Annotated[
        str,
        typer.Option("--revision", "-r", metavar="BRANCH", help="Branch to push to (made if new)."),
    ] = "main",
    message: Annotated[
        str | None, typer.Option("--message", "-m", metavar="MSG", help="Commit message.")
    ] = None,
    create: Annotated[
        bool, typer.Option("--create", help="Create the repo if it does not exist.")
    ] = False,
    private: Annotated[
        bool, typer.Option("--private", help="With --create: a private repo.")
    ] = False,
    include: Annotated[
        list[str] | None,
        typer.Option(
            "--include", "-i", metavar="GLOB", help="Files to push (repeatable; default: all)."
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", "-x", metavar="GLOB", help="Files to leave out (repeatable)."),
    ] = None,
    repo_type: Annotated[
        str,
        typer.Option(
            "--repo-type", metavar="TYPE", help="model, dataset or space.", show_default=False
        ),
    ] = "model",
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print each file as new/changed/unchanged/deleted; push nothing."
        ),
    ] = False,
    delete: Annotated[
        bool, typer.Option("--delete", help="Delete files of the branch that the folder lacks.")
    ] = False,
    tag: Annotated[
        str | None, typer.Option("--tag", metavar="TAG", help="Tag the new commit.")
    ] = None,
    pin: Annotated[
        str | None,
        typer.Option(
            "--pin",
            metavar="NAME",
            help="Add or update [models.NAME] and lock it to the new commit.",
        ),
    ] = None,
    project: ProjectOption = None,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Push a folder to the hub, verify what landed, and optionally pin it in this project.

    One commit against the branch head seen when planning: if another push lands
    first, this one fails and nothing changes. Afterwards every file's size and hash
    on the hub is compared with the local bytes. Files the hub already holds are not
    sent again; an unchanged folder makes no commit. Never pushed: .git/, .cache/,
    .modelpm/, __pycache__/, editor droppings. Needs a token with write access
    (HF_TOKEN or `hf auth login`).

    \b
    Examples:
      modelpm publish out/ --repo acme/bert-ft --create --dry-run
      modelpm publish out/ --repo acme/bert-ft --create --tag v1 --pin bert-ft
      modelpm publish out/ --repo acme/bert-ft --revision exp/lr-3e-5 --delete
    """
    reporter = ProgressReporter(
        stderr, quiet=quiet or json_output, action=("uploading", "uploaded")
    )
    try:
        result = run(
            lambda: api.publish(
                folder,
                repo=repo,
                revision=revision,
                message=message,
                create=create,
                private=private,
                include=include or (),
                exclude=exclude or (),
                repo_type=repo_type,
                dry_run=dry_run,
                delete=delete,
                tag=tag,
                pin=pin,
                project=project,
                reporter=reporter,
            )
        )
    finally:
        reporter.close()
    if json_output:
        stdout.print(json.dumps(_as_json(result), indent=2), markup=False)
        return
    if dry_run:
        for item in result.plan.files:
            stdout.print(
                f"{item.action:<{_WIDTH}}  {human_size(item.size):>9}  {item.path}", markup=False
            )
    if quiet:
        return
    plan = result.plan
    counts = ", ".join(
        f"{plan.count(action)} {action}" for action in ("new", "changed", "unchanged", "deleted")
    )
    where = f"{result.repo} @ {result.branch}"
    if dry_run:
        base = f" (from {result.base[:12]})" if result.base else ""
        if result.created_repo:
            base = " (the repo does not exist yet: --create makes it)"
        stderr.print(
            f"would publish to {where}{base}: {counts}; {human_size(plan.upload_bytes)} to send",
            markup=False,
        )
        return
    assert result.commit is not None
    if result.created_repo:
        stderr.print(f"created {result.repo}", markup=False)
    if not result.committed:
        stderr.print(
            f"nothing to publish: {where} ({result.commit[:12]}) already holds "
            f"{plural(len(plan.local), 'file')} of {folder}",
            markup=False,
        )
    else:
        sent = human_size(plan.upload_bytes)
        checked = plural(len(plan.local), "file")
        stderr.print(
            f"published {where} → {result.commit[:12]}: {counts}; sent {sent}; "
            f"verified {checked} on the hub",
            markup=False,
        )
    if result.tag:
        stderr.print(f"tagged {result.commit[:12]} as {result.tag}", markup=False)
    if result.pin is not None:
        pinned = result.pin
        verb = "added" if pinned.added else "updated"
        extra = f", fetched {pinned.fetched}" if pinned.fetched else ""
        stderr.print(
            f"pinned {pinned.name}: {verb} [models.{pinned.name}] and its lock entry "
            f"({plural(len(pinned.model.files), 'file')}, {human_size(pinned.model.total_size)}; "
            f"{pinned.copied} copied into the store{extra})",
            markup=False,
        )


def _as_json(result: api.PublishResult) -> dict[str, Any]:
    pin = result.pin
    return {
        "repo": result.repo.repo,
        "repo_type": result.repo.repo_type,
        "branch": result.branch,
        "base": result.base,
        "commit": result.commit,
        "committed": result.committed,
        "created_repo": result.created_repo,
        "created_branch": result.created_branch,
        "tag": result.tag,
        "dry_run": result.dry_run,
        "files": [{"path": f.path, "action": f.action, "size": f.size} for f in result.plan.files],
        "pin": None
        if pin is None
        else {
            "name": pin.name,
            "added": pin.added,
            "commit": pin.model.commit,
            "files": len(pin.model.files),
        },
    }
