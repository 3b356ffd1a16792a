"""``modelpm export s3 s3://bucket/prefix/NAME``: a synced model's files as plain objects.

For loaders that stream weights straight from object storage (vLLM's
``runai_streamer``, SGLang), the model ``NAME`` (the address's last segment)
is written as its own files under the address, at their repo paths::

    s3://bucket/prefix/NAME/config.json
    s3://bucket/prefix/NAME/model-00001-of-00002.safetensors …

Bytes come from the local store's verified objects only and are hashed again
while they are uploaded (a mismatch uploads nothing). Each object carries its
locked digest as metadata (``x-amz-meta-modelpm-digest``), so a second export
uploads nothing that is already there, and a file of another revision at the
same path is replaced. Objects under the prefix that the lock does not name
are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelpm.config import s3_access
from modelpm.errors import ModelpmError, UsageError
from modelpm.progress import NullReporter, Reporter
from modelpm.project.session import PathLike, open_view
from modelpm.s3url import parse_s3_url
from modelpm.store.remote.account import resolve_account
from modelpm.store.remote.client import RemoteClient


@dataclass(frozen=True)
class ExportReport:
    target: str
    uploaded: int
    uploaded_bytes: int
    unchanged: int


def export_s3(
    target: str, *, project: PathLike | None = None, reporter: Reporter | None = None
) -> ExportReport:
    """Write the model named by ``target``'s last segment as plain objects under it."""
    reporter = reporter or NullReporter()
    try:
        address = parse_s3_url(target)
    except ValueError as exc:
        raise UsageError(
            f"export target: {exc}", hint="write it like s3://bucket/prefix/NAME"
        ) from None
    name = address.prefix.rsplit("/", 1)[-1]
    view = open_view(project)
    if not name:
        raise UsageError(
            f"{target}: name the model as the address's last segment",
            hint="e.g. `modelpm export s3 s3://bucket/serving/bert`",
        )
    view.manifest.check_names([name])
    lock = view.lock
    model = lock.get(name) if lock is not None else None
    if model is None:
        raise UsageError(f"models.lock has no entry for {name!r}", hint="run `modelpm sync` first")
    store = view.store
    missing = [item.path for item in model.files if not store.vouch(item.digest, item.size)]
    if missing:
        raise ModelpmError(
            f"{len(missing)} files of {name} are not in the local store: {', '.join(missing[:5])}",
            hint=f"run `modelpm sync {name}` first",
        )
    client = RemoteClient(address, resolve_account(s3_access(address)))
    changed = [
        item for item in model.files if client.digest_at(item.path) != (item.size, str(item.digest))
    ]
    if changed:
        reporter.begin(len(changed), sum(item.size for item in changed))
    for item in changed:
        label = f"{name}/{item.path}"
        reporter.file_started(label, item.size)
        client.put_plain(item.path, store.object_path(item.digest), item.digest, item.size)
        reporter.advance(label, item.size)
        reporter.file_done(label)
    if changed:
        reporter.end()
    uploaded_bytes = sum(item.size for item in changed)
    unchanged = len(model.files) - len(changed)
    return ExportReport(str(address), len(changed), uploaded_bytes, unchanged)
