"""Reading a few listed files while resolving (shard indexes, ``model_index.json``, …).

A weights rule sometimes needs a small file's bytes to decide. They come through
the transfer engine like any locked file: fetched from the origins
:mod:`~modelpm.workflow.origins` names, verified against the hash the listing
attests, committed to the store (where the sync that follows finds them), and
read from there. ``scratch`` (``--dry-run``) keeps the store as it is: what the
store lacks is fetched into a temporary store, read, and thrown away. The
engine and its HTTP pool are opened on the first read, so a resolution that
reads nothing opens neither.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from modelpm.manifest.model import ModelSpec
from modelpm.sources.base import RemoteFile
from modelpm.values import Commit, Digest, RepoRef, SourceKind

if TYPE_CHECKING:
    from modelpm.project.session import ProjectView
    from modelpm.store.local import Store
    from modelpm.transfer.engine import Downloader
    from modelpm.transfer.origin import Wanted
    from modelpm.transfer.transport import Transport


@dataclass(frozen=True)
class ListedFile:
    """A listed file as the engine wants it (a :class:`~modelpm.transfer.origin.Wanted`)."""

    model: str
    source: SourceKind
    repo: RepoRef
    commit: Commit
    path: str
    size: int
    digest: Digest

    @property
    def label(self) -> str:
        return f"{self.model}/{self.path}"


class StoreReader:
    """A :data:`~modelpm.resolve.resolver.ReadFile` backed by the store and the engine."""

    def __init__(
        self, view: ProjectView, transport: Transport | None = None, *, scratch: bool = False
    ) -> None:
        self.view = view
        self.transport = transport
        self.scratch = scratch
        self._stack = contextlib.ExitStack()
        self._downloader: Downloader | None = None
        self._opening = threading.Lock()  # models are resolved on several threads at once

    def __call__(self, spec: ModelSpec, commit: Commit, remote: RemoteFile) -> bytes:
        wanted = ListedFile(
            spec.name,
            spec.source,
            RepoRef(spec.repo, spec.repo_type),
            commit,
            remote.path,
            remote.size,
            remote.digest,
        )
        return self.obtain(wanted).read_bytes()

    def obtain(self, wanted: Wanted) -> Path:
        """The verified object of ``wanted``, fetched if the store lacks it."""
        store = self.view.store
        present = store.has if self.scratch else store.vouch  # scratch: not even an eviction
        if present(wanted.digest, wanted.size):
            return store.object_path(wanted.digest)
        return self._engine().fetch(wanted)

    def _engine(self) -> Downloader:
        with self._opening:
            return self._open_engine()

    def _open_engine(self) -> Downloader:
        if self._downloader is None:
            from modelpm.transfer.engine import Downloader
            from modelpm.workflow.origins import origins_for

            view = self.view
            options = view.config.transfer
            transport = self.transport
            if transport is None:
                from modelpm.transfer.http import HttpPool  # only once a file must be read

                transport = self._stack.enter_context(HttpPool(timeout=options.stall_timeout))
            store: Store = view.store
            if self.scratch:
                from modelpm.store.local import Store

                folder = self._stack.enter_context(tempfile.TemporaryDirectory(prefix="modelpm-"))
                store = Store(Path(folder))
            self._downloader = Downloader(
                lambda wanted: origins_for(view, wanted), store, transport, options
            )
        return self._downloader

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> StoreReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
