"""modelpm: machine-learning models as declared, locked, verified dependencies.

The library API mirrors the CLI::

    import modelpm
    modelpm.lock()                 # models.toml -> models.lock
    modelpm.sync()                 # models.lock -> verified files in each dest
    modelpm.verify()               # re-hash what is placed
    modelpm.status()               # one row per model
    modelpm.path("bert")           # Path of a synced model
"""

from modelpm.api import LockResult, ModelStatus, SyncResult, lock, path, status, sync, verify
from modelpm.errors import ModelpmError

__version__ = "0.1.0"

__all__ = [
    "LockResult",
    "ModelStatus",
    "ModelpmError",
    "SyncResult",
    "__version__",
    "lock",
    "path",
    "status",
    "sync",
    "verify",
]
