"""One run's handle on the remote store: its address, account, health and clients.

:func:`open_remote` is what a command calls. For a sync (``strict=False``) it
never raises: a remote store it cannot even configure (a missing profile, an
unreadable shared file) is marked down with one warning, and the sync goes on
with its sources. Commands that exist only for the remote store (``store
push``, ``store gc --remote``, ``store verify --remote``) open it strictly and
report such a failure as their error.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from modelpm.config import RemoteSettings
from modelpm.errors import ModelpmError
from modelpm.s3url import S3Address
from modelpm.store.remote.account import Account, resolve_account
from modelpm.store.remote.origin import Health, RemoteOrigin

if TYPE_CHECKING:
    from modelpm.store.remote.client import RemoteClient


@dataclass
class Remote:
    """The remote store of one run."""

    settings: RemoteSettings
    account: Account
    health: Health
    _client: RemoteClient | None = None
    _client_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def address(self) -> S3Address:
        return self.settings.address

    @cached_property
    def origin(self) -> RemoteOrigin:
        return RemoteOrigin(self.address, self.account, self.health)

    @property
    def client(self) -> RemoteClient:
        """The writing client, made on first use (the only import of the S3 library)."""
        with self._client_lock:
            if self._client is None:
                from modelpm.store.remote.client import RemoteClient

                self._client = RemoteClient(self.address, self.account)
            return self._client


def open_remote(settings: RemoteSettings, *, strict: bool = True) -> Remote:
    """The remote store of ``settings``; see the module docstring for ``strict``."""
    try:
        account = resolve_account(settings)
    except ModelpmError as error:
        if strict:
            raise
        account = Account("https://unconfigured.invalid", "us-east-1", True, None)
        health = Health(settings.address, account)
        health.down(f"cannot be configured ({error.message})")
        return Remote(settings, account, health)
    return Remote(settings, account, Health(settings.address, account))
