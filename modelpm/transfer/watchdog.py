"""Connections that deliver too little are cut; on Ctrl-C, every connection is cut.

A socket timeout only fires when *no* byte arrives for that long, and a read fills a
whole buffer first, so a server that drips one byte every half second would hold a
connection (and the user's Ctrl-C) forever. The watchdog sees every reply in
flight: each ``window`` seconds a connection must have delivered at least
``min_rate × window`` bytes, else its socket is shut down and the read fails at once
(the connection then retries, and a trickle never counts as progress). On cancel,
every socket is shut down, so the transfer stops within one check (0.2 s).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from modelpm.transfer.retry import Clock
from modelpm.transfer.transport import Reply


@dataclass
class _Watched:
    reply: Reply
    since: float  # when this window began
    base: int  # bytes the connection had delivered then
    delivered: int = 0
    cut: bool = False


class Watchdog:
    def __init__(self, clock: Clock, min_rate: float, window: float) -> None:
        self.clock = clock
        self.min_rate = min_rate
        self.window = window
        self._lock = threading.Lock()
        self._watched: dict[int, _Watched] = {}

    @property
    def floor(self) -> float:
        """Bytes a connection must deliver per window."""
        return self.min_rate * self.window

    def watch(self, key: int, reply: Reply) -> None:
        with self._lock:
            self._watched[key] = _Watched(reply, self.clock.now(), 0)

    def delivered(self, key: int, count: int) -> None:
        with self._lock:
            watched = self._watched.get(key)
            if watched is not None:
                watched.delivered += count

    def release(self, key: int) -> bool:
        """Stop watching ``key``; True if the watchdog cut it for being too slow."""
        with self._lock:
            watched = self._watched.pop(key, None)
        return watched is not None and watched.cut

    def check(self) -> None:
        """Cut every connection that delivered too little over its last window."""
        now = self.clock.now()
        with self._lock:
            for watched in self._watched.values():
                if now - watched.since < self.window:
                    continue
                if watched.delivered - watched.base < self.min_rate * self.window:
                    watched.cut = True
                    watched.reply.abort()
                watched.since, watched.base = now, watched.delivered

    def cut_all(self) -> None:
        with self._lock:
            for watched in self._watched.values():
                watched.reply.abort()


class ReadSize:
    """How much one read asks for: small at first, doubled while reads come back at once,
    halved when one is slow. A read returns only when its buffer is full, so on a slow link
    a large one would hide the bytes from the watchdog (and lose them when cut); on a fast
    link a small one costs bookkeeping per byte. From 16 KiB up to ``largest``."""

    SMALLEST = 16 * 1024

    def __init__(self, largest: int) -> None:
        self.largest = max(largest, 1)
        self.size = min(self.SMALLEST, self.largest)

    def took(self, seconds: float) -> None:
        if seconds < 0.05 and self.size < self.largest:
            self.size = min(self.largest, self.size * 2)
        elif seconds > 1.0 and self.size > self.SMALLEST:
            self.size = max(self.SMALLEST, self.size // 2)
