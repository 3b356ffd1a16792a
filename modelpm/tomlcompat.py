"""The one TOML reader: ``tomllib`` (Python 3.11+) or its backport ``tomli``.

Reading goes through here everywhere; writing a human-edited file goes through
tomlkit (:mod:`modelpm.manifest.edit`), and the lock is rendered by hand
(:mod:`modelpm.lockfile.render`) so its bytes are fixed by this project alone.
"""

from __future__ import annotations

import sys
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

TOMLDecodeError = tomllib.TOMLDecodeError


def loads(text: str) -> dict[str, Any]:
    """Parse TOML text; raises :data:`TOMLDecodeError`."""
    return tomllib.loads(text)
