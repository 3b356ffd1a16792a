"""The engine: put one locked object in the store, verified, from the first origin that has it.

Per object: take its store lock (one process fetches an object, others wait
for it), return at once if the store has it, else run attempts
(:mod:`modelpm.transfer.attempt`) against each origin in turn. An attempt's
digest must equal the locked one: a mismatch starts the file over once, then
that origin is given up with an :class:`~modelpm.errors.IntegrityError`.
Partial bytes survive a failed origin (every byte is verified at the end,
whoever sent it), so the next origin or run resumes them. Only a match is
committed to the store. It counts the bytes each origin sent (:attr:`Downloader.served`,
by origin name) and keeps a warning for every origin whose bytes were refused while
another one served the file (:attr:`Downloader.warnings`). It does not decide what
to fetch or where files go.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from modelpm.errors import HubError, IntegrityError, ModelpmError
from modelpm.hashing import hash_fd
from modelpm.progress import NullReporter, Reporter
from modelpm.store.local import Store
from modelpm.transfer.attempt import Attempt, RangeIgnored
from modelpm.transfer.link import Link
from modelpm.transfer.options import TransferOptions
from modelpm.transfer.origin import Origin, Wanted
from modelpm.transfer.records import recorded_bytes
from modelpm.transfer.retry import SYSTEM_CLOCK, Clock
from modelpm.transfer.transport import Transport

OriginsFor = Callable[[Wanted], Sequence[Origin]]
"""The origins to try for an object, in order (a source, its mirrors)."""


def always(origin: Origin) -> OriginsFor:
    """Every object from ``origin``."""
    return lambda _wanted: (origin,)


class Downloader:
    """Fetches store objects for :func:`modelpm.place.apply.apply_sync` (its ``fetcher``)."""

    def __init__(
        self,
        origins: OriginsFor,
        store: Store,
        transport: Transport,
        options: TransferOptions | None = None,
        reporter: Reporter | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.origins = origins
        self.store = store
        self.transport = transport
        self.options = options or TransferOptions()
        self.reporter = reporter or NullReporter()
        self.clock = clock
        # A large file's first connection is its own; the others are borrowed from here one
        # piece at a time, so when one large file finishes, its connections go to the rest.
        self.spare_connections = threading.BoundedSemaphore(max(0, self.options.connections - 1))
        self.served: dict[str, int] = {}  # bytes received, by origin name
        self.warnings: list[str] = []  # origins that served other bytes than the lock
        self._tally_lock = threading.Lock()
        # Killed runs' temp files, looked for once: with none at the start, no object's
        # are looked for again (one killed later is cleaned by the next run).
        self._temp_files_left = store.has_temp_files()

    def __call__(self, wanted: Wanted, cancel: threading.Event) -> None:
        self.fetch(wanted, cancel)

    def fetch(self, wanted: Wanted, cancel: threading.Event | None = None) -> Path:
        """Make sure the object of ``wanted`` is in the store; return its path."""
        cancel = cancel or threading.Event()
        digest = wanted.digest
        with self.store.locked(digest, cancel):
            if self.store.vouch_held(digest, wanted.size):
                return self.store.object_path(digest)
            if self._temp_files_left:
                self.store.remove_stale_temp_files(digest)
            if self._finished_earlier(wanted):
                return self.store.object_path(digest)
            self.reporter.file_started(wanted.label, wanted.size)
            origins = self.origins(wanted)
            first_error: ModelpmError | None = None
            for index, origin in enumerate(origins):
                try:
                    path = self._fetch_from(origin, wanted, cancel)
                except (HubError, IntegrityError) as error:  # the origin's fault, not ours
                    first_error = first_error or error
                    rejected = getattr(origin, "rejected", None)
                    if callable(rejected):  # an origin may want to know (to warn once)
                        rejected(wanted, error)
                    if index + 1 < len(origins):
                        self.reporter.note(
                            f"{wanted.label}: {origin.name} failed ({error.message}); "
                            f"trying {origins[index + 1].name}"
                        )
                        if isinstance(error, IntegrityError) and not callable(rejected):
                            # (an origin that hears of it names the rejection itself)
                            self._warn(
                                f"{origin.name} served other bytes than the lock pins for "
                                f"{wanted.label}; they were discarded"
                            )
                    continue
                self.reporter.file_done(wanted.label)
                return path
            if first_error is None:
                raise HubError(f"{wanted.label}: no origin to fetch it from")
            raise first_error

    def _tally(self, name: str, count: int) -> None:
        with self._tally_lock:
            self.served[name] = self.served.get(name, 0) + count

    def _warn(self, text: str) -> None:
        with self._tally_lock:
            self.warnings.append(text)

    def _fetch_from(self, origin: Origin, wanted: Wanted, cancel: threading.Event) -> Path:
        link = Link(
            origin,
            self.transport,
            self.options,
            self.reporter,
            self.clock,
            self.spare_connections,
            functools.partial(self._tally, origin.name),
        )
        digest = wanted.digest
        ranged = True
        attempt = 0
        while True:
            attempt += 1
            try:
                got = Attempt(link, wanted, self.store, cancel, ranged).run()
            except RangeIgnored:
                # The server sends whole bodies only: start over on one connection.
                self._start_over(wanted)
                ranged = False
                continue
            if got == digest.hexdigest:
                return self.store.commit_partial(digest)
            self._start_over(wanted)
            if attempt >= 2:
                raise IntegrityError(
                    f"{wanted.label}: downloaded bytes do not match the lock "
                    f"(expected {digest}, got {digest.algorithm}:{got})",
                    hint="the hub or mirror served other bytes than it attested; try "
                    "again later or another endpoint",
                )
            self.reporter.note(f"{wanted.label}: hash mismatch, downloading it again")

    def _finished_earlier(self, wanted: Wanted) -> bool:
        """A run killed inside a commit left a partial that was verified then: hash it
        again and commit it, instead of fetching it again."""
        digest = wanted.digest
        if not self.store.partial_looks_finished(digest, wanted.size):
            return False
        try:
            fd = self.store.open_partial(digest)
            try:
                intact = hash_fd(fd, digest.algorithm, wanted.size) == digest
            finally:
                os.close(fd)
        except OSError:
            return False
        if intact:
            self.store.commit_partial(digest)
        return intact

    def _start_over(self, wanted: Wanted) -> None:
        written = recorded_bytes(self.store.ranges_path(wanted.digest))
        self.store.discard_partial(wanted.digest)
        self.reporter.advance(wanted.label, -written)
