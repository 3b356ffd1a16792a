"""One attempt at one object: missing ranges over one or several connections.

The partial file is pre-sized; connections take pieces of ``chunk_size`` from
the front of a queue (so bytes arrive roughly in order and the hash front
keeps up), and a connection with nothing queued steals the far half of the
largest piece in flight. The first connection locates the bytes; the others,
borrowed one piece at a time from the engine's shared pool of spare
connections, wait until it has. Invariant: no byte is ever written twice in a
ranged attempt, so the in-order hash sees each byte once; a server that
ignores ``Range`` ends the attempt with :class:`RangeIgnored` and the next one
runs on a single connection from byte 0.
"""

from __future__ import annotations

import threading
import time

from modelpm.errors import Interrupted, NetworkError
from modelpm.fs.errors import storage_errors
from modelpm.hashing import block_buffer
from modelpm.store.local import Store
from modelpm.transfer.hashfront import HashFront
from modelpm.transfer.link import Link
from modelpm.transfer.origin import Wanted
from modelpm.transfer.partial import PartialFile
from modelpm.transfer.ranges import Ranges, chunk_gaps
from modelpm.transfer.records import RecordWriter, load_ranges, ranges_text
from modelpm.transfer.request import RetryLater, open_accepted
from modelpm.transfer.retry import Budget, HighWater, wait
from modelpm.transfer.segments import Segment, steal, steal_candidate
from modelpm.transfer.transport import Reply, TransportError
from modelpm.transfer.watchdog import ReadSize, Watchdog
from modelpm.transfer.writebehind import WriteBehind


class RangeIgnored(Exception):
    """The server answered a ranged request with the whole body (200)."""


class _Stop(Exception):
    """Another connection of the same file failed; this one quits quietly."""


class Attempt:
    """One download attempt of one object into its partial file."""

    def __init__(
        self,
        link: Link,
        wanted: Wanted,
        store: Store,
        cancel: threading.Event,
        ranged: bool,
        mark: HighWater | None = None,
    ) -> None:
        self.link = link
        self.mark = mark or HighWater()
        self.watchdog = Watchdog(link.clock, link.options.min_rate, link.options.rate_window)
        # Only this many new bytes since a failure refill a connection's retries.
        self.quantum = max(1, min(wanted.size, max(64 * 1024, int(self.watchdog.floor))))
        self.wanted = wanted
        self.size = wanted.size
        self.options = link.options
        self.store = store
        self.partial = store.partial_path(wanted.digest)
        record = store.ranges_path(wanted.digest)
        self.cancel = cancel
        self.ranged = ranged
        self.first_url = link.origin.locate(wanted)
        self.data_url: str | None = None  # where the bytes were found; None: locate again
        self.located = threading.Event()
        self.cond = threading.Condition()
        self.ranges = Ranges(wanted.size)
        self.active: list[Segment] = []
        self.queue: list[Segment] = []
        self.failure: BaseException | None = None
        self.finished = False
        self.fd = -1
        self.write_behind: WriteBehind | None = None
        self.front = HashFront(wanted.digest.algorithm, wanted.size, self.cond, self._settled)
        self.records = RecordWriter(record, self.options.record_every, self._record_text)
        # Hash alongside the download only when no byte can be written twice; a server
        # that ignores Range may make us rewrite from offset 0. Then a thread hashes what
        # lands out of order while the rest downloads.
        self.following = ranged and wanted.size >= self.options.split_size
        self.resumed_to = 0  # where this attempt's first missing byte is

    # -- the attempt as a whole ------------------------------------------------

    def run(self) -> str:
        """Download what is missing, hash everything in order, return the hex digest."""
        self.file = PartialFile(
            self.store.open_partial(self.wanted.digest), self.partial, self.size
        )
        self.fd = self.file.fd
        if self.ranged:
            self.ranges = load_ranges(self.records.path, self.fd, self.size)
        self.write_behind = WriteBehind(self.fd, self.options.write_behind)
        try:
            self.file.reserve(self.ranges)
            if self.ranges.written:
                self.link.reporter.advance(self.wanted.label, self.ranges.written)
            follower = None
            if self.following:
                follower = threading.Thread(target=self._follow, daemon=True)
                follower.start()
            completed = False
            try:
                self._download()
                completed = self.failure is None
            finally:
                with self.cond:
                    self.finished = True
                    self.cond.notify_all()
                if follower is not None:
                    follower.join()
                # The last record: always after a failure (the next run resumes from it);
                # after a whole download only if it had one (else it was quick to fetch).
                self.records.record(force=not completed or self.records.written)
            if self.failure is not None:
                raise self.failure
            with storage_errors(self.partial, "read"):
                self.front.from_disk(self.fd, self.size, str(self.partial))
            return self.front.hexdigest()
        finally:
            self.file.close()

    def _record_text(self) -> str:
        with self.cond:
            return ranges_text(self.ranges)

    def _settled(self, offset: int) -> None:
        if self.write_behind is not None:
            self.write_behind.advance(offset)

    def _follow(self) -> None:
        try:
            self.front.follow(self.fd, self.ranges.prefix, lambda: self.finished, str(self.partial))
        except OSError as exc:
            self._fail(exc)

    # -- connections -------------------------------------------------------------

    def _connections(self) -> int:
        if not self.ranged or self.size < self.options.split_size:
            return 1
        return max(1, self.options.connections)

    def _download(self) -> None:
        gaps = self.ranges.missing()
        if not gaps:
            return
        if not self.ranged:
            gaps = [(0, self.size)]
        self.resumed_to = gaps[0][0]
        chunk = self.options.chunk_size if self._connections() > 1 else self.size
        self.queue = [
            Segment(start, end) for start, end in chunk_gaps(gaps, chunk, self.options.min_segment)
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
                self.watchdog.check()
                if self.cancel.is_set():
                    self._fail(Interrupted("interrupted", hint="run sync again to resume"))
                    self.watchdog.cut_all()  # blocked reads end now, not when bytes come
        if self.failure is None and not self.ranges.complete:
            self._fail(NetworkError(f"{self.wanted.label}: the download ended incomplete"))

    def _fail(self, exc: BaseException) -> None:
        with self.cond:
            if self.failure is None:
                self.failure = exc
            self.cond.notify_all()
        self.located.set()

    def _next_segment(self) -> Segment | None:
        """A queued segment, or the far half of the largest active one (work stealing)."""
        with self.cond:
            if self.failure is not None or not self._wait_for_hash():
                return None
            if self.queue:
                segment = self.queue.pop(0)
                self.active.append(segment)
                return segment
            victim = steal_candidate(self.active, self.options.min_segment)
            if victim is None:
                return None
            stolen = steal(victim, self.options.read_size)
            self.active.append(stolen)
            return stolen

    def _can_steal(self) -> bool:
        return steal_candidate(self.active, self.options.min_segment) is not None

    def _ahead_of_hash(self) -> bool:
        """True while the next piece lies a whole window beyond the hash (hold cond).

        Bytes arrive faster than one core hashes them on a fast link; without this bound
        they would pile up unhashed in the page cache, which costs more than it saves.
        """
        if not (self.following and self.queue):
            return False
        # The pieces in flight come on top, or connections would idle on a throttled link.
        window = self.options.window + self._connections() * self.options.chunk_size
        return self.queue[0].start - max(self.front.hashed, self.resumed_to) >= window

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
        while not self.link.spare_connections.acquire(timeout=0.1):
            self._check()
            with self.cond:
                if (
                    not self.queue
                    and steal_candidate(self.active, self.options.min_segment) is None
                ):
                    return False
        return True

    def _worker(self, index: int) -> None:
        borrows = index > 0
        if borrows:
            # Let the first connection learn where the bytes are (one locate, not N).
            while not self.located.wait(0.2):
                if self.cancel.is_set() or self.failure is not None:
                    return
        budget = Budget(self.link.retry, self.quantum)
        try:
            while not borrows or self._take_spare_connection():
                try:
                    segment = self._next_segment()
                    if segment is None:
                        return
                    try:
                        self._fetch_segment(segment, budget)
                    finally:
                        with self.cond:
                            self.active.remove(segment)
                finally:
                    if borrows:
                        self.link.spare_connections.release()
        except _Stop:
            return
        except BaseException as exc:  # noqa: BLE001 - handed to the thread that waits
            self._fail(exc)

    def _fetch_segment(self, segment: Segment, budget: Budget) -> None:
        while segment.pos < segment.end:
            try:
                self._fetch(segment, budget)
            except RetryLater as retry:
                self._back_off(budget, retry)
            except TransportError as exc:
                self._back_off(budget, RetryLater(str(exc)), exc)

    def _back_off(
        self, budget: Budget, retry: RetryLater, cause: BaseException | None = None
    ) -> None:
        """Wait before the next try, as the origin or the policy says; raise once spent."""
        policy = self.link.retry
        if not budget.spend():
            if cause is not None:
                raise self.link.origin.unreachable(cause) from None
            raise NetworkError(
                f"{self.wanted.label}: giving up after {policy.retries} retries ({retry})",
                hint="check your connection and run sync again; it resumes where it stopped",
            )
        if retry.relocate:
            self.data_url = None
        elif retry.at is not None:
            self.data_url = retry.at
        delay = policy.delay(budget.failures, retry.delay)
        self.link.reporter.note(f"{self.wanted.label}: {retry}; retrying in {delay:.1f}s")
        wait(self.link.clock, delay, self._check)

    def _check(self) -> None:
        if self.failure is not None:
            raise _Stop()
        if self.cancel.is_set():
            raise Interrupted("interrupted", hint="run sync again to resume")

    # -- one request ---------------------------------------------------------------

    def _open(self, segment: Segment) -> Reply:
        """An accepted reply for ``segment``, its body unread."""
        byte_range = None
        # A large file always asks for a range, even whole on one connection: the Hub's Xet
        # bridge refuses a large body without one (400 above 50 GB).
        large = self.size >= self.options.split_size
        if self.ranged and (segment.pos > 0 or segment.end < self.size or large):
            byte_range = (segment.pos, segment.end - 1)
        reply, url = open_accepted(
            self.link.origin,
            self.link.transport,
            self.wanted,
            self.data_url or self.first_url,
            byte_range,
            self._check,
        )
        # Where the bytes were found is asked first from now on, until it stops working.
        self.data_url = url
        self.located.set()
        return reply

    def _fetch(self, segment: Segment, budget: Budget) -> None:
        key = id(segment)
        with self._open(segment) as reply:
            self.watchdog.watch(key, reply)
            try:
                self._read(segment, reply, budget)
            except (RetryLater, TransportError) as exc:
                if self.watchdog.release(key):
                    raise RetryLater(
                        f"too slow: under {self.options.min_rate:.0f} bytes/s for "
                        f"{self.options.rate_window:g} s"
                    ) from exc
                raise
            finally:
                self.watchdog.release(key)

    def _read(self, segment: Segment, reply: Reply, budget: Budget) -> None:
        if reply.status == 200 and (segment.pos > 0 or segment.end < self.size):
            if self.ranged:
                raise RangeIgnored()
            # Whole bodies only, and this is a retry: the body starts at byte 0 again.
            with self.cond:
                self.link.reporter.advance(self.wanted.label, -self.ranges.written)
                self.ranges = Ranges(self.size)
                segment.pos = 0
        start = segment.pos
        # Segments only shrink: a buffer of what is left is enough (small files are many).
        buffer = memoryview(block_buffer(segment.end - start, self.options.read_size))
        reads = ReadSize(self.options.read_size)
        while True:
            self._check()
            with self.cond:
                want = min(reads.size, segment.end - segment.pos)
            if want <= 0:
                return  # done, or another connection took over our tail
            began = time.monotonic()
            try:
                # http.client fills the buffer unless the body ends: one round of
                # bookkeeping per read, however slowly the bytes trickle in.
                count = reply.readinto(buffer[:want])
            except TransportError as exc:
                raise RetryLater(f"connection dropped ({exc})") from exc
            reads.took(time.monotonic() - began)
            if count == 0:
                break
            self.file.write(buffer[:count], segment.pos)
            # Before the bytes count as written, so the follower never reads them.
            if self.ranged:
                self.front.inline(buffer[:count], segment.pos)
            with self.cond:
                self.ranges.add(segment.pos, segment.pos + count)
                segment.pos += count
                written = self.ranges.written
                self.cond.notify_all()
            self.watchdog.delivered(id(segment), count)
            budget.progress(self.mark.extend(written))
            self.link.served(count)
            self.link.reporter.advance(self.wanted.label, count)
            self.records.record()
        if segment.pos < segment.end:
            received = segment.pos - start
            raise RetryLater(f"the body ended early after {received} bytes")
