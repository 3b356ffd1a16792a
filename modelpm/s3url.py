"""A remote store's address (``s3://bucket/prefix``) and the keys of its objects.

Pure values, shared by the manifest, the configuration and the remote store.
Every object sits under its locked hash, and nothing else is ever written
under the prefix but one format marker::

    s3://<bucket>/<prefix>/
      modelpm-remote.json                    the format marker ({"format": 1})
      objects/sha256/68/68d45e23…            a file's bytes, keyed by its sha256
      objects/git-sha1/0f/0f2c9e…            a small file, keyed by its git blob id

Invariant: an :class:`S3Address` that exists is valid: the bucket follows S3's
naming rules and the prefix has no empty, ``.`` or ``..`` segment.
:class:`AwsCredentials` never shows its secret in a ``repr`` or a message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from modelpm.values import Digest, HashAlgorithm, is_hash_algorithm

MARKER_NAME = "modelpm-remote.json"
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_KEY = re.compile(r"^objects/(sha256|git-sha1)/([0-9a-f]{2})/([0-9a-f]{40}|[0-9a-f]{64})$")


@dataclass(frozen=True)
class S3Address:
    """``s3://bucket/prefix`` (the prefix without slashes at either end; may be empty)."""

    bucket: str
    prefix: str = ""

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def key(self, relative: str) -> str:
        """The bucket key of ``relative`` (a key below the prefix)."""
        return f"{self.prefix}/{relative}" if self.prefix else relative

    @property
    def marker_key(self) -> str:
        return self.key(MARKER_NAME)

    def object_key(self, digest: Digest) -> str:
        return self.key(object_name(digest))

    def url_of(self, digest: Digest) -> str:
        """``s3://bucket/prefix/objects/…``: how messages name an object."""
        return f"s3://{self.bucket}/{self.object_key(digest)}"


def object_name(digest: Digest) -> str:
    """An object's key below the prefix: ``objects/<algorithm>/<2 hex>/<hex>``."""
    return f"objects/{digest.algorithm}/{digest.hexdigest[:2]}/{digest.hexdigest}"


def digest_of_name(name: str) -> Digest | None:
    """The digest an object key below the prefix names, or None for any other key."""
    match = _KEY.match(name)
    if match is None or not match.group(3).startswith(match.group(2)):
        return None
    algorithm: HashAlgorithm | str = match.group(1)
    if not is_hash_algorithm(algorithm):
        return None
    try:
        return Digest(algorithm, match.group(3))
    except ValueError:  # a sha256 key with a git-sha1 length, or the other way round
        return None


def parse_s3_url(text: str) -> S3Address:
    """An address from ``s3://bucket[/prefix]``; ValueError says what is wrong."""
    if not text.startswith("s3://"):
        raise ValueError(f"{text!r} is not an s3:// address")
    bucket, _, prefix = text[len("s3://") :].partition("/")
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise ValueError(
            f"{bucket!r} is not a valid bucket name (3-63 lowercase letters, digits, '.', '-')"
        )
    prefix = prefix.strip("/")
    parts = prefix.split("/") if prefix else []
    if any(part in ("", ".", "..") for part in parts) or any(
        ord(char) < 32 or char == "\\" for char in prefix
    ):
        raise ValueError(f"{prefix!r} is not a valid prefix (empty, '.' or '..' segments)")
    return S3Address(bucket, prefix)


@dataclass(frozen=True)
class AwsCredentials:
    """An access key, found as the AWS tools find it; its secret is never shown."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return "AwsCredentials(<hidden>)"
