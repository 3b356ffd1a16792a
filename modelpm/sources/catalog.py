"""Which sources exist, how each one's endpoint is configured, and opening one.

Adding a source means one entry in :data:`modelpm.sources.endpoints.ENDPOINTS`, one branch in
:func:`open_source`, and a module or folder beside :mod:`modelpm.sources.hf`.
Implementations are imported only when a source is opened: nothing on the
no-op path loads a hub client.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from modelpm.values import SourceKind

if TYPE_CHECKING:
    from modelpm.config import Config
    from modelpm.sources.base import Source


def open_source(kind: SourceKind, config: Config) -> Source:
    """The source of ``kind`` as this run's configuration says (endpoint, token, retries)."""
    if kind == "hf":
        from modelpm.sources.hf.errors import offline_error
        from modelpm.sources.hf.source import API_RETRIES, HfSource
        from modelpm.sources.hf.token import find_token

        if config.offline:
            raise offline_error()
        retry = API_RETRIES
        if config.retry_delay is not None:
            retry = replace(retry, backoff=config.retry_delay)
        return HfSource(config.endpoints[kind], find_token(), retry=retry)
    raise AssertionError(f"unknown source {kind!r}")  # pragma: no cover - Literal is closed
