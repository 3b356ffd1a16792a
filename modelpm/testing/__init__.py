"""A Hub-compatible HTTP server for tests, demos and benchmarks (never imported by the core).

It serves repositories built in memory or from local folders — real git commit
ids, branches (``feature/x`` too), tags, datasets, LFS files behind a 302 to a
second "CDN" origin with expiring signed links, ``Range`` requests, gated and
private repos with tokens — and switchable faults (dropped or reset
connections, stalls, per-connection throttling, corrupted or truncated
bodies, 429/5xx with ``Retry-After``, a server that ignores ``Range``,
expired CDN links). It counts requests and bytes so tests can assert that a
run made zero requests or how many bytes were sent again.

It also takes pushes: the Hub's upload API (create repo, preupload, LFS batch
with basic and multipart transfers to signed upload links, NDJSON commits with
``parentCommit``, branches, tags), tokens with or without write access,
protected branches, a per-file size limit, and upload faults (a cut request
body, bytes stored other than sent). Clients need ``HF_HUB_DISABLE_XET=1``: it
speaks no Xet.

The official ``huggingface_hub`` client downloads from it and uploads to it
correctly; the conformance tests in ``tests/test_conformance.py`` and
``tests/test_upload_conformance.py`` prove it.
"""

from modelpm.testing.faults import Fault, RequestRecord
from modelpm.testing.hub import TestHub
from modelpm.testing.remote import RemoteTestHub
from modelpm.testing.repo import HubRepo, RepoFile

__all__ = ["Fault", "HubRepo", "RemoteTestHub", "RepoFile", "RequestRecord", "TestHub"]
