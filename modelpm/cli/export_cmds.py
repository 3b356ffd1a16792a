"""``modelpm export hf-cache``, ``modelpm export s3`` and ``modelpm run``: the locked models
where other tools look for them (the official cache layout; plain objects in a bucket)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelpm import api
from modelpm.cli.common import ProjectOption, QuietOption, human_size, plural, run, stderr
from modelpm.cli.progress import ProgressReporter


def hf_cache(
    directory: Annotated[
        Path | None,
        typer.Argument(
            metavar="DIR",
            help="The cache folder (default: the official client's HF_HUB_CACHE).",
            show_default=False,
        ),
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", metavar="NAME", help="Export this model (repeatable)."),
    ] = None,
    project: ProjectOption = None,
    quiet: QuietOption = False,
) -> None:
    """Link the locked models into the official Hugging Face cache layout.

    Writes models--ORG--NAME/ with blobs/ (hard links to store objects), snapshots/COMMIT/
    and refs/REVISION, so from_pretrained("org/name"), hf_hub_download and vLLM find exactly
    the locked files with HF_HUB_OFFLINE=1. Touches no other repo in that cache; running it
    twice changes nothing.

    \b
    Examples:
      modelpm export hf-cache
      modelpm export hf-cache /srv/hf-cache --model bert
      HF_HUB_CACHE=/srv/hf-cache HF_HUB_OFFLINE=1 python eval.py
    """
    reporter = ProgressReporter(stderr, quiet=quiet)
    try:
        result = run(
            lambda: api.export_hf_cache(directory, model or (), project=project, reporter=reporter)
        )
    finally:
        reporter.close()
    if quiet:
        return
    for repo in result.repos:
        state = f"{repo.written} entries written" if repo.written else "already there"
        stderr.print(
            f"exported {repo.name}: {repo.folder.name} @ {repo.revision} → {repo.commit[:12]} "
            f"({plural(repo.files, 'file')}, {state})",
            markup=False,
        )
    for note in result.skipped:
        stderr.print(f"skipped {note}", markup=False)
    stderr.print(f"cache: {result.cache}", markup=False)


def run_command(
    command: Annotated[
        list[str],
        typer.Argument(metavar="CMD", help="The command and its arguments, after --."),
    ],
    project: ProjectOption = None,
    quiet: QuietOption = False,
) -> None:
    """Run a command with the project's models as an offline Hugging Face cache.

    The locked models are linked into .modelpm/hf-cache/ (exactly what models.lock pins,
    nothing else), and CMD runs with HF_HUB_CACHE pointing there and HF_HUB_OFFLINE=1: code
    that loads models by repo id gets the locked bytes, with no code change and no network.
    Exits with CMD's exit code.

    \b
    Examples:
      modelpm sync --locked && modelpm run -- python eval.py
      modelpm run -- vllm serve org/name
      modelpm run -- python -c 'import transformers as t; t.AutoModel.from_pretrained("org/name")'
    """
    reporter = ProgressReporter(stderr, quiet=quiet)
    try:
        code = run(lambda: api.run(command, project=project, reporter=reporter))
    finally:
        reporter.close()
    raise typer.Exit(code)


def s3(
    target: Annotated[
        str,
        typer.Argument(
            metavar="s3://BUCKET/PREFIX/NAME",
            help="Where the files go; the last segment names the model.",
            show_default=False,
        ),
    ],
    project: ProjectOption = None,
    quiet: QuietOption = False,
) -> None:
    """Write a synced model's files as plain objects under an S3 prefix (s3://BUCKET/PREFIX/NAME).

    For loaders that stream weights from object storage (vLLM's runai_streamer, SGLang).
    Files come from the verified store and are hashed again while uploaded; each object
    records its hash, so running it again uploads nothing that is already there. The
    endpoint and credentials are found as for the remote store (AWS_* variables, profile).

    \b
    Examples:
      modelpm export s3 s3://team-models/serving/bert
      vllm serve s3://team-models/serving/bert --load-format runai_streamer
    """
    reporter = ProgressReporter(stderr, quiet=quiet, action=("uploading", "uploaded"))
    try:
        report = run(lambda: api.export_s3(target, project=project, reporter=reporter))
    finally:
        reporter.close()
    if not quiet:
        stderr.print(
            f"exported to {report.target}: uploaded {report.uploaded} files "
            f"({human_size(report.uploaded_bytes)}); {report.unchanged} already there",
            markup=False,
        )
