"""The commands that edit the manifest: ``init``, ``add``, ``remove``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelpm import api
from modelpm.cli.common import (
    JobsOption,
    ProjectOption,
    QuietOption,
    human_size,
    run,
    stderr,
)
from modelpm.cli.plans import print_skipped
from modelpm.cli.progress import ProgressReporter


def init(
    folder: Annotated[
        Path,
        typer.Argument(
            metavar="DIR",
            help="Where to create models.toml (default: here).",
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
    path = run(lambda: api.init(folder))
    stderr.print(f"created {path}", markup=False)
    stderr.print("next: modelpm add <org>/<repo>", markup=False)


def add(
    repo: Annotated[
        str,
        typer.Argument(
            metavar="REPO|URL",
            help="Repo id, e.g. google-bert/bert-base-uncased, or its URL "
            "(https://huggingface.co/…, https://modelscope.cn/models/…).",
        ),
    ],
    name: Annotated[
        str | None,
        typer.Option(
            "--name", "-n", metavar="NAME", help="Local name (default: the repo's last part)."
        ),
    ] = None,
    revision: Annotated[
        str | None,
        typer.Option(
            "--revision",
            "-r",
            metavar="REV",
            help="Branch, tag or commit (default main; master on ModelScope).",
        ),
    ] = None,
    include: Annotated[
        list[str] | None,
        typer.Option(
            "--include",
            "-i",
            metavar="GLOB",
            help="Files to take (repeatable; default: every file).",
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", "-x", metavar="GLOB", help="Files to skip (repeatable)."),
    ] = None,
    weights: Annotated[
        str | None,
        typer.Option(
            "--weights",
            "-w",
            metavar="W",
            help="auto (default: what the PyTorch loaders read), safetensors, pytorch, all, "
            "or gguf:QUANT.",
        ),
    ] = None,
    variant: Annotated[
        str | None,
        typer.Option("--variant", metavar="V", help="Take *.V.safetensors-style files, e.g. fp16."),
    ] = None,
    dest: Annotated[
        str | None,
        typer.Option(
            "--dest", metavar="DIR", help="Folder for the files (default: <dest-root>/<name>)."
        ),
    ] = None,
    repo_type: Annotated[
        str | None,
        typer.Option(
            "--repo-type",
            metavar="TYPE",
            help="model (default), dataset or space.",
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            "-s",
            metavar="SOURCE",
            help="hf or modelscope (default: the URL's, else [settings] source, else hf).",
        ),
    ] = None,
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
      modelpm add google-bert/bert-base-uncased
      modelpm add TheBloke/Llama-2-7B-GGUF --weights gguf:Q4_K_M
      modelpm add stable-diffusion-v1-5/stable-diffusion-v1-5 --variant fp16
      modelpm add rajpurkar/squad --repo-type dataset --no-sync
      modelpm add --source modelscope Qwen/Qwen2.5-0.5B-Instruct
      modelpm add https://modelscope.cn/models/Qwen/Qwen2.5-0.5B-Instruct/tree/v1.0
    """
    reporter = ProgressReporter(stderr, quiet=quiet)
    try:
        result = run(
            lambda: api.add(
                repo,
                name=name,
                revision=revision,
                include=include or (),
                exclude=exclude or (),
                dest=dest,
                repo_type=repo_type,
                weights=weights,
                variant=variant,
                source=source,
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
    if result.renamed_from is not None:
        stderr.print(
            f"note: {result.renamed_from} is now called {model.repo}; models.toml names it so",
            markup=False,
        )
    stderr.print(
        f"added {model.name}: {model.repo} @ {model.revision} → {model.commit[:12]} "
        f"({len(model.files)} files, {human_size(model.total_size)}) in {result.dest}",
        markup=False,
    )
    print_skipped(stderr, result.resolved)
    if result.sync is not None:
        reporter.summary(result.sync.report)


def remove(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The model's name in models.toml.")],
    project: ProjectOption = None,
) -> None:
    """Remove a model from models.toml and models.lock, and the files modelpm placed for it.

    Files you added or changed in its folder are kept. Comments in models.toml stay.

    \b
    Examples:
      modelpm remove bert
    """
    result = run(lambda: api.remove(name, project=project))
    stderr.print(
        f"removed {result.name} ({result.report.removed} files from {result.dest})", markup=False
    )
    for note in result.report.notes:
        stderr.print(f"warning: {note}", markup=False)
