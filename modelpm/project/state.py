"""What sync placed in a project: ``.modelpm/state.json``.

The state lets a no-op ``sync`` prove that nothing changed with one ``stat``
per file and no network. It is a cache of facts about this machine: losing it
costs a re-hash, never a wrong file, because an entry is trusted only while
the file's size, mtime, inode and change time are exactly as recorded. The
change time is what gives away an edit whose mtime was put back (``cp -p``,
``rsync -t``): no ``utime`` can set it. (A hard link that modelpm itself makes
to the same store object also moves it; the planner asks the store's ledger
for those.) Version 1 states (no change time) are read as empty: one re-hash.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

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
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return State()
    return State(files)


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
    text = json.dumps(payload, indent=1, sort_keys=True) + "\n"
    with contextlib.suppress(OSError):
        if (project.state_dir / "state.json").read_text(encoding="utf-8") == text:
            return
    atomic_write_text(project.state_dir / "state.json", text)
