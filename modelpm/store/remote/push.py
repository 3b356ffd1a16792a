"""Uploading verified local objects that the remote store lacks (``store push``, ``--push``).

First ask the bucket for each object's size (present and the right size:
done) and vouch for the local copy (:meth:`~modelpm.store.local.Store.vouch`
hashes one whose time moved); then upload what is missing with
:meth:`~modelpm.store.remote.client.RemoteClient.put_verified`, which hashes
again while it reads. Safe to run from many machines at once: the first
completed upload of a key wins, the others find it there. Idempotent: a
second run uploads nothing. Objects are pushed on a few threads; every failure
is collected, and the report names each.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from modelpm.errors import ModelpmError
from modelpm.progress import NullReporter, Reporter
from modelpm.store.local import Store
from modelpm.store.remote.handle import Remote
from modelpm.values import Digest


@dataclass(frozen=True)
class PushItem:
    """One object to push, and the file that wants it (for messages)."""

    label: str
    digest: Digest
    size: int


@dataclass
class PushReport:
    uploaded: int = 0
    uploaded_bytes: int = 0
    present: int = 0  # already in the remote store
    not_local: list[str] = field(default_factory=list)  # labels not in the local store
    failures: list[tuple[str, ModelpmError]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures and not self.not_local


def push_objects(
    remote: Remote,
    store: Store,
    items: Sequence[PushItem],
    *,
    jobs: int = 8,
    reporter: Reporter | None = None,
) -> PushReport:
    """Upload every object of ``items`` that the remote store lacks."""
    reporter = reporter or NullReporter()
    unique = list({item.digest: item for item in items}.values())
    unique.sort(key=lambda item: -item.size)  # the longest upload starts first
    report = PushReport()
    lock = threading.Lock()
    client = remote.client
    if unique:
        client.write_marker()

    def missing(item: PushItem) -> bool:
        """True when the bucket lacks ``item`` and the local store vouches for it."""
        try:
            if client.size_of(item.digest) == item.size:
                with lock:
                    report.present += 1
                return False
            if not store.vouch(item.digest, item.size):
                with lock:
                    report.not_local.append(item.label)
                return False
        except ModelpmError as error:
            with lock:
                report.failures.append((item.label, error))
            return False
        return True

    def push(item: PushItem) -> None:
        try:
            reporter.file_started(item.label, item.size)
            uploaded = client.put_verified(store.object_path(item.digest), item.digest, item.size)
            reporter.advance(item.label, item.size)
            reporter.file_done(item.label)
        except ModelpmError as error:
            with lock:
                report.failures.append((item.label, error))
            return
        with lock:
            if uploaded:
                report.uploaded += 1
                report.uploaded_bytes += item.size
            else:
                report.present += 1  # another machine was faster

    workers = max(1, min(jobs, len(unique) or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        wanted = [
            item for item, lacking in zip(unique, pool.map(missing, unique), strict=True) if lacking
        ]
        if wanted:
            reporter.begin(len(wanted), sum(item.size for item in wanted))
            list(pool.map(push, wanted))
            reporter.end()
    report.not_local.sort()
    report.failures.sort(key=lambda failure: failure[0])
    return report
