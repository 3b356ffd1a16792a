"""Which sources exist, how each one's endpoint is configured, and opening one.

Adding a source means one entry in :data:`modelpm.sources.endpoints.ENDPOINTS`, one branch in
:func:`open_source`, and a folder beside :mod:`modelpm.sources.hf` (as
:mod:`modelpm.sources.modelscope`).
Implementations are imported only when a source is opened: nothing on the
no-op path loads a hub client.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from modelpm.values import SourceKind

if TYPE_CHECKING:
    from modelpm.sources.base import Source
    from modelpm.upload.target import Publisher


def open_source(
    kind: SourceKind,
    endpoint: str,
    *,
    offline: bool = False,
    retry_delay: float | None = None,
    timeout: float | None = None,
) -> Source:
    """The source of ``kind`` at ``endpoint``, with its own token and API retries.

    ``offline`` (the environment forbids the network) makes opening it the error, so a
    command that needs a source says so before any request.
    """
    if kind == "hf":
        from modelpm.sources.hf.errors import offline_error
        from modelpm.sources.hf.source import API_RETRIES, HfSource
        from modelpm.sources.hf.token import find_token

        if offline:
            raise offline_error()
        retry = API_RETRIES if retry_delay is None else replace(API_RETRIES, backoff=retry_delay)
        return HfSource(endpoint, find_token(), retry=retry, timeout=timeout or 30.0)
    if kind == "modelscope":
        from modelpm.sources.modelscope import api, errors, source, token

        if offline:
            raise errors.offline_error()
        retry = (
            api.API_RETRIES
            if retry_delay is None
            else replace(api.API_RETRIES, backoff=retry_delay)
        )
        return source.ModelScopeSource(
            endpoint, token.find_token(), retry=retry, timeout=timeout or 30.0
        )
    raise AssertionError(f"unknown source {kind!r}")  # pragma: no cover - Literal is closed


def open_publisher(kind: SourceKind, endpoint: str, *, offline: bool = False) -> Publisher:
    """What pushes to the source of ``kind`` at ``endpoint``, with the source's own token
    (found as downloads find it); a push needs one."""
    if kind == "hf":
        from modelpm.errors import WriteRefusedError
        from modelpm.sources.hf.errors import offline_error
        from modelpm.sources.hf.publish import HfPublisher
        from modelpm.sources.hf.token import find_token

        if offline:
            raise offline_error()
        token = find_token()
        if not token:
            raise WriteRefusedError(
                f"publishing to {endpoint} needs a token, and none is set",
                hint="set HF_TOKEN to a token with write access (or run `hf auth login`)",
            )
        return HfPublisher(endpoint, token)
    # Only the Hub takes pushes; publishing names it, never a manifest's source.
    raise AssertionError(f"no publisher for {kind!r}")  # pragma: no cover
