"""The knobs of a transfer; the defaults suit both a LAN mirror and a throttled CDN."""

from __future__ import annotations

from dataclasses import dataclass, field

from modelpm.transfer.retry import RetryPolicy

MiB = 1024 * 1024


@dataclass(frozen=True)
class TransferOptions:
    connections: int = 16  # per large file; large files downloading at once share them
    split_size: int = 64 * MiB  # files at least this large use several connections
    chunk_size: int = 16 * MiB  # a large file is fetched in pieces of this size, in order
    min_segment: int = 8 * MiB  # never split a range below this
    window: int = 256 * MiB  # how far a large file's download may run ahead of its hash,
    # beyond the pieces in flight
    write_behind: int = 64 * MiB  # hashed bytes this far behind are dropped from the page cache
    read_size: int = 1 * MiB  # bytes asked from the socket per read
    connect_timeout: float = 10.0
    stall_timeout: float = 30.0  # no byte for this long: drop the connection and retry
    min_rate: float = 1024.0  # bytes per second a connection must average over a window...
    rate_window: float = 30.0  # ...of this many seconds, or it is cut and retried
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    record_every: float = 0.05  # seconds between resume records (a killed run re-sends this much)
