"""The lock, ``models.lock``: exactly which bytes the project uses.

:mod:`~modelpm.lockfile.model` holds the values, :mod:`~modelpm.lockfile.render`
the one canonical text, :mod:`~modelpm.lockfile.parse` the strict reader of every
version, :mod:`~modelpm.lockfile.io` the atomic read and write.
"""

from modelpm.lockfile.io import LOCK_NAME, read_lock, write_lock
from modelpm.lockfile.model import LOCK_VERSION, Lock, LockedFile, LockedModel
from modelpm.lockfile.parse import parse_lock
from modelpm.lockfile.render import render_lock

__all__ = [
    "LOCK_NAME",
    "LOCK_VERSION",
    "Lock",
    "LockedFile",
    "LockedModel",
    "parse_lock",
    "read_lock",
    "render_lock",
    "write_lock",
]
