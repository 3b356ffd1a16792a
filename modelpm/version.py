"""modelpm's version, in a module of its own: the state's key reads it, and importing the
package face (:mod:`modelpm`, which loads the whole API) from below would be a cycle."""

from __future__ import annotations

VERSION = "0.1.0"  # the same as pyproject.toml's


def version_line() -> str:
    """What ``modelpm --version`` prints."""
    return f"modelpm {VERSION}"
