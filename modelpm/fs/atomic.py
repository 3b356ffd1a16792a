"""Atomic writes: a temp file in the same folder, fsync, then ``os.replace``.

Every write modelpm makes to a file a user can see goes through here, so a
crash at any point leaves either the old file or the new one, never half of
one. Temp names carry :data:`TEMP_PREFIX` and a random part, so a killed run's
leftovers can be told from a user's files (:mod:`modelpm.fs.cleanup`).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from modelpm.fs.errors import storage_errors

TEMP_PREFIX = ".modelpm-tmp-"


MAX_NAME_BYTES = 255


def temp_sibling(path: Path) -> Path:
    """A unique temp name in the same folder (so rename stays on one file system).

    It ends with the file's own name when that fits in 255 bytes (so leftovers of one
    file can be found by name), else with a digest of it: a name is limited in bytes,
    not characters, and a 255-byte name in another script must still be replaceable.
    """
    name = f"{TEMP_PREFIX}{secrets.token_hex(6)}-{path.name}"
    if len(name.encode()) > MAX_NAME_BYTES:
        short = hashlib.sha256(path.name.encode()).hexdigest()[:32]
        name = f"{TEMP_PREFIX}{secrets.token_hex(6)}-{short}"
    return path.with_name(name)


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable; a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` so readers see the old or the new file, never a mix.

    ``durable=False`` skips the fsyncs: still atomic against a killed process (the page
    cache survives it), not against power loss. For bookkeeping that is re-checked anyway.
    """
    with storage_errors(path, "write"):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_sibling(path)
        try:
            with tmp.open("wb") as handle:
                handle.write(data)
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if durable:
            fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str, *, durable: bool = True) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), durable=durable)
