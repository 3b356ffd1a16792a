"""Reading and writing ``models.lock`` on disk.

Invariant: the lock is replaced atomically, and only when its content changes:
a lock read in an older format (version 1) that pins the same models is left
byte for byte as it is, so upgrading modelpm never dirties a checkout by itself.
"""

from __future__ import annotations

from pathlib import Path

from modelpm.errors import LockfileError
from modelpm.lockfile.model import Lock
from modelpm.lockfile.parse import parse_lock

LOCK_NAME = "models.lock"


def read_lock(path: Path) -> Lock | None:
    """The lock at ``path``, or None when there is none yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise LockfileError(f"cannot read {path}: {exc}") from None
    return parse_lock(text, path.name)


def write_lock(path: Path, lock: Lock, previous: Lock | None = None) -> bool:
    """Write ``lock`` atomically unless it pins what ``previous`` (what is on disk) pins,
    or the file already holds exactly its text; return whether it was written."""
    if lock.same_content(previous):
        return False
    # Imported here: reading a lock (all a no-op sync does) needs neither.
    from modelpm.fs.atomic import atomic_write_text
    from modelpm.lockfile.render import render_lock

    text = render_lock(lock)
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    atomic_write_text(path, text)
    return True
