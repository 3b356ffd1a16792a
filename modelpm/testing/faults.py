"""Switchable faults of the test hub, and the record of every request it answered.

A :class:`Fault` applies to the next ``times`` requests that match its
origin, method and a substring of the decoded path and query (``times=None``:
until cleared). Matching
takes a fault's turn atomically, so concurrent connections never both get a
fault meant for one.

Most faults spoil an answer. Two spoil an upload instead: ``drop`` and ``reset``
on a ``PUT`` cut the connection once ``after_bytes`` of the request body have
arrived, and ``corrupt_upload`` makes the hub store other bytes than it was sent
(one byte flipped) and list what it stored, as a broken storage backend would.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FaultKind = Literal[
    "status",
    "drop",
    "reset",
    "stall",
    "throttle",
    "corrupt",
    "truncate",
    "ignore_range",
    "expire_cdn",
    "answer",
    "drip",
    "corrupt_upload",
    "latency",
]
BODY_FAULTS = ("drop", "reset", "stall", "throttle", "corrupt", "truncate", "drip")
# "hub" and "cdn": the Hub and its CDN; "modelscope" and "ms-cdn": ModelScope and its own.
FaultOrigin = Literal["hub", "cdn", "modelscope", "ms-cdn", "any"]


@dataclass
class Fault:
    kind: FaultKind
    origin: FaultOrigin = "any"
    path_contains: str | None = None
    method: str | None = None
    times: int | None = 1
    status: int = 503
    retry_after: float | None = None
    after_bytes: int = 0
    seconds: float = 0.0
    rate: int = 0
    # "answer": the whole answer, as a hostile server would send it. "{self}" in a header
    # stands for the request's own URL; ``endless`` sends ``body`` over and over, chunked.
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    endless: bool = False
    skip: int = 0  # matching requests let through untouched before the fault starts

    def matches(self, origin: str, method: str, path: str) -> bool:
        return (
            self.origin in ("any", origin)
            and (self.method is None or self.method == method)
            and (self.path_contains is None or self.path_contains in path)
            and (self.times is None or self.times > 0)
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RequestRecord:
    origin: str
    method: str
    path: str
    query: str
    status: int
    headers: dict[str, str]
    body_bytes: int
    received_bytes: int = 0  # of the request body (uploads)


@dataclass
class LiveRecord:
    """A request's record while it is answered; entered as soon as the status line is."""

    origin: str
    method: str
    path: str
    query: str
    status: int
    headers: dict[str, str]
    body_bytes: int = 0
    received_bytes: int = 0

    def freeze(self) -> RequestRecord:
        return RequestRecord(**asdict(self))


@dataclass
class FaultBoard:
    """The active faults and the request log, shared by all server threads."""

    faults: list[Fault] = field(default_factory=list)
    records: list[LiveRecord] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()

    def take(self, origin: str, method: str, path: str) -> list[Fault]:
        """The faults this request gets, at most one of each kind (the first added); the
        ``times`` of each one taken goes down by one, so faults of one kind added one after
        another hit consecutive requests: a burst."""
        taken: list[Fault] = []
        with self.lock:
            for fault in self.faults:
                if fault.matches(origin, method, path) and all(
                    other.kind != fault.kind for other in taken
                ):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    if fault.times is not None:
                        fault.times -= 1
                    taken.append(fault)
            self.faults = [f for f in self.faults if f.times is None or f.times > 0]
        return taken

    def record(self, record: LiveRecord) -> None:
        with self.lock:
            self.records.append(record)

    def count(self, record: LiveRecord, sent: int) -> None:
        with self.lock:
            record.body_bytes += sent

    def snapshot(self) -> list[RequestRecord]:
        with self.lock:
            return [record.freeze() for record in self.records]

    def reset(self) -> None:
        with self.lock:
            self.records.clear()
