"""The test hub's LFS storage: objects uploaded before any commit names them, like S3.

    uploads/<sha256>                   a whole object, named by the oid it was declared as
    uploads/parts/<sha256>/<n>         part n of a multipart upload, until it completes

    PUT {cdn}/lfs-upload/{oid}?expires=&sig=           a whole object (basic transfer)
    PUT {cdn}/lfs-upload/{oid}?part=N&expires=&sig=    part N; answers ETag: "<md5>"

An object outlives the run that uploaded it, so a publish that was killed half-way
finds what already arrived (the LFS batch answer then has no ``actions`` for it).
Invariant: an object is stored only when its bytes hash to its oid, unless a
``corrupt_upload`` fault made the hub flip a byte first (then it is stored anyway,
as a broken backend would, and the commit lists the hash of what was stored). The
upload URLs are signed and expire like the CDN's download links: whoever holds one
may PUT, nobody needs a token there.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from modelpm.testing.plumbing import ErrorAnswer, Handler

Checker = Callable[[str, str, str], bool]  # (what was signed, expires, signature) -> valid


class UploadStore:
    """Uploaded LFS objects and the parts of multipart uploads in flight."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()

    def path(self, oid: str) -> Path | None:
        """The stored object declared as ``oid``, if it arrived whole."""
        candidate = self.root / oid
        return candidate if _is_oid(oid) and candidate.is_file() else None

    def answer_put(self, request: Handler, oid: str, check: Checker) -> None:
        """Receive a PUT of a whole object or of one part."""
        part = request.params.get("part", [""])[0]
        if not _is_oid(oid) or not valid_link(check, f"upload:{oid}:{part}", request.params):
            request.send_bytes(403, b"Request has expired", {"Content-Type": "text/plain"})
            return
        data = request.body
        corrupt = any(f.kind == "corrupt_upload" for f in request.faults)
        if corrupt and data:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        if part:
            self._write(self.root / "parts" / oid / part, data)
            etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
            if corrupt:
                self._write(self.root / "parts" / oid / "corrupted", b"")
            request.send_bytes(200, b"", {"ETag": f'"{etag}"'})
            return
        if hashlib.sha256(data).hexdigest() != oid and not corrupt:
            raise ErrorAnswer(400, None, f"the body does not hash to {oid}")
        self._write(self.root / oid, data)
        request.send_bytes(200, b"", {})

    def complete(self, oid: str, etags: Sequence[str]) -> None:
        """Join parts 1..n (their ETags as the client got them) into the object."""
        folder = self.root / "parts" / oid
        sha = hashlib.sha256()
        pieces = []
        for number, etag in enumerate(etags, start=1):
            piece = folder / str(number)
            if not piece.is_file():
                raise ErrorAnswer(400, None, f"part {number} of {oid} never arrived")
            data = piece.read_bytes()
            if hashlib.md5(data, usedforsecurity=False).hexdigest() != etag.strip('"'):
                raise ErrorAnswer(400, None, f"part {number} of {oid} has another ETag")
            sha.update(data)
            pieces.append(data)
        if sha.hexdigest() != oid and not (folder / "corrupted").exists():
            raise ErrorAnswer(400, None, f"the parts do not hash to {oid}")
        self._write(self.root / oid, b"".join(pieces))
        for leftover in folder.iterdir():
            leftover.unlink()
        folder.rmdir()

    def _write(self, target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.name}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        with self._lock:
            os.replace(tmp, target)


def valid_link(check: Checker, what: str, params: dict[str, list[str]]) -> bool:
    """True when the link's ``expires`` and ``sig`` are the hub's for ``what``, unexpired."""
    expires = params.get("expires", ["0"])[0]
    signature = params.get("sig", [""])[0]
    try:
        unexpired = float(expires) >= time.time()
    except ValueError:
        return False
    return unexpired and check(what, expires, signature)


def _is_oid(value: str) -> bool:
    return len(value) == 64 and all(char in "0123456789abcdef" for char in value)
