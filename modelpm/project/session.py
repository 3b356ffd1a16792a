"""How commands read and change a project: a read-only view, or one locked session.

A :class:`ProjectView` is a found project, its manifest parsed and checked,
and the run's :class:`~modelpm.config.Config`; its lock and state are read on
first use and at most once. Read-only commands (``status``, ``verify``, the
no-op answer of ``sync``, ``lock --check``) use a view and write nothing.

A :class:`ProjectSession` is the one way to change a project (``lock``,
``sync``, ``add``, ``remove``): it holds the project lock
(``.modelpm/sync.lock``) for its whole life, so two commands never interleave
their writes; it reads the manifest, lock and state once; and it writes each
at most once (the state when it closes, whether the command succeeded, failed
or was interrupted, so the next run starts from everything that did land).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from modelpm.config import Config, Overrides, build_config
from modelpm.errors import ManifestError
from modelpm.fs.errors import storage_errors
from modelpm.lockfile.io import read_lock, write_lock
from modelpm.lockfile.model import Lock
from modelpm.manifest.model import MANIFEST_NAME, Manifest
from modelpm.manifest.parse import load_manifest
from modelpm.paths import outside_of
from modelpm.project.layout import Project, find_project
from modelpm.project.state import State, read_state
from modelpm.project.state_writer import StateWriter, open_state_writer
from modelpm.values import SourceKind

if TYPE_CHECKING:
    from modelpm.resolve.mirrors import MirrorListings
    from modelpm.sources.base import Source
    from modelpm.store.local import Store
    from modelpm.store.remote.handle import Remote

PathLike = str | os.PathLike[str]
SourceOpener = Callable[[SourceKind, Config], "Source"]


def _open_source(kind: SourceKind, config: Config) -> Source:
    from modelpm.sources.catalog import open_source  # a hub client is loaded only when used

    return open_source(
        kind,
        config.endpoints[kind],
        offline=config.offline,
        retry_delay=config.retry_delay,
        timeout=config.stall_timeout,
    )


@dataclass
class ProjectView:
    """A project read for one command; nothing here writes."""

    project: Project
    manifest: Manifest
    config: Config
    opener: SourceOpener = _open_source
    _sources: dict[SourceKind, Source] = field(default_factory=dict)
    _lock: Lock | None = None
    _lock_read: bool = False
    _state: State | None = None
    _sources_lock: threading.Lock = field(default_factory=threading.Lock)
    _store: Store | None = None
    _remote: Remote | None = None
    _remote_opened: bool = False
    _mirrors: MirrorListings | None = None

    @property
    def root(self) -> Path:
        return self.project.root

    @property
    def store(self) -> Store:
        if self._store is None:
            from modelpm.store.local import Store  # the no-op answer never opens the store

            self._store = Store(self.config.store_root)
        return self._store

    @property
    def lock(self) -> Lock | None:
        """models.lock as it was when first asked for (None: there is none)."""
        if not self._lock_read:
            self._lock = read_lock(self.project.lock_path)
            self._lock_read = True
        return self._lock

    @property
    def state(self) -> State:
        """What sync placed, as recorded when first asked for."""
        if self._state is None:
            self._state = read_state(self.project)
        return self._state

    def source(self, kind: SourceKind) -> Source:
        """The source of ``kind``, opened on first use (a run that asks nothing opens none)."""
        with self._sources_lock:  # fetch threads may ask at once
            if kind not in self._sources:
                self._sources[kind] = self.opener(kind, self.config)
            return self._sources[kind]

    @property
    def remote(self) -> Remote | None:
        """The remote store of this run, opened on first use (None: none is configured).

        Opened leniently: one that cannot be configured is down with one warning.
        """
        with self._sources_lock:
            if not self._remote_opened and self.config.remote is not None:
                from modelpm.store.remote.handle import open_remote

                self._remote = open_remote(self.config.remote, strict=False)
            self._remote_opened = True
            return self._remote

    @property
    def mirrors(self) -> MirrorListings:
        """The models' mirrors, each listed at most once in this run (on first use)."""
        from modelpm.resolve.mirrors import MirrorListings

        with self._sources_lock:
            if self._mirrors is None:
                self._mirrors = MirrorListings(self.source)
            return self._mirrors


def open_view(
    project: PathLike | None,
    overrides: Overrides | None = None,
    sources: Mapping[SourceKind, Source] | None = None,
) -> ProjectView:
    """Find the project (``project`` or upward from here), read its manifest, configure."""
    found = find_project(Path(project) if project is not None else None)
    manifest = load_manifest(found.manifest_path)
    for spec in manifest.models:
        escape = outside_of(found.root, found.root / spec.dest)
        if escape is not None:
            raise ManifestError(
                f"{MANIFEST_NAME}: model {spec.name!r} dest {spec.dest!r} leads outside the "
                f"project through a symbolic link (to {escape})",
                hint="remove the link or choose another dest; modelpm writes only inside "
                "the project",
            )
    config = build_config(manifest.settings, found.root, overrides or Overrides())
    return ProjectView(found, manifest, config, _sources=dict(sources or {}))


class ProjectSession(ProjectView):
    """A view that holds the project lock and may write each file once."""

    def __init__(self, view: ProjectView) -> None:
        super().__init__(view.project, view.manifest, view.config, view.opener, view._sources)
        self.manifest_written = False
        self.lock_written = False
        self.state_writer: StateWriter | None = None

    def write_manifest(self, text: str, manifest: Manifest) -> None:
        """Replace models.toml with ``text`` (parsed: ``manifest``); once per session."""
        from modelpm.manifest.edit import write_manifest

        assert not self.manifest_written, "models.toml is written at most once per session"
        write_manifest(self.project.manifest_path, text)
        self.manifest = manifest
        self.manifest_written = True

    def write_lock(self, lock: Lock) -> bool:
        """Replace models.lock unless it pins what it pinned; once per session."""
        assert not self.lock_written, "models.lock is written at most once per session"
        written = write_lock(self.project.lock_path, lock, self.lock)
        self.lock_written = True
        self._lock = lock
        return written

    def touch_state(self) -> State:
        """The state, to be changed through its methods: each change is written through
        as it happens (:class:`StateWriter`). It no longer vouches for a whole sync (its
        ``inputs``) until a whole sync says so, on disk as in memory."""
        if self.state_writer is None:
            self.state_writer = open_state_writer(self.project, self.state)
            self.state.inputs = None
        return self.state

    def close(self) -> None:
        if self._store is not None:
            self._store.ledger.flush()
        if self.state_writer is not None:
            self.state_writer.close(self.state.inputs, self.state.models)


@contextlib.contextmanager
def project_session(
    project: PathLike | None,
    overrides: Overrides | None = None,
    sources: Mapping[SourceKind, Source] | None = None,
    view: ProjectView | None = None,
) -> Iterator[ProjectSession]:
    """A session on the project (or on ``view``'s), under the project lock."""
    view = view or open_view(project, overrides, sources)
    from filelock import FileLock  # not imported on the no-op path

    state_dir = view.project.state_dir
    with storage_errors(state_dir, "create"):
        state_dir.mkdir(exist_ok=True)
        held = FileLock(str(state_dir / "sync.lock"))
        held.acquire()
    try:
        # A new session reads the lock and state afresh, under the lock: another command
        # may have changed them while we waited.
        session = ProjectSession(view)
        try:
            yield session
        finally:
            session.close()
    finally:
        held.release()
