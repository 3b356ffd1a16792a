"""A Hub- and ModelScope-compatible HTTP server for tests, demos and benchmarks (never
imported by the core).

It serves repositories built in memory or from local folders — real git commit
ids, branches (``feature/x`` too), tags, datasets, LFS files behind a 302 to a
"CDN" origin with expiring signed links, ``Range`` requests, gated and private
repos with tokens, renamed repos (a 307) and squashed histories — on two sites:
the Hub's face and ModelScope's (its own repos, default branch ``master``, its
own storage CDN, listings cut at 3000 entries), and switchable faults (dropped
or reset connections, stalls, per-connection throttling, corrupted or truncated
bodies, 429/5xx with ``Retry-After``, a server that ignores ``Range``, expired
CDN links, the Xet bridge's refusal of a large body without ``Range``). It
counts requests and bytes so tests can assert that a run made zero requests or
how many bytes were sent again.

It also takes pushes: the Hub's upload API (create repo, preupload, LFS batch
with basic and multipart transfers to signed upload links, NDJSON commits with
``parentCommit``, branches, tags), tokens with or without write access,
protected branches, a per-file size limit, and upload faults (a cut request
body, bytes stored other than sent). Clients need ``HF_HUB_DISABLE_XET=1``: it
speaks no Xet.

The official clients download from it and upload to it correctly:
``huggingface_hub`` (``tests/test_conformance.py``,
``tests/test_upload_conformance.py``) and ``modelscope``
(``tests/test_conformance_modelscope.py``).
"""

from modelpm.testing.faults import Fault, RequestRecord
from modelpm.testing.hub import TestHub
from modelpm.testing.remote import RemoteTestHub
from modelpm.testing.repo import HubRepo, RepoFile

__all__ = ["Fault", "HubRepo", "RemoteTestHub", "RepoFile", "RequestRecord", "TestHub"]
