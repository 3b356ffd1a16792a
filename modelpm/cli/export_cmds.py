"""``modelpm export s3://bucket/prefix/NAME``: a synced model as plain objects in a bucket."""

from __future__ import annotations

from typing import Annotated

import typer

from modelpm import api
from modelpm.cli.common import ProjectOption, QuietOption, human_size, run, stderr
from modelpm.cli.progress import ProgressReporter


def export(
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
    """Write a synced model's files as plain objects under an S3 prefix.

    For loaders that stream weights from object storage (vLLM's runai_streamer, SGLang).
    Files come from the verified store and are hashed again while uploaded; each object
    records its hash, so running it again uploads nothing that is already there. The
    endpoint and credentials are found as for the remote store (AWS_* variables, profile).

    \b
    Examples:
      modelpm export s3://team-models/serving/bert
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
