"""What sync placed in a project: ``.modelpm/state.sqlite``.

The state lets a no-op ``sync`` prove that nothing changed with one ``stat``
per file and no network. It is a cache of facts about this machine: losing it
costs a re-hash, never a wrong file, because an entry is trusted only while
the file's size, mtime, inode and change time are exactly as recorded. The
change time is what gives away an edit whose mtime was put back (``cp -p``,
``rsync -t``): no ``utime`` can set it. (A hard link that modelpm itself makes
to the same store object also moves it; the planner asks the store's ledger
for those.)

A sync records each file as it places it (:mod:`~modelpm.project.state_writer`, a
transaction per batch), so a run that is killed or fails keeps the record of everything it
placed and the next run re-hashes nothing. The format was chosen by measurement
(``benchmarks/bench_state.py``, at 50,000 files): SQLite from the standard library records
the whole state in 0.3 s, a file in 2 ms and reads it back in 0.12 s with a 23 MB heap,
where JSON in one piece needed 0.7 s to re-record a single file and 125 MB of heap. WAL
with ``synchronous=NORMAL``: a kill -9 loses nothing committed, a power loss at most the
last batches (a re-hash).

After a sync that placed every model of a fresh lock, the state also records the hash of
the inputs it was made from (:func:`inputs_key`: modelpm's version, ``models.toml`` and
``models.lock``, byte for byte). While those are unchanged, the lock is still fresh and
wants exactly the recorded files, so a no-op sync is proved by one ``stat`` per recorded
file, with no lock to parse (:func:`whole_and_untouched`). A session that may change the
state drops the key before it changes anything (the writer, as it opens).

The ``state.json`` that earlier builds wrote (version 2, JSON in one piece) is still read,
and replaced by the database at the next sync that has work to do; version 1 (no change
time) reads as empty.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from modelpm import version
from modelpm.project.layout import Project
from modelpm.values import Digest

STATE_VERSION = 3
STATE_NAME = "state.sqlite"
LEGACY_NAME = "state.json"  # earlier builds: JSON in one piece, version 2
_SELECT = "SELECT name, digest, size, mtime_ns, inode, ctime_ns FROM files"
INODES = 1 << 64  # st_ino is unsigned 64-bit, SQLite's integers signed: stored modulo this


def stored_inode(inode: int) -> int:
    """``inode`` as SQLite can hold it; ``stored % INODES`` gives it back."""
    return inode - INODES if inode >= INODES // 2 else inode


@dataclass(frozen=True, slots=True)
class PlacedFile:
    """A file sync put in a destination, and how it looked right after."""

    digest: Digest
    size: int
    mtime_ns: int
    inode: int
    ctime_ns: int

    @classmethod
    def of(cls, digest: Digest, stat: os.stat_result) -> PlacedFile:
        return cls(digest, stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_ctime_ns)

    def same_inode(self, stat: os.stat_result) -> bool:
        """The same file, its bytes' length and time as recorded (its ctime aside)."""
        return (stat.st_size, stat.st_mtime_ns, stat.st_ino) == (
            self.size,
            self.mtime_ns,
            self.inode,
        )

    def matches(self, stat: os.stat_result) -> bool:
        """Untouched since it was recorded: nothing about the inode changed."""
        return self.same_inode(stat) and stat.st_ctime_ns == self.ctime_ns


@dataclass(frozen=True)
class ModelSummary:
    """What ``status`` shows of a locked model: recorded by a whole sync, so that while
    its inputs are unchanged status needs no lock parsed."""

    commit: str
    files: int
    size: int


@dataclass(frozen=True)
class WholeSync:
    """A whole sync, still true: how many files it placed, and each model's summary."""

    files: int
    models: dict[str, ModelSummary]


class Recorder(Protocol):
    """Where a session's changes to the state go as they happen (the state writer)."""

    def put(self, target: str, placed: PlacedFile | None) -> None: ...


@dataclass
class State:
    """Record of placed files: ``files[dest-relative-to-root path]``. Change it through
    :meth:`record` and :meth:`forget`, which also write it through while a session holds a
    writer on it."""

    files: dict[str, PlacedFile] = field(default_factory=dict)
    inputs: str | None = None  # inputs_key() of the last whole sync, while nothing changed
    models: dict[str, ModelSummary] = field(default_factory=dict)  # recorded with inputs
    legacy: bool = False  # read from a state.json, which the writer replaces
    writer: Recorder | None = field(default=None, repr=False, compare=False)

    def record(self, target: str, placed: PlacedFile) -> None:
        self.files[target] = placed
        if self.writer is not None:
            self.writer.put(target, placed)

    def forget(self, target: str) -> PlacedFile:
        placed = self.files.pop(target)
        if self.writer is not None:
            self.writer.put(target, None)
        return placed


def inputs_key(project: Project) -> str | None:
    """The hash of what a whole sync was made from: modelpm's version, the manifest and
    the lock, byte for byte (None if either cannot be read)."""
    digest = hashlib.sha256(f"modelpm {version.VERSION} state {STATE_VERSION}\0".encode())
    try:
        for path in (project.manifest_path, project.lock_path):
            digest.update(path.read_bytes())
            digest.update(b"\0")
    except OSError:
        return None
    return digest.hexdigest()


@contextlib.contextmanager
def _reading(project: Project) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the state (raises sqlite3.Error if there is none)."""
    path = project.state_dir / STATE_NAME
    if not path.is_file():
        raise sqlite3.OperationalError("no state")
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        if db.execute("PRAGMA user_version").fetchone()[0] != STATE_VERSION:
            raise sqlite3.DatabaseError("a state of another version")
        yield db
    finally:
        db.close()


def _fact(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM facts WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else None


def whole_and_untouched(project: Project) -> WholeSync | None:
    """The last whole sync, if the manifest and lock are still the ones it was made from
    and every file is exactly as it was placed; else None.

    Streamed from the database, with no value built per file: this is the whole cost of a
    no-op sync of 50,000 files (one ``stat`` each)."""
    try:
        with _reading(project) as db:
            recorded = _fact(db, "inputs")
            if recorded is None or recorded != inputs_key(project):
                return None
            models = {
                name: ModelSummary(str(commit), int(files), int(size))
                for name, (commit, files, size) in json.loads(_fact(db, "models") or "").items()
            }
            prefix = f"{project.root}/"
            count = 0
            rows = db.execute("SELECT name, size, mtime_ns, inode, ctime_ns FROM files")
            for name, size, mtime_ns, inode, ctime_ns in rows:
                found = os.stat(prefix + name)
                if (
                    found.st_size,
                    found.st_mtime_ns,
                    found.st_ino,
                    found.st_ctime_ns,
                ) != (
                    size,
                    mtime_ns,
                    inode % INODES,
                    ctime_ns,
                ):
                    return None
                count += 1
            return WholeSync(count, models)
    except (OSError, sqlite3.Error, ValueError, TypeError, AttributeError):
        return None


def read_state(project: Project) -> State:
    """The recorded state; an unreadable or foreign state is treated as empty (costs a re-hash)."""
    try:
        with _reading(project) as db:
            files = {
                name: PlacedFile(
                    Digest.parse(*digest.rsplit("-", 1)), size, mtime_ns, inode % INODES, ctime
                )
                for name, digest, size, mtime_ns, inode, ctime in db.execute(_SELECT)
            }
            return State(files, _fact(db, "inputs"))
    except (sqlite3.Error, ValueError, TypeError):
        pass
    return _read_legacy(project)


def _read_legacy(project: Project) -> State:
    """A ``state.json`` of version 2, as earlier builds wrote it (its inputs key unused)."""
    try:
        data = json.loads((project.state_dir / LEGACY_NAME).read_text(encoding="utf-8"))
        if data.get("version") != 2:
            return State()
        files = {
            name: PlacedFile(
                Digest.parse(*entry["digest"].rsplit("-", 1)),
                int(entry["size"]),
                int(entry["mtime_ns"]),
                int(entry["inode"]),
                int(entry["ctime_ns"]),
            )
            for name, entry in data["files"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return State()
    return State(files, legacy=True)
