"""The store's ledger: each object's inode change time when modelpm last vouched for it.

An object is shared by hard links with every project that uses it, so an edit made
in place through any of them (as root, or after a ``chmod``) changes the object
itself. Its modification time can be put back (``cp -p``, ``rsync -t``); its
change time (``ctime``) cannot: the kernel sets it on every write, ``utime`` and
``chmod`` included. So modelpm records the ctime after each of its own operations
on an object (commit, re-hash, linking it into a project) and trusts an object
only while its ctime is the recorded one; any other change means: hash it again.

One SQLite table in ``<store>/ledger.sqlite`` (standard library, safe for several
processes at once). It is a cache of facts: losing it, or a write that fails,
costs a re-hash, never a wrong byte.
"""

from __future__ import annotations

import atexit
import contextlib
import sqlite3
import threading
from pathlib import Path

_SCHEMA = "CREATE TABLE IF NOT EXISTS vouched (key TEXT PRIMARY KEY, ctime_ns INTEGER NOT NULL)"
_UPSERT = (
    "INSERT INTO vouched (key, ctime_ns) VALUES (?, ?) "
    "ON CONFLICT(key) DO UPDATE SET ctime_ns = excluded.ctime_ns"
)
# Changes are written this many at a time, in one transaction. One transaction per change
# meant a write-lock round among the fetch threads' connections for every object: a
# 50,000-file cold sync took 130–137 s so, and 121 s with no ledger writes at all.
BATCH = 256


class Ledger:
    """Recorded change times by object key; every method is best-effort and thread-safe.

    Changes wait in memory (where :meth:`get` sees them) until :data:`BATCH` of them
    are pending, :meth:`flush` is called (a project session does at its end), or the
    interpreter exits; a kill loses the pending ones, which costs a re-hash."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._lock = threading.Lock()
        self._pending: dict[str, int | None] = {}  # None: forget it
        self._at_exit = False

    def _db(self) -> sqlite3.Connection | None:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                # A cache, so no fsync per write: a crash may lose the last entries (a
                # re-hash), never corrupt the file (WAL). At full sync it cost two fsyncs
                # per file, a third of a cold sync of 1,000 small files.
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute(_SCHEMA)
            except (OSError, sqlite3.Error):
                return None
            self._local.db = db
        return db

    def get(self, key: str) -> int | None:
        with self._lock:
            if key in self._pending:
                return self._pending[key]
        db = self._db()
        if db is None:
            return None
        try:
            row = db.execute("SELECT ctime_ns FROM vouched WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        return int(row[0]) if row else None

    def put(self, key: str, ctime_ns: int) -> None:
        self._change(key, ctime_ns)

    def forget(self, key: str) -> None:
        self._change(key, None)

    def _change(self, key: str, ctime_ns: int | None) -> None:
        with self._lock:
            self._pending[key] = ctime_ns
            if not self._at_exit:
                atexit.register(self.flush)
                self._at_exit = True
            if len(self._pending) < BATCH:
                return
        self.flush()

    def flush(self) -> None:
        """Write the pending changes (those that cannot be written are dropped: a re-hash)."""
        # A get() between this swap and the commit misses these keys: a re-hash, at worst.
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return
        db = self._db()
        if db is None:
            return
        with contextlib.suppress(sqlite3.Error), db:  # one transaction
            db.execute("BEGIN")
            db.executemany(
                _UPSERT, [(key, ctime) for key, ctime in pending.items() if ctime is not None]
            )
            db.executemany(
                "DELETE FROM vouched WHERE key = ?",
                [(key,) for key, ctime in pending.items() if ctime is None],
            )
