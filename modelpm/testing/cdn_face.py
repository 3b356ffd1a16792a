"""The CDN's face: LFS objects behind the signed, expiring links that ``/resolve`` hands out.

    HEAD|GET /lfs/{sha256}?expires={unix time}&sig={hmac}   200 or 206 (Range)
    PUT /lfs-upload/{sha256}[?part=N]&expires=…&sig=…       an upload (testing.lfs_store)
    a bad signature, a past ``expires`` or an expire_cdn fault  403 "Request has expired"
    an object no commit holds, any other route                  404 NoSuchKey
    in Xet-bridge mode, a GET without Range for a body over the threshold   400

Like S3 behind CloudFront, it knows nothing of repos, tokens or ``X-Error-Code``:
it serves bytes by content hash to whoever holds a valid link. Two instances run: the
Hub's (origin ``cdn``) and ModelScope's storage (origin ``ms-cdn``, which also sends the
object's sha256 as ``X-Linked-ETag``, as OSS does for the official client). Invariant: a
link is honoured only if the hub signed it and it has not expired; the face reads the hub
only through :class:`CdnView`.
"""

from __future__ import annotations

import time
from typing import Protocol

from modelpm.testing.lfs_store import UploadStore
from modelpm.testing.plumbing import ErrorAnswer, Handler
from modelpm.testing.repo import RepoFile


class CdnView(Protocol):
    """What the CDN's face reads from the test hub (``TestHub`` provides it)."""

    @property
    def bridge_threshold(self) -> int | None:
        """Xet-bridge mode: bodies above this need a Range (None: the mode is off)."""
        ...

    def check_signature(self, sha256: str, expires: str, signature: str) -> bool: ...

    def lfs_object(self, sha256: str) -> RepoFile | None: ...

    @property
    def uploads(self) -> UploadStore: ...


class CdnFace:
    def __init__(
        self, hub: CdnView, origin: str = "cdn", *, linked_etag: bool = False, bridge: bool = True
    ) -> None:
        self.hub = hub
        self.origin = origin
        self.linked_etag = linked_etag
        self.bridge = bridge  # the Hub's CDN may play the Xet bridge; ModelScope's never does

    def answer(self, request: Handler, segments: list[str]) -> None:
        if len(segments) == 2 and segments[0] == "lfs-upload" and request.method == "PUT":
            self.hub.uploads.answer_put(request, segments[1], self.hub.check_signature)
            return
        if len(segments) != 2 or segments[0] != "lfs" or request.method not in ("GET", "HEAD"):
            raise ErrorAnswer(404, None, "NoSuchKey")
        sha256 = segments[1]
        expires = request.params.get("expires", ["0"])[0]
        signature = request.params.get("sig", [""])[0]
        if (
            any(f.kind == "expire_cdn" for f in request.faults)
            or not self.hub.check_signature(sha256, expires, signature)
            or float(expires or 0) < time.time()
        ):
            request.send_bytes(403, b"Request has expired", {"Content-Type": "text/plain"})
            return
        item = self.hub.lfs_object(sha256)
        if item is None:
            raise ErrorAnswer(404, None, "NoSuchKey")
        threshold = self.hub.bridge_threshold if self.bridge else None
        too_large = threshold is not None and item.size > threshold
        if too_large and request.method == "GET" and not request.headers.get("range"):
            request.send_bytes(
                400, b"Range header required for large objects", {"Content-Type": "text/plain"}
            )
            return
        headers = {"ETag": f'"{sha256}"'}
        if self.linked_etag:
            headers["X-Linked-ETag"] = f'"{sha256}"'
        request.send_file(item.source, item.size, headers)
