"""modelpm: machine-learning models as declared, locked, verified dependencies.

The library API mirrors the CLI::

    import modelpm
    modelpm.lock()                 # models.toml -> models.lock
    modelpm.sync()                 # models.lock -> verified files in each dest
    modelpm.verify()               # re-hash what is placed
    modelpm.status()               # one row per model
    modelpm.path("bert")           # Path of a synced model
    modelpm.publish("out", repo="acme/bert-ft", pin="bert-ft")   # push, verify, pin

The names are loaded on first use (PEP 562): ``import modelpm`` costs nothing,
so the ``modelpm`` command answers a no-op ``sync`` before it loads the rest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from modelpm.version import VERSION

if TYPE_CHECKING:
    from modelpm.api import (
        LockResult,
        ModelStatus,
        PublishResult,
        SyncResult,
        lock,
        path,
        publish,
        status,
        sync,
        verify,
    )
    from modelpm.errors import ModelpmError

__version__ = VERSION

__all__ = [
    "LockResult",
    "ModelStatus",
    "ModelpmError",
    "PublishResult",
    "SyncResult",
    "__version__",
    "lock",
    "path",
    "publish",
    "status",
    "sync",
    "verify",
]


def __getattr__(name: str) -> Any:
    if name == "ModelpmError":
        return importlib.import_module("modelpm.errors").ModelpmError
    if name in __all__:
        value = getattr(importlib.import_module("modelpm.api"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'modelpm' has no attribute {name!r}")
