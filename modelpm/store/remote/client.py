"""Writing, listing and deleting in the remote store, through ``obstore``.

The only module that imports ``obstore`` (a test keeps it so), and only when a
command writes or walks the bucket: reading objects during a sync needs none
of it (:mod:`.origin`). ``obstore`` was chosen by measurement (README,
Dependencies): the fastest of boto3, minio and obstore for many small objects
on loopback, as fast as any for one large one (the server is the limit), the
fastest to import (0.03 s against 0.2-0.3 s), one wheel without dependencies.

Invariant: a key is only ever written by :meth:`RemoteClient.put_verified`,
whose bytes are hashed as they are read and must match the key's digest before
the object becomes visible: a small object is hashed before its one
conditional put (``If-None-Match: *``); a large one goes up as a multipart
upload that is completed (conditionally) only after its last byte hashed right,
and aborted otherwise. An upload cut short (a kill, a lost link) leaves no
object, only an incomplete multipart upload the bucket's lifecycle rule removes.
Every failure becomes a :class:`~modelpm.errors.RemoteStoreError` in modelpm's
words: no message of the library (which names URLs) is shown as it is.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from modelpm.errors import IntegrityError, RemoteStoreError
from modelpm.hashing import new_hasher
from modelpm.s3url import MARKER_NAME, S3Address, digest_of_name, object_name
from modelpm.store.remote.account import Account
from modelpm.store.remote.origin import FORMAT, describe_refusal, error_code
from modelpm.values import Digest

MiB = 1024 * 1024
PART_SIZE = 16 * MiB  # objects at least this large go up in parts of this size
READ_SIZE = 4 * MiB
DIGEST_ATTRIBUTE = "modelpm-digest"  # x-amz-meta-modelpm-digest on exported files


@dataclass(frozen=True)
class Listed:
    """One key under the prefix: its digest (None: not an object key) and size."""

    name: str  # relative to the prefix
    digest: Digest | None
    size: int


class RemoteClient:
    """The bucket at ``address``, reached as ``account`` says."""

    def __init__(self, address: S3Address, account: Account, part_concurrency: int = 4) -> None:
        from obstore.store import S3Store

        self.address = address
        self.part_concurrency = part_concurrency
        options: dict[str, Any] = {
            "region": account.region,
            "virtual_hosted_style_request": not account.path_style,
            "client_options": {
                "allow_http": account.allow_http,
                "connect_timeout": "5s",
                "timeout": "300s",
                "user_agent": "modelpm",
            },
            "retry_config": {
                "max_retries": 3,
                "retry_timeout": timedelta(seconds=30),
                "backoff": {
                    "init_backoff": timedelta(seconds=0.2),
                    "max_backoff": timedelta(seconds=5),
                    "base": 2.0,
                },
            },
        }
        if account.path_style:
            options["endpoint"] = account.endpoint
        if account.credentials is None:
            options["skip_signature"] = True
        else:
            options["access_key_id"] = account.credentials.access_key_id
            options["secret_access_key"] = account.credentials.secret_access_key
            if account.credentials.session_token:
                options["session_token"] = account.credentials.session_token
        self._store = S3Store(address.bucket, prefix=address.prefix or None, **options)

    def __repr__(self) -> str:
        return f"RemoteClient({self.address})"

    # -- reading -------------------------------------------------------------------

    def size_of(self, digest: Digest) -> int | None:
        """The size of the object at ``digest``'s key (None: there is none)."""
        import obstore

        with self._errors(f"cannot look up {self.address.url_of(digest)}"):
            try:
                return int(obstore.head(self._store, object_name(digest))["size"])
            except FileNotFoundError:
                return None

    def listing(self) -> Iterator[Listed]:
        """Every key under ``objects/``, with the digest it names."""
        import obstore

        with self._errors(f"cannot list {self.address}"):
            for batch in obstore.list(self._store, prefix="objects/", chunk_size=1000):
                for meta in batch:
                    name = str(meta["path"])
                    yield Listed(name, digest_of_name(name), int(meta["size"]))

    def read(self, digest: Digest) -> Iterator[bytes]:
        """The bytes at ``digest``'s key, in order."""
        import obstore

        with self._errors(f"cannot read {self.address.url_of(digest)}"):
            result = obstore.get(self._store, object_name(digest))
            for chunk in result.stream(min_chunk_size=READ_SIZE):
                yield bytes(chunk)

    # -- writing -------------------------------------------------------------------

    def put_verified(self, path: Path, digest: Digest, size: int) -> bool:
        """Upload the file at ``path`` under ``digest``'s key if its bytes hash to it.

        False when the key already existed (another machine pushed it first).
        Raises :class:`IntegrityError` when the file does not match (nothing is written).
        """
        return self._upload(object_name(digest), path, digest, size, create=True)

    def put_plain(self, name: str, path: Path, digest: Digest, size: int) -> None:
        """Upload the file at ``path`` as ``name`` (an export: a plain file's key), with its
        digest as metadata, if its bytes hash to ``digest``; replaces what was there."""
        self._upload(name, path, digest, size, create=False)

    def digest_at(self, name: str) -> tuple[int, str] | None:
        """The size and recorded digest (``modelpm-digest``, "" if none) of ``name``."""
        import obstore

        with self._errors(f"cannot look up s3://{self.address.bucket}/{self.address.key(name)}"):
            try:
                result = obstore.get(self._store, name, options={"head": True})
            except FileNotFoundError:
                return None
            return int(result.meta["size"]), str(result.attributes.get(DIGEST_ATTRIBUTE, ""))

    def _upload(self, name: str, path: Path, digest: Digest, size: int, *, create: bool) -> bool:
        import obstore
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        mode: Literal["create", "overwrite"] = "create" if create else "overwrite"
        attributes = None if create else {DIGEST_ATTRIBUTE: str(digest)}
        with self._errors(f"cannot upload s3://{self.address.bucket}/{self.address.key(name)}"):
            try:
                if size < PART_SIZE:
                    data = path.read_bytes()
                    _check(digest, [data], path)
                    obstore.put(
                        self._store,
                        name,
                        data,
                        mode=mode,
                        use_multipart=False,
                        attributes=attributes,
                    )
                else:
                    obstore.put(
                        self._store,
                        name,
                        _verified_blocks(path, digest, size),
                        mode=mode,
                        use_multipart=True,
                        chunk_size=PART_SIZE,
                        max_concurrency=self.part_concurrency,
                        attributes=attributes,
                    )
            except (AlreadyExistsError, PreconditionError):
                return False
        return True

    def write_marker(self) -> None:
        """Write the format marker unless it is there (the first push to a prefix does)."""
        import obstore
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        text = json.dumps({"format": FORMAT, "layout": "objects/<algorithm>/<2 hex>/<hex>"})
        with (
            self._errors(f"cannot write s3://{self.address.bucket}/{self.address.marker_key}"),
            contextlib.suppress(AlreadyExistsError, PreconditionError),
        ):
            obstore.put(self._store, MARKER_NAME, (text + "\n").encode(), mode="create")

    def delete(self, digest: Digest) -> None:
        import obstore

        with (
            self._errors(f"cannot delete {self.address.url_of(digest)}"),
            contextlib.suppress(FileNotFoundError),
        ):
            obstore.delete(self._store, object_name(digest))

    # -- errors ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        from obstore.exceptions import BaseError

        try:
            yield
        except (IntegrityError, RemoteStoreError):
            raise
        except (BaseError, OSError) as exc:
            raise RemoteStoreError(f"{what}: {_reason(exc)}", hint=_HINT) from None


_HINT = (
    "check the remote store's address, the endpoint (AWS_ENDPOINT_URL), the region and the "
    "credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID) and that they may write there"
)


def _reason(exc: BaseException) -> str:
    """A few words for a failure of the library, without its URLs or headers."""
    from obstore.exceptions import PermissionDeniedError, UnauthenticatedError

    text = str(exc)
    code = error_code(text)
    status = next((int(word) for word in text.split() if len(word) == 3 and word.isdigit()), 0)
    if isinstance(exc, PermissionDeniedError | UnauthenticatedError):
        return describe_refusal(status or 403, code)
    if code or status >= 400:
        return describe_refusal(status or 400, code)
    if "error sending request" in text or "connect" in text.lower():
        return "the endpoint is unreachable"
    if isinstance(exc, FileNotFoundError):
        return "not found"
    return type(exc).__name__


def _check(digest: Digest, blocks: list[bytes], path: Path) -> None:
    hasher = new_hasher(digest.algorithm, sum(len(block) for block in blocks))
    for block in blocks:
        hasher.update(block)
    if hasher.hexdigest() != digest.hexdigest:
        raise _mismatch(path, digest)


def _verified_blocks(path: Path, digest: Digest, size: int) -> Iterator[bytes]:
    """The file's blocks, hashed as they go; raises before the end if they do not match
    (the multipart upload is then aborted, never completed)."""
    hasher = new_hasher(digest.algorithm, size)
    sent = 0
    with path.open("rb") as handle:
        while block := handle.read(READ_SIZE):
            hasher.update(block)
            sent += len(block)
            if sent == size and hasher.hexdigest() != digest.hexdigest:
                raise _mismatch(path, digest)
            if sent > size:
                raise _mismatch(path, digest)
            yield block
    if sent != size:
        raise _mismatch(path, digest)


def _mismatch(path: Path, digest: Digest) -> IntegrityError:
    return IntegrityError(
        f"{path} does not hash to {digest}: not uploaded",
        hint="run `modelpm store verify --remove`, then `modelpm sync`",
    )
