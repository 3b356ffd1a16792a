"""What sync placed in a project: ``.modelpm/state.json``.

The state lets a no-op ``sync`` prove that nothing changed with one ``stat``
per file and no network. It is a cache of facts about this machine: losing it
costs a re-hash, never a wrong file, because an entry is trusted only while
the file's size, mtime, inode and change time are exactly as recorded. The
change time is what gives away an edit whose mtime was put back (``cp -p``,
``rsync -t``): no ``utime`` can set it. (A hard link that modelpm itself makes
to the same store object also moves it; the planner asks the store's ledger
for those.) Version 1 states (no change time) are read as empty: one re-hash.

After a sync that placed every model of a fresh lock, the state also records the hash of
the inputs it was made from (:func:`inputs_key`: modelpm's version, ``models.toml`` and
``models.lock``, byte for byte). While those are unchanged, the lock is still fresh and
wants exactly the recorded files, so a no-op sync is proved by one ``stat`` per recorded
file, with no lock to parse (:func:`whole_and_untouched`). Any session that may change the state
drops the key first (:meth:`~modelpm.project.session.ProjectSession.touch_state`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

from modelpm import version
from modelpm.fs.atomic import atomic_write_text
from modelpm.fs.errors import storage_errors
from modelpm.project.layout import Project
from modelpm.values import Digest

STATE_VERSION = 2


@dataclass(frozen=True)
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


@dataclass
class State:
    """Mutable record of placed files: ``files[dest-relative-to-root path]``."""

    files: dict[str, PlacedFile] = field(default_factory=dict)
    inputs: str | None = None  # inputs_key() of the last whole sync, while nothing changed


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


def whole_and_untouched(project: Project) -> int | None:
    """The number of files the last whole sync placed, if the manifest and lock are still
    the ones it was made from and every file is exactly as it was placed; else None.

    Read straight from the JSON, with no value built per file: this is the whole cost of
    a no-op sync of 50,000 files (one ``stat`` each)."""
    try:
        data = json.loads((project.state_dir / "state.json").read_bytes())
        inputs = data.get("inputs")
        if data.get("version") != STATE_VERSION or not isinstance(inputs, str):
            return None
        if inputs != inputs_key(project):
            return None
        prefix = f"{project.root}/"
        for name, entry in data["files"].items():
            found = os.stat(prefix + name)
            if (found.st_size, found.st_mtime_ns, found.st_ino, found.st_ctime_ns) != (
                entry["size"],
                entry["mtime_ns"],
                entry["inode"],
                entry["ctime_ns"],
            ):
                return None
        return len(data["files"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def read_state(project: Project) -> State:
    """The recorded state; an unreadable or foreign state is treated as empty (costs a re-hash)."""
    path = project.state_dir / "state.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != STATE_VERSION:
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
        inputs = data.get("inputs")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return State()
    return State(files, inputs if isinstance(inputs, str) else None)


def write_state(project: Project, state: State) -> None:
    with storage_errors(project.state_dir, "create"):
        project.state_dir.mkdir(exist_ok=True)
    ignore = project.state_dir / ".gitignore"
    if not ignore.exists():
        atomic_write_text(ignore, "*\n")
    payload: dict[str, Any] = {
        "version": STATE_VERSION,
        "files": {
            name: {
                "digest": placed.digest.key,
                "size": placed.size,
                "mtime_ns": placed.mtime_ns,
                "inode": placed.inode,
                "ctime_ns": placed.ctime_ns,
            }
            for name, placed in sorted(state.files.items())
        },
    }
    if state.inputs is not None:
        payload["inputs"] = state.inputs
    text = json.dumps(payload, indent=1, sort_keys=True) + "\n"
    with contextlib.suppress(OSError):
        if (project.state_dir / "state.json").read_text(encoding="utf-8") == text:
            return
    atomic_write_text(project.state_dir / "state.json", text)
