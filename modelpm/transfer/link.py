"""What one attempt at an object borrows from the engine: the origin to ask, the HTTP
transport, the knobs, whom to tell, the clock and the pool of spare connections."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from modelpm.progress import Reporter
from modelpm.transfer.options import TransferOptions
from modelpm.transfer.origin import Origin
from modelpm.transfer.retry import Clock, RetryPolicy
from modelpm.transfer.transport import Transport


@dataclass(frozen=True)
class Link:
    """What an attempt borrows from the engine: where to ask, how, and whom to tell."""

    origin: Origin
    transport: Transport
    options: TransferOptions
    reporter: Reporter
    clock: Clock
    spare_connections: threading.BoundedSemaphore
    served: Callable[[int], None] = lambda _count: None  # bytes this origin sent, as they arrive

    @property
    def retry(self) -> RetryPolicy:
        """The origin's own retry policy if it has one (a remote store falls back fast)."""
        policy = getattr(self.origin, "retry_policy", None)
        return policy if isinstance(policy, RetryPolicy) else self.options.retry
