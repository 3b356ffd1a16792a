"""Bytes of one locked file from a hub into the store, verified.

Owns the transfer of a single object: finding where its bytes live (the
``/resolve`` URL, or the CDN link it redirects to), fetching the missing byte
ranges over one or several connections into a pre-sized partial file,
resuming across runs from the ``.ranges`` record, retrying with backoff,
hashing every byte in order, and committing to the store only on a match.
It does not decide what to fetch or where files are placed.

Partial state, per object (see :mod:`modelpm.store`)::

    partial/<algo>-<hex>.part     pre-sized to the final length; bytes land with pwrite
    partial/<algo>-<hex>.ranges   JSON {"size": n, "done": [[start, end], …]}

A range is recorded as done only after its bytes were written, so a run
killed at any moment (kill -9 included) resumes without re-sending what was
recorded, and re-sends only what arrived since the last record (every 50 ms)
and what was in flight. The
record is a claim, not a proof: the final hash decides, and a mismatch starts
the file over once before failing.
"""

from __future__ import annotations

import contextlib
import email.utils
import errno
import json
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urljoin

from modelpm.errors import IntegrityError, Interrupted, ModelpmError, NetworkError
from modelpm.fsutil import WriteBehind, atomic_write_text, storage_errors
from modelpm.hashing import BLOCK_SIZE, Hasher, new_hasher
from modelpm.hub import Hub, hub_error, network_error, same_origin
from modelpm.progress import NullReporter, Reporter
from modelpm.ranges import Ranges, chunk_gaps
from modelpm.store import Store
from modelpm.syncing import FileTask
from modelpm.transport import HttpPool, Response, TransportError

MiB = 1024 * 1024
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class TransferOptions:
    """Knobs of the transfer; the defaults suit both a LAN mirror and a throttled CDN."""

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
    retries: int = 6  # consecutive failures without progress before giving up
    backoff: float = 0.5  # first retry delay; doubles, capped at max_backoff
    max_backoff: float = 20.0
    record_every: float = 0.05  # seconds between .ranges records (a killed run re-sends this much)


def options_from_env(**overrides: float | None) -> TransferOptions:
    """Defaults, then ``MODELPM_CONNECTIONS`` / ``MODELPM_STALL_TIMEOUT`` /
    ``MODELPM_RETRY_DELAY``, then ``overrides``."""
    from modelpm.config import env_int, env_seconds

    values: dict[str, float | None] = {
        "connections": env_int("MODELPM_CONNECTIONS"),
        "stall_timeout": env_seconds("MODELPM_STALL_TIMEOUT"),
        "backoff": env_seconds("MODELPM_RETRY_DELAY"),
    }
    values.update({key: value for key, value in overrides.items() if value is not None})
    chosen = {key: value for key, value in values.items() if value is not None}
    return replace(TransferOptions(), **chosen)  # type: ignore[arg-type]


def make_pool(options: TransferOptions) -> HttpPool:
    """One pool of keep-alive connections for every transfer of a sync."""
    return HttpPool(timeout=options.stall_timeout)


class Downloader:
    """Fetches store objects for :func:`modelpm.syncing.apply_sync` (it is its ``fetcher``)."""

    def __init__(
        self,
        hub: Hub,
        store: Store,
        pool: HttpPool,
        options: TransferOptions | None = None,
        reporter: Reporter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.hub = hub
        self.store = store
        self.pool = pool
        self.options = options or TransferOptions()
        self.reporter = reporter or NullReporter()
        self.sleep = sleep
        # A large file's first connection is its own; the others are borrowed from here one
        # piece at a time, so when one large file finishes, its connections go to the rest.
        self.spare_connections = threading.BoundedSemaphore(max(0, self.options.connections - 1))

    def __call__(self, task: FileTask, cancel: threading.Event) -> None:
        self.fetch(task, cancel)

    def fetch(self, task: FileTask, cancel: threading.Event | None = None) -> Path:
        """Make sure the object of ``task`` is in the store; return its path."""
        cancel = cancel or threading.Event()
        with self.store.locked(task.digest, cancel):
            if self.store.has(task.digest, task.size):
                return self.store.object_path(task.digest)
            self.store.remove_stale_temp_files(task.digest)
            self.reporter.file_started(task.label, task.size)
            ranged = True
            attempt = 0
            while True:
                attempt += 1
                try:
                    got = _Transfer(self, task, cancel, ranged).run()
                except _RangeIgnored:
                    # The server sends whole bodies only: start over on one connection.
                    self._start_over(task)
                    ranged = False
                    continue
                if got == task.digest.hexdigest:
                    path = self.store.commit_partial(task.digest)
                    self.reporter.file_done(task.label)
                    return path
                self._start_over(task)
                if attempt >= 2:
                    raise IntegrityError(
                        f"{task.label}: downloaded bytes do not match the lock "
                        f"(expected {task.digest}, got {task.digest.algorithm}:{got})",
                        hint="the hub or mirror served other bytes than it attested; try "
                        "again later or another endpoint",
                    )
                self.reporter.note(f"{task.label}: hash mismatch, downloading it again")

    def _start_over(self, task: FileTask) -> None:
        written = _written_bytes(self.store, task)
        self.store.discard_partial(task.digest)
        self.reporter.advance(task.label, -written)


def _written_bytes(store: Store, task: FileTask) -> int:
    try:
        data = json.loads(store.ranges_path(task.digest).read_text(encoding="utf-8"))
        return sum(int(end) - int(start) for start, end in data["done"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


class _RangeIgnored(Exception):
    """The server answered a ranged request with the whole body (200)."""


class _Retry(Exception):
    """A failure worth another attempt (after ``delay`` seconds, if the server said)."""

    def __init__(self, reason: str, delay: float | None = None, relocate: bool = False) -> None:
        super().__init__(reason)
        self.delay = delay
        self.relocate = relocate


class _Stop(Exception):
    """Another connection of the same file failed; this one quits quietly."""


@dataclass
class _Segment:
    """A byte range one connection is fetching; ``end`` may shrink when another steals its tail."""

    start: int
    end: int
    pos: int = field(init=False)

    def __post_init__(self) -> None:
        self.pos = self.start


class _Transfer:
    """One download attempt of one object."""

    def __init__(
        self, owner: Downloader, task: FileTask, cancel: threading.Event, ranged: bool
    ) -> None:
        self.owner = owner
        self.task = task
        self.cancel = cancel
        self.options = owner.options
        self.ranged = ranged
        self.partial = owner.store.partial_path(task.digest)
        self.ranges_path = owner.store.ranges_path(task.digest)
        self.resolve_url = owner.hub.file_url(task.repo, task.commit, task.path)
        self.data_url: str | None = None
        self.located = threading.Event()
        self.cond = threading.Condition()
        self.ranges = Ranges(task.size)
        self.active: list[_Segment] = []
        self.queue: list[_Segment] = []
        self.failure: BaseException | None = None
        self.finished = False
        self.record_lock = threading.Lock()
        self.last_record = 0.0
        self.fd = -1
        self.write_behind: WriteBehind | None = None
        self.hasher: Hasher = new_hasher(task.digest.algorithm, task.size)
        self.hash_lock = threading.Lock()  # whoever feeds the hasher holds it
        self.hashed = 0  # bytes hashed, from offset 0
        # Hash alongside the download only when no byte can be written twice; a server
        # that ignores Range may make us rewrite from offset 0. Then a thread hashes what
        # lands out of order while the rest downloads.
        self.following = ranged and task.size >= self.options.split_size
        self.resumed_to = 0  # where this attempt's first missing byte is

    # -- the attempt as a whole ------------------------------------------------

    def run(self) -> str:
        """Download what is missing, hash everything in order, return the hex digest."""
        with storage_errors(self.partial, "write"):
            self.partial.parent.mkdir(parents=True, exist_ok=True)
            if self.ranged:
                self._load_ranges()
            self.fd = os.open(self.partial, os.O_RDWR | os.O_CREAT, 0o644)
        self.write_behind = WriteBehind(self.fd, self.options.write_behind)
        try:
            self._reserve_space()
            if self.ranges.written:
                self.owner.reporter.advance(self.task.label, self.ranges.written)
            follower = None
            if self.following:
                follower = threading.Thread(target=self._hash_following, daemon=True)
                follower.start()
            try:
                self._download()
            finally:
                with self.cond:
                    self.finished = True
                    self.cond.notify_all()
                if follower is not None:
                    follower.join()
                self._record(force=True)
            if self.failure is not None:
                raise self.failure
            with storage_errors(self.partial, "read"):
                self._hash_from_disk(self.task.size)
            return self.hasher.hexdigest()
        finally:
            os.close(self.fd)

    def _reserve_space(self) -> None:
        """Give the partial its final size; reserve the blocks so a full disk fails now."""
        with storage_errors(self.partial, "write"):
            if os.fstat(self.fd).st_size != self.task.size:
                os.ftruncate(self.fd, self.task.size)
            if self.task.size and hasattr(os, "posix_fallocate"):
                try:
                    os.posix_fallocate(self.fd, 0, self.task.size)
                except OSError as exc:
                    if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                        raise

    def _load_ranges(self) -> None:
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            data = json.loads(self.ranges_path.read_text(encoding="utf-8"))
            if data.get("size") != self.task.size or self.partial.stat().st_size != self.task.size:
                return
            for start, end in data["done"]:
                if 0 <= int(start) < int(end) <= self.task.size:
                    self.ranges.add(int(start), int(end))

    def _record(self, force: bool = False) -> None:
        if not force and time.monotonic() - self.last_record < self.options.record_every:
            return
        # One writer at a time; a connection that finds another writing skips its turn.
        if not self.record_lock.acquire(blocking=force):
            return
        try:
            now = time.monotonic()
            if not force and now - self.last_record < self.options.record_every:
                return
            self.last_record = now
            with self.cond:
                text = json.dumps({"size": self.ranges.size, "done": self.ranges.done})
            # A failed record only costs re-sending bytes on the next run.
            with contextlib.suppress(ModelpmError):
                # Not fsynced: the final hash, not this record, is what proves the bytes.
                atomic_write_text(self.ranges_path, text, durable=False)
        finally:
            self.record_lock.release()

    # -- hashing, in order ------------------------------------------------------

    def _hash_inline(self, data: memoryview, offset: int) -> None:
        """Hash bytes just written if they extend the hashed prefix, straight from the
        receive buffer: no read back, and the bytes are still in the CPU cache (measured
        here: 0.62 s against 0.9 s per GiB). Otherwise they are hashed from disk later."""
        if not self.ranged or self.hashed != offset or not self.hash_lock.acquire(False):
            return
        try:
            if self.hashed == offset:
                self.hasher.update(data)
                self._hashed_to(offset + len(data))
        finally:
            self.hash_lock.release()

    def _hash_from_disk(self, end: int) -> None:
        """Hash from the hashed prefix up to ``end``, reading the partial back."""
        buffer = bytearray(BLOCK_SIZE)
        view = memoryview(buffer)
        while True:
            with self.hash_lock:  # one block at a time: an inline hash may take over
                start = self.hashed
                if start >= end:
                    return
                count = os.preadv(self.fd, [view[: min(BLOCK_SIZE, end - start)]], start)
                if count <= 0:
                    raise OSError(errno.EIO, f"short read of {self.partial}")
                self.hasher.update(view[:count])
                self._hashed_to(start + count)

    def _hashed_to(self, offset: int) -> None:
        with self.cond:
            self.hashed = offset
            self.cond.notify_all()
        if self.write_behind is not None:
            self.write_behind.advance(offset)

    def _hash_following(self) -> None:
        """Hash what was written out of order while the rest downloads (hashlib releases
        the GIL)."""
        while True:
            with self.cond:
                while self.ranges.prefix() <= self.hashed and not self.finished:
                    self.cond.wait(0.5)
                end = self.ranges.prefix()
                if end <= self.hashed:
                    return
            try:
                self._hash_from_disk(end)
            except OSError as exc:
                self._fail(exc)
                return

    # -- connections -------------------------------------------------------------

    def _connections(self) -> int:
        if not self.ranged or self.task.size < self.options.split_size:
            return 1
        return max(1, self.options.connections)

    def _download(self) -> None:
        gaps = self.ranges.missing()
        if not gaps:
            return
        if not self.ranged:
            gaps = [(0, self.task.size)]
        self.resumed_to = gaps[0][0]
        chunk = self.options.chunk_size if self._connections() > 1 else self.task.size
        self.queue = [
            _Segment(start, end)
            for start, end in chunk_gaps(gaps, chunk, self.options.min_segment)
        ]
        count = min(len(self.queue), self._connections())
        workers = [
            threading.Thread(target=self._worker, args=(index,), daemon=True)
            for index in range(count)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            while worker.is_alive():
                worker.join(0.2)
                if self.cancel.is_set():
                    self._fail(Interrupted("interrupted", hint="run sync again to resume"))
        if self.failure is None and not self.ranges.complete:
            self._fail(NetworkError(f"{self.task.label}: the download ended incomplete"))

    def _fail(self, exc: BaseException) -> None:
        with self.cond:
            if self.failure is None:
                self.failure = exc
            self.cond.notify_all()
        self.located.set()

    def _next_segment(self) -> _Segment | None:
        """A queued segment, or the far half of the largest active one (work stealing)."""
        with self.cond:
            if self.failure is not None or not self._wait_for_hash():
                return None
            if self.queue:
                segment = self.queue.pop(0)
                self.active.append(segment)
                return segment
            victim = self._steal_candidate()
            if victim is None:
                return None
            # The victim may be writing one read past its pos right now: stay clear of it,
            # so no byte is ever written twice (the hash follows what is written).
            middle = victim.pos + max(self.options.read_size, (victim.end - victim.pos) // 2)
            stolen = _Segment(middle, victim.end)
            victim.end = middle
            self.active.append(stolen)
            return stolen

    def _steal_candidate(self) -> _Segment | None:
        """The active segment with the most left, if enough is left to share (hold cond)."""
        victims = [seg for seg in self.active if seg.end - seg.pos >= 2 * self.options.min_segment]
        return max(victims, key=lambda seg: seg.end - seg.pos, default=None)

    def _ahead_of_hash(self) -> bool:
        """True while the next piece lies a whole window beyond the hash (hold cond).

        Bytes arrive faster than one core hashes them on a fast link; without this bound
        they would pile up unhashed in the page cache, which costs more than it saves.
        """
        if not (self.following and self.queue):
            return False
        # The pieces in flight come on top, or connections would idle on a throttled link.
        window = self.options.window + self._connections() * self.options.chunk_size
        return self.queue[0].start - max(self.hashed, self.resumed_to) >= window

    def _wait_for_hash(self) -> bool:
        """Wait (holding cond) while the download is a window ahead of its hash; False if
        the attempt failed or was cancelled meanwhile."""
        while self._ahead_of_hash():
            if self.failure is not None or self.cancel.is_set():
                return False
            self.cond.wait(0.2)
        return True

    def _take_spare_connection(self) -> bool:
        """Wait for a shared connection slot; False once this file has no work left for it."""
        with self.cond:  # while the hash catches up a slot would sit idle: leave it to others
            if not self._wait_for_hash():
                return False
        while not self.owner.spare_connections.acquire(timeout=0.1):
            self._check()
            with self.cond:
                if not self.queue and self._steal_candidate() is None:
                    return False
        return True

    def _worker(self, index: int) -> None:
        borrows = index > 0
        if borrows:
            # Let the first connection learn where the bytes are (one /resolve, not N).
            while not self.located.wait(0.2):
                if self.cancel.is_set() or self.failure is not None:
                    return
        budget = _Budget(self)
        try:
            while not borrows or self._take_spare_connection():
                try:
                    segment = self._next_segment()
                    if segment is None:
                        return
                    try:
                        while segment.pos < segment.end:
                            try:
                                self._fetch(segment, budget)
                            except _Retry as retry:
                                budget.wait(retry)
                            except TransportError as exc:
                                budget.wait(_Retry(str(exc)), exc)
                    finally:
                        with self.cond:
                            self.active.remove(segment)
                finally:
                    if borrows:
                        self.owner.spare_connections.release()
        except _Stop:
            return
        except BaseException as exc:  # noqa: BLE001 - handed to the thread that waits
            self._fail(exc)

    def _check(self) -> None:
        if self.failure is not None:
            raise _Stop()
        if self.cancel.is_set():
            raise Interrupted("interrupted", hint="run sync again to resume")

    def _open(self, segment: _Segment) -> Response:
        """A 2xx response for ``segment``, its body unread, after the hub's redirects."""
        url = self.data_url or self.resolve_url
        for _hop in range(10):
            self._check()
            headers = self.owner.hub.auth_headers(url)
            if self.ranged and (segment.pos > 0 or segment.end < self.task.size):
                headers["range"] = f"bytes={segment.pos}-{segment.end - 1}"
            response = self.owner.pool.request("GET", url, headers)
            if response.status not in _REDIRECTS:
                try:
                    self._check_status(response, url)
                except BaseException:
                    response.close()
                    raise
                self.data_url = url
                self.located.set()
                return response
            location = response.headers.get("location")
            response.close()
            if not location:
                raise _Retry(f"HTTP {response.status} without a Location")
            url = urljoin(url, location)
            if not same_origin(url, self.resolve_url):
                self.data_url = url
        raise NetworkError(f"{self.task.label}: too many redirects from {self.resolve_url}")

    def _check_status(self, response: Response, url: str) -> None:
        status = response.status
        if status in (200, 206):
            return
        if status in (408, 429) or status >= 500:
            raise _Retry(f"HTTP {status}", delay=_retry_after(response.headers))
        if status == 416:
            raise IntegrityError(
                f"{self.task.label}: the server has fewer bytes than the {self.task.size} "
                "the lock records (HTTP 416 for a range inside that size)",
                hint="the endpoint serves another file than it listed; try another endpoint, "
                "or run `modelpm lock --upgrade-model` if the repo was rewritten",
            )
        if status in (403, 410) and not same_origin(url, self.resolve_url):
            # A signed CDN link that expired: ask /resolve for a fresh one.
            raise _Retry(f"the download link expired (HTTP {status})", relocate=True)
        detail = response.headers.get("x-error-message") or response.read_text(300).strip()
        raise hub_error(
            response.headers.get("x-error-code"), status, self.owner.hub.endpoint,
            self.task.repo, self.task.commit, detail.splitlines()[0] if detail else "",
        )

    def _fetch(self, segment: _Segment, budget: _Budget) -> None:
        with self._open(segment) as response:
            if response.status == 200 and (segment.pos > 0 or segment.end < self.task.size):
                if self.ranged:
                    raise _RangeIgnored()
                # Whole bodies only, and this is a retry: the body starts at byte 0 again.
                with self.cond:
                    self.owner.reporter.advance(self.task.label, -self.ranges.written)
                    self.ranges = Ranges(self.task.size)
                    segment.pos = 0
            start = segment.pos
            buffer = memoryview(bytearray(self.options.read_size))
            while True:
                self._check()
                with self.cond:
                    want = min(len(buffer), segment.end - segment.pos)
                if want <= 0:
                    return  # done, or another connection took over our tail
                try:
                    # http.client fills the buffer unless the body ends: one round of
                    # bookkeeping per read_size, however slowly the bytes trickle in.
                    count = response.readinto(buffer[:want])
                except TransportError as exc:
                    raise _Retry(f"connection dropped ({exc})") from exc
                if count == 0:
                    break
                self._write(buffer[:count], segment.pos)
                # Before the bytes count as written, so the follower never reads them.
                self._hash_inline(buffer[:count], segment.pos)
                with self.cond:
                    self.ranges.add(segment.pos, segment.pos + count)
                    segment.pos += count
                    self.cond.notify_all()
                budget.progress()
                self.owner.reporter.advance(self.task.label, count)
                self._record()
            if segment.pos < segment.end:
                received = segment.pos - start
                raise _Retry(f"the body ended early after {received} bytes")

    def _write(self, data: memoryview, offset: int) -> None:
        with storage_errors(self.partial, "write"):
            while data:
                written = os.pwrite(self.fd, data, offset)
                data, offset = data[written:], offset + written


class _Budget:
    """Retries with exponential backoff and jitter; refilled whenever bytes arrive."""

    def __init__(self, transfer: _Transfer) -> None:
        self.transfer = transfer
        self.failures = 0

    def progress(self) -> None:
        self.failures = 0

    def wait(self, retry: _Retry, cause: BaseException | None = None) -> None:
        transfer = self.transfer
        options = transfer.options
        self.failures += 1
        if self.failures > options.retries:
            if cause is not None:
                raise network_error(transfer.owner.hub.endpoint, cause) from None
            raise NetworkError(
                f"{transfer.task.label}: giving up after {options.retries} retries ({retry})",
                hint="check your connection and run sync again; it resumes where it stopped",
            )
        if retry.relocate:
            transfer.data_url = None
        delay = retry.delay
        if delay is None:
            delay = min(options.max_backoff, options.backoff * 2 ** (self.failures - 1))
            delay *= 0.5 + random.random() / 2
        transfer.owner.reporter.note(f"{transfer.task.label}: {retry}; retrying in {delay:.1f}s")
        deadline = time.monotonic() + delay
        while (left := deadline - time.monotonic()) > 0:
            transfer._check()
            transfer.owner.sleep(min(0.2, left))


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(120.0, max(0.0, seconds))
