"""When to try again, and how long to wait: a retry policy on an injected clock.

A :class:`Budget` counts consecutive failures and is refilled whenever bytes
arrive, so a long download over a flaky link never runs out of retries while
it makes progress. Waits go through a :class:`Clock`, so tests drive time by
hand: a wait of ``Retry-After: 2`` advances a fake clock by exactly 2 s, and a
test can tell a honoured ``Retry-After`` from an ignored one.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale."""

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real, monotonic clock."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM_CLOCK = SystemClock()


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: ``backoff``, doubled on each consecutive failure, capped."""

    retries: int = 6  # consecutive failures without progress before giving up
    backoff: float = 0.5  # the first delay
    max_backoff: float = 20.0
    jitter: bool = True  # spread retries of many connections over [delay/2, delay]

    def delay(
        self, failures: int, asked: float | None = None, rand: Callable[[], float] = random.random
    ) -> float:
        """Seconds to wait after the ``failures``-th failure; what the server ``asked`` wins."""
        if asked is not None:
            return asked
        delay = min(self.max_backoff, self.backoff * 2.0 ** (failures - 1))
        return delay * (0.5 + rand() / 2) if self.jitter else delay


class Budget:
    """Consecutive failures of one connection, refilled by real progress.

    Progress is new bytes (ones that extend what is already written, never bytes sent
    again), and only a whole ``quantum`` of them since the last failure counts: a
    server that drips a few bytes, or always breaks off at the same place, runs out of
    retries instead of being retried forever.
    """

    def __init__(self, policy: RetryPolicy, quantum: int = 1) -> None:
        self.policy = policy
        self.quantum = quantum
        self.failures = 0
        self.gained = 0

    def progress(self, new_bytes: int) -> None:
        self.gained += new_bytes
        if self.gained >= self.quantum:
            self.failures = 0
            self.gained = 0

    def spend(self) -> bool:
        """Count a failure; False once the policy's retries are used up."""
        self.failures += 1
        self.gained = 0
        return self.failures <= self.policy.retries


def wait(clock: Clock, seconds: float, check: Callable[[], None], step: float = 0.2) -> None:
    """Wait ``seconds`` on ``clock`` in steps of at most ``step``, calling ``check`` before
    each (it raises to cut the wait short, e.g. on Ctrl-C)."""
    deadline = clock.now() + seconds
    while (left := deadline - clock.now()) > 0:
        check()
        clock.sleep(min(step, left))


class HighWater:
    """The most bytes of one object ever written, across the attempts of one fetch: bytes
    below it are sent again, not new (a server that ignores ``Range`` restarts at 0)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def extend(self, written: int) -> int:
        """Raise the mark to ``written``; return how many bytes that added (0 if none)."""
        with self._lock:
            added = max(0, written - self.value)
            self.value = max(self.value, written)
            return added
