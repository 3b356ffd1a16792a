"""Writing the project state as sync places files: :class:`StateWriter`.

A transaction per batch (at most :data:`_BATCH` records or :data:`_BATCH_SECONDS` apart,
a timer committing what a quiet spell left pending), so a run that is killed keeps the
record of what it placed; what it reads is in :mod:`modelpm.project.state`.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from pathlib import Path

from modelpm.errors import StorageError
from modelpm.fs.atomic import atomic_write_text
from modelpm.project.layout import Project
from modelpm.project.state import (
    LEGACY_NAME,
    STATE_NAME,
    STATE_VERSION,
    ModelSummary,
    PlacedFile,
    State,
    stored_inode,
)

_BATCH = 512  # records per transaction at most ...
_BATCH_SECONDS = 0.5  # ... and at most this long between two
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS files (name TEXT PRIMARY KEY, digest TEXT NOT NULL,"
    " size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, inode INTEGER NOT NULL,"
    " ctime_ns INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS facts (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
_UPSERT = (
    "INSERT OR REPLACE INTO files (name, digest, size, mtime_ns, inode, ctime_ns)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


def open_state_writer(project: Project, state: State) -> StateWriter:
    """A :class:`StateWriter` bound to ``state``; one clear line if it cannot be opened."""
    ignore = project.state_dir / ".gitignore"
    if not ignore.exists():
        atomic_write_text(ignore, "*\n")
    try:
        return StateWriter.open(project, state)
    except sqlite3.Error as error:
        raise _cannot_record(project.state_dir / STATE_NAME, error) from None


def _cannot_record(path: Path, error: sqlite3.Error) -> StorageError:
    return StorageError(
        f"cannot record the project state in {path}: {error}",
        hint="free space or fix the permissions of that folder, then run sync again "
        "(it re-checks every file it could not record)",
    )


class StateWriter:
    """Writes a session's changes to the state through, a batch per transaction.

    Thread-safe (placing runs on several threads). A write that fails is kept as the
    error to raise at :meth:`close`: the files are placed all the same, and what is not
    recorded costs a re-hash, never a wrong file."""

    def __init__(self, project: Project, db: sqlite3.Connection) -> None:
        self.path = project.state_dir / STATE_NAME
        self._db = db
        self._lock = threading.Lock()
        self._pending: list[tuple[str, PlacedFile | None]] = []
        self._flushed = time.monotonic()
        self._timer: threading.Timer | None = None
        self._closed = False
        self._error: sqlite3.Error | None = None

    @classmethod
    def open(cls, project: Project, state: State) -> StateWriter:
        """The writer for ``state`` (read from ``project``), which is bound to it. The
        recorded inputs key is dropped at once: from here on, files may change."""
        path = project.state_dir / STATE_NAME
        try:
            db = _connect(path)
        except sqlite3.DatabaseError as error:
            if isinstance(error, sqlite3.OperationalError) or not path.is_file():
                raise  # cannot be opened at all (permissions, a folder in the way)
            # Not a database of ours (or damaged): it was read as empty, start afresh.
            for leftover in (path, path.with_name(STATE_NAME + "-wal")):
                with contextlib.suppress(OSError):
                    leftover.unlink()
            db = _connect(path)
        writer = cls(project, db)
        with db:
            db.execute("BEGIN")
            db.execute("DELETE FROM facts")
            if state.legacy:
                db.execute("DELETE FROM files")
                db.executemany(
                    _UPSERT,
                    [_row(name, placed) for name, placed in state.files.items()],
                )
        if state.legacy:
            with contextlib.suppress(OSError):
                (project.state_dir / LEGACY_NAME).unlink()
            state.legacy = False
        state.writer = writer
        return writer

    def put(self, target: str, placed: PlacedFile | None) -> None:
        """Record ``target`` as ``placed`` (None: no longer placed)."""
        with self._lock:
            self._pending.append((target, placed))
            if len(self._pending) >= _BATCH or time.monotonic() - self._flushed > _BATCH_SECONDS:
                self._flush()
            elif self._timer is None:
                # Small files may all land at once and a long download follow: what was
                # placed is committed within the interval even if nothing else comes.
                self._timer = threading.Timer(_BATCH_SECONDS, self._flush_later)
                self._timer.daemon = True
                self._timer.start()

    def _flush_later(self) -> None:
        with self._lock:
            self._timer = None
            if not self._closed:
                self._flush()

    def close(self, inputs: str | None, models: dict[str, ModelSummary] | None = None) -> None:
        """Write what is pending, and the inputs key with the models' summaries if a whole
        sync set them; then close."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._closed = True
            self._flush(inputs, models or {})
            self._db.close()
            if self._error is not None:
                raise _cannot_record(self.path, self._error)

    def _flush(
        self, inputs: str | None = None, models: dict[str, ModelSummary] | None = None
    ) -> None:
        last = dict(self._pending)  # each target's latest change: upserts and deletes apart
        self._pending = []
        self._flushed = time.monotonic()
        if self._error is not None:
            return
        try:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany(
                    _UPSERT,
                    [_row(name, placed) for name, placed in last.items() if placed is not None],
                )
                self._db.executemany(
                    "DELETE FROM files WHERE name = ?",
                    [(name,) for name, placed in last.items() if placed is None],
                )
                if inputs is not None:
                    summaries = {
                        name: [model.commit, model.files, model.size]
                        for name, model in sorted((models or {}).items())
                    }
                    self._db.executemany(
                        "INSERT OR REPLACE INTO facts (key, value) VALUES (?, ?)",
                        [("inputs", inputs), ("models", json.dumps(summaries))],
                    )
        except sqlite3.Error as error:
            self._error = error


def _connect(path: Path) -> sqlite3.Connection:
    """The state database, created if missing (raises sqlite3.DatabaseError if foreign)."""
    try:
        path.parent.mkdir(exist_ok=True)
    except OSError as exc:
        raise sqlite3.OperationalError(str(exc)) from exc
    db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    try:
        found = db.execute("PRAGMA user_version").fetchone()[0]
        if found not in (0, STATE_VERSION):
            raise sqlite3.DatabaseError(f"a state of version {found}")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        for statement in _SCHEMA:
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {STATE_VERSION}")
    except sqlite3.Error:
        db.close()
        raise
    return db


def _row(name: str, placed: PlacedFile) -> tuple[str, str, int, int, int, int]:
    inode = stored_inode(placed.inode)
    return (name, placed.digest.key, placed.size, placed.mtime_ns, inode, placed.ctime_ns)
