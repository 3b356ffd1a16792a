"""Resume records: which byte ranges of a partial download are written.

Per object, beside its partial file (see :mod:`modelpm.store.local`)::

    partial/<algo>-<hex>.part     pre-sized to the final length; bytes land with pwrite
    partial/<algo>-<hex>.ranges   JSON {"size": n, "done": [[start, end], …]}

A range is recorded as done only after its bytes were written, so a run
killed at any moment (kill -9 included) resumes without re-sending what was
recorded, and re-sends only what arrived since the last record (every
``record_every`` seconds) and what was in flight. The record is a claim, not a
proof: the final hash decides, and a mismatch starts the file over.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from modelpm.errors import ModelpmError
from modelpm.fs.atomic import atomic_write_text
from modelpm.transfer.ranges import Ranges


def load_ranges(record: Path, partial_fd: int, size: int) -> Ranges:
    """The ranges a record claims for a partial of ``size`` bytes; none if it does not fit."""
    ranges = Ranges(size)
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        data = json.loads(_read_own(record))
        if data.get("size") != size or os.fstat(partial_fd).st_size != size:
            return ranges
        for start, end in data["done"]:
            if 0 <= int(start) < int(end) <= size:
                ranges.add(int(start), int(end))
    return ranges


def _read_own(record: Path) -> str:
    """A record's text, never read through a symbolic link (one planted there says nothing)."""
    fd = os.open(record, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, encoding="utf-8") as handle:
        return handle.read(1 << 20)


def recorded_bytes(record: Path) -> int:
    """How many bytes a record claims (0 if there is none or it is unreadable)."""
    try:
        data = json.loads(_read_own(record))
        return sum(int(end) - int(start) for start, end in data["done"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


class RecordWriter:
    """Writes a record at most every ``every`` seconds, one writer at a time.

    ``snapshot`` returns the record's text (taken under the caller's lock). A failed
    write only costs re-sending bytes on the next run, so it is not an error. The first
    record is due ``every`` seconds after the start: a file that arrives sooner (most
    files of a dataset) never has one, and a run killed before it loses only what that
    much time brought.
    """

    def __init__(self, path: Path, every: float, snapshot: Callable[[], str]) -> None:
        self.path = path
        self.every = every
        self.snapshot = snapshot
        self.lock = threading.Lock()
        self.last = time.monotonic()
        self.written = False  # a record was written by this writer

    def record(self, force: bool = False) -> None:
        if not force and time.monotonic() - self.last < self.every:
            return
        # A connection that finds another writing skips its turn.
        if not self.lock.acquire(blocking=force):
            return
        try:
            now = time.monotonic()
            if not force and now - self.last < self.every:
                return
            self.last = now
            text = self.snapshot()
            with contextlib.suppress(ModelpmError):
                # Not fsynced: the final hash, not this record, is what proves the bytes.
                atomic_write_text(self.path, text, durable=False)
                self.written = True
        finally:
            self.lock.release()


def ranges_text(ranges: Ranges) -> str:
    return json.dumps({"size": ranges.size, "done": ranges.done})
