"""One frozen settings object: flags > environment > ``[settings]`` > defaults.

Environment variables read here (and documented in the README):
``MODELPM_HOME`` (the store), ``HF_ENDPOINT`` (the hub or a mirror),
``MODELPM_JOBS``; :func:`env_int` and :func:`env_seconds` parse the transfer
knobs (``MODELPM_CONNECTIONS``, ``MODELPM_STALL_TIMEOUT``, ``MODELPM_RETRY_DELAY``)
so a bad value is a usage error, not a traceback. The token is not part of the
configuration: it is looked up by :func:`modelpm.hub.find_token` at the moment a
hub client is made and lives only inside that client, so no settings object can
print it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from modelpm.errors import UsageError
from modelpm.hub import endpoint_from
from modelpm.manifest import Manifest
from modelpm.store import default_store_root

DEFAULT_JOBS = 8


@dataclass(frozen=True)
class Config:
    endpoint: str
    store_root: Path
    jobs: int


def resolve_config(
    manifest: Manifest,
    *,
    store: str | os.PathLike[str] | None = None,
    endpoint: str | None = None,
    jobs: int | None = None,
) -> Config:
    """Settings for one run; explicit arguments win over the environment and the manifest."""
    if store is not None:
        store_root = Path(store).expanduser()
    elif os.environ.get("MODELPM_HOME"):
        store_root = Path(os.environ["MODELPM_HOME"]).expanduser()
    elif manifest.settings.store:
        store_root = manifest.root / Path(manifest.settings.store).expanduser()
    else:
        store_root = default_store_root()
    if jobs is None:
        jobs = env_int("MODELPM_JOBS")
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {jobs}")
    resolved_endpoint = (endpoint or endpoint_from(manifest.settings.endpoint)).rstrip("/")
    return Config(
        endpoint=resolved_endpoint,
        store_root=store_root.resolve(),
        jobs=jobs or DEFAULT_JOBS,
    )


def env_int(name: str) -> int | None:
    """A whole number of at least 1 from the environment, or None when unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise UsageError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


def env_seconds(name: str) -> float | None:
    """A non-negative number of seconds from the environment, or None when unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise UsageError(f"{name} must be a number of seconds, not {raw!r}")
    return value
