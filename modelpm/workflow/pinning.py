"""``publish --pin NAME``: what was just pushed becomes a locked dependency of the project.

Two steps, around the push, in the publish's one
:class:`~modelpm.project.session.ProjectSession`:

1. before anything is sent, :func:`plan_pin` renders the ``[models.NAME]`` table
   (``manifest.edit.pin_model``: comments and other keys kept) and parses the new
   manifest, so a bad name or a clashing ``dest`` stops the publish at once;
2. after the commit was verified, :func:`pin_published` writes that manifest (once),
   a lock entry for NAME pinned to the new commit with the hashes of its listing (the
   other entries untouched), and puts the published bytes into the store by copy or
   reflink (``store.ingest``). Files the commit holds that the folder did not (the
   Hub's ``.gitattributes``, files kept without ``--delete``) are fetched into the
   store through the transfer engine, so ``sync --locked`` afterwards makes no request.

Invariant: nothing of the project changes before the push succeeded and was
verified; the user's folder is only read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from modelpm.lockfile.model import Lock, LockedModel
from modelpm.manifest.edit import pin_model
from modelpm.manifest.model import Manifest, ModelSpec
from modelpm.plan.tasks import FileTask
from modelpm.progress import Reporter
from modelpm.project.session import ProjectSession
from modelpm.resolve.resolver import locked_model
from modelpm.select.rules import NoFit
from modelpm.sources.base import RemoteFile
from modelpm.store.ingest import store_copy
from modelpm.transfer.transport import Transport
from modelpm.upload.local import LocalFile
from modelpm.values import Commit, RepoRef


@dataclass(frozen=True)
class PinPlan:
    name: str
    text: str
    manifest: Manifest
    added: bool  # a new table (else an existing one was updated)


@dataclass(frozen=True)
class PinResult:
    name: str
    model: LockedModel
    added: bool
    copied: int  # files whose published bytes went into the store
    fetched: int  # files the commit holds that the folder did not: fetched into the store


def plan_pin(
    session: ProjectSession,
    name: str,
    ref: RepoRef,
    revision: str,
    include: Sequence[str],
    exclude: Sequence[str],
) -> PinPlan:
    text = session.project.manifest_path.read_text(encoding="utf-8")
    added = not any(spec.name == name for spec in session.manifest.models)
    new_text, manifest = pin_model(
        session.manifest,
        text,
        name,
        repo=ref.repo,
        repo_type=ref.repo_type,
        revision=revision,
        include=include,
        exclude=exclude,
    )
    return PinPlan(name, new_text, manifest, added)


def pin_published(
    session: ProjectSession,
    pin: PinPlan,
    commit: Commit,
    listing: Sequence[RemoteFile],
    local: Sequence[LocalFile],
    *,
    reporter: Reporter | None = None,
    transport: Transport | None = None,
) -> PinResult:
    """Store the bytes, then write the manifest and the lock (each once)."""
    spec = pin.manifest.model(pin.name)
    mine = {item.path: item for item in local}

    def read(_spec: ModelSpec, _commit: Commit, remote: RemoteFile) -> bytes:
        """A small file a weights rule reads (an index), from the folder just published."""
        published = mine.get(remote.path)
        if published is None or published.digest(remote.digest.algorithm) != remote.digest:
            raise NoFit(f"cannot read {remote.path} from the published folder")
        return published.source.read_bytes()

    model = locked_model(spec, commit, listing, read)
    store = session.store
    store.register_project(session.root)  # before anything lands, so `store gc` keeps it
    missing: list[FileTask] = []
    copied = 0
    for item in model.files:
        published = mine.get(item.path)
        if published is not None and published.digest(item.digest.algorithm) == item.digest:
            store_copy(store, published.source, item.digest, item.size)
            copied += 1
        else:
            ref = RepoRef(model.repo, model.repo_type)
            target = f"{spec.dest}/{item.path}"
            missing.append(
                FileTask(
                    spec.name, spec.source, ref, commit, item.path, target, item.size, item.digest
                )
            )
    if missing:
        from modelpm.workflow.syncing import open_downloader

        with open_downloader(session, reporter, transport) as downloader:
            for task in missing:
                downloader.fetch(task)
    if session.project.manifest_path.read_text(encoding="utf-8") != pin.text:
        session.write_manifest(pin.text, pin.manifest)
    previous = session.lock or Lock()
    others = [entry for entry in previous.models if entry.name != pin.name]
    session.write_lock(previous.with_models([*others, model]))
    return PinResult(pin.name, model, pin.added, copied, len(missing))
