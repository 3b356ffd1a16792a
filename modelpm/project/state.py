"""What sync placed in a project: ``.modelpm/state.json``.

The state lets a no-op ``sync`` prove that nothing changed with one ``stat``
per file and no network. It is a cache of facts about this machine: losing it
costs a re-hash, never a wrong file, because an entry is trusted only while
the file's (size, mtime, inode) are exactly as recorded.
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

STATE_VERSION = 1


@dataclass(frozen=True)
class PlacedFile:
    """A file sync put in a destination, and how it looked right after."""

    digest: Digest
    size: int
    mtime_ns: int
    inode: int

    def matches(self, stat: os.stat_result) -> bool:
        return (stat.st_size, stat.st_mtime_ns, stat.st_ino) == (
            self.size,
            self.mtime_ns,
            self.inode,
        )


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
            }
            for name, placed in sorted(state.files.items())
        },
    }
    text = json.dumps(payload, indent=1, sort_keys=True) + "\n"
    with contextlib.suppress(OSError):
        if (project.state_dir / "state.json").read_text(encoding="utf-8") == text:
            return
    atomic_write_text(project.state_dir / "state.json", text)
