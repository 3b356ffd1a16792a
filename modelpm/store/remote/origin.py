"""The remote store as an origin of the transfer engine: tried before the sources.

An object's bytes are at its hash key (:mod:`modelpm.s3url`); each request is
signed for the endpoint's own origin only (:mod:`.sigv4`). The engine reads
them like any origin's (parallel ranged GETs, resumed across runs) and
verifies every byte on arrival.

The remote store only speeds things up, so it must never slow a sync down
much or make one fail. :class:`Health` is shared by a run: the first request
is a probe of the format marker (3 s at most); a missing bucket, a denied or
rejected key, a throttled (5xx) or unreachable endpoint marks it down with one
warning for the whole run, and every later object goes straight to the next
origin. A missing object is normal (a cold bucket) and says nothing. A
corrupted object (the engine's hash did not match) is reported with its key.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
from urllib.parse import urlsplit

from modelpm.errors import IntegrityError, ModelpmError, RemoteStoreError
from modelpm.s3url import S3Address
from modelpm.store.remote.account import Account
from modelpm.store.remote.sigv4 import sign
from modelpm.transfer.origin import Accept, Fail, ReplyHead, Verdict, Wanted, http_verdict
from modelpm.transfer.retry import RetryPolicy
from modelpm.urls import same_origin

FORMAT = 1
PROBE_TIMEOUT = 3.0
_CODE = re.compile(r"<Code>([A-Za-z0-9.]{1,64})</Code>")
_DENIED = {
    "InvalidAccessKeyId": "the access key was rejected (InvalidAccessKeyId)",
    "SignatureDoesNotMatch": "the secret key was rejected (SignatureDoesNotMatch)",
    "ExpiredToken": "the session token has expired (ExpiredToken)",
    "InvalidToken": "the session token was rejected (InvalidToken)",
}


def error_code(body: str) -> str:
    """The ``<Code>`` of an S3 error body ("" if there is none)."""
    match = _CODE.search(body)
    return match.group(1) if match else ""


def describe_refusal(status: int, code: str) -> str:
    """What an S3 error answer means, in a few words (never echoing the server's text)."""
    if code in _DENIED:
        return _DENIED[code]
    if code == "NoSuchBucket":
        return "the bucket does not exist (NoSuchBucket)"
    if status in (401, 403):
        return f"access denied ({code or f'HTTP {status}'})"
    if status in (301, 307, 400) and code in ("PermanentRedirect", "AuthorizationHeaderMalformed"):
        return f"the bucket is in another region ({code}); set AWS_REGION"
    if status == 429 or status >= 500:
        return f"the endpoint is throttled or failing (HTTP {status}{f' {code}' if code else ''})"
    return f"unexpected answer HTTP {status}{f' {code}' if code else ''}"


class Health:
    """Whether the remote store is usable in this run, and the warnings it owes the user."""

    def __init__(self, address: S3Address, account: Account) -> None:
        self.address = address
        self.account = account
        self._lock = threading.Lock()
        self._probe_lock = threading.Lock()
        self._probed = False
        self._down: str | None = None
        self.warnings: list[str] = []

    @property
    def usable(self) -> bool:
        with self._lock:
            return self._down is None

    @property
    def reason(self) -> str | None:
        """Why the store is down this run (None: it is not)."""
        with self._lock:
            return self._down

    def down(self, reason: str) -> RemoteStoreError:
        """Stop using the remote store for this run (one warning, the first reason)."""
        with self._lock:
            if self._down is None:
                self._down = reason
                self.warnings.append(
                    f"remote store {self.address}: {reason}; this run fetches from the sources"
                )
        return RemoteStoreError(f"remote store {self.address}: {reason}")

    def warn(self, text: str) -> None:
        with self._lock:
            self.warnings.append(text)

    def check(self) -> None:
        """Probe once per run (other threads wait for it); raise
        :class:`RemoteStoreError` while the store is down."""
        with self._probe_lock:
            if not self._probed:
                self._probed = True
                reason = probe_marker(self.address, self.account) if self.usable else None
                if reason is not None:
                    self.down(reason)
        with self._lock:
            if self._down is not None:
                raise RemoteStoreError(f"remote store {self.address}: {self._down}")


def probe_marker(
    address: S3Address, account: Account, timeout: float = PROBE_TIMEOUT
) -> str | None:
    """Read the format marker: None if the store is usable, else why not."""
    url = account.url(address.bucket, address.marker_key)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        return f"cannot be reached at that endpoint ({type(exc).__name__})"
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    headers = {"user-agent": "modelpm"}
    if account.credentials is not None:
        headers.update(sign("GET", url, account.region, account.credentials))
    try:
        conn = connection_class(parts.hostname or "", parts.port, timeout=timeout)
    except (ValueError, http.client.HTTPException) as exc:  # InvalidURL: a bad host
        return f"cannot be reached at that endpoint ({type(exc).__name__})"
    try:
        conn.request("GET", parts.path, headers=headers)
        reply = conn.getresponse()
        body = reply.read(65536).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return f"unreachable ({type(exc).__name__})"
    finally:
        conn.close()
    if reply.status == 200:
        try:
            found = json.loads(body).get("format")
        except (ValueError, AttributeError):
            return "its format marker is not modelpm's"
        if found != FORMAT:
            return f"it is in format {found!r}, which this modelpm cannot read; upgrade modelpm"
        return None
    code = error_code(body)
    if reply.status == 404 and code != "NoSuchBucket":
        return None  # nothing pushed yet: every object is simply missing
    return describe_refusal(reply.status, code)


class RemoteOrigin:
    """The remote store, as an :class:`~modelpm.transfer.origin.Origin`."""

    # Connections that fail are retried twice, briefly: then the sources take over.
    retry_policy = RetryPolicy(retries=2, backoff=0.2, max_backoff=1.0)

    def __init__(self, address: S3Address, account: Account, health: Health) -> None:
        self.address = address
        self.account = account
        self.health = health

    def __repr__(self) -> str:
        return f"RemoteOrigin({self.address})"

    @property
    def name(self) -> str:
        return f"remote store {self.address}"

    def locate(self, wanted: Wanted) -> str:
        self.health.check()
        return self.account.url(self.address.bucket, self.address.object_key(wanted.digest))

    def headers_for(self, url: str) -> dict[str, str]:
        """Signed headers, only for the endpoint's own origin."""
        credentials = self.account.credentials
        if credentials is None or not same_origin(url, self.account.url(self.address.bucket, "")):
            return {}
        return sign("GET", url, self.account.region, credentials)

    def judge(self, reply: ReplyHead, url: str, wanted: Wanted) -> Verdict:
        status = reply.status
        if status in (200, 206):
            return Accept()
        if status == 416:
            verdict = http_verdict(reply, url, wanted)
            assert verdict is not None
            return verdict
        code = error_code(reply.read_text(4096))
        if status == 404 and code != "NoSuchBucket":
            return Fail(RemoteStoreError(f"{wanted.label}: not in the {self.name}"))
        return Fail(self.health.down(describe_refusal(status, code)))

    def unreachable(self, cause: BaseException) -> ModelpmError:
        return self.health.down(f"unreachable ({cause})")

    def rejected(self, wanted: Wanted, error: ModelpmError) -> None:
        """A corrupted object is named once, with its key; the next origin is asked."""
        if isinstance(error, IntegrityError):
            self.health.warn(
                f"{self.address.url_of(wanted.digest)} does not match its name "
                f"(wanted by {wanted.label}): rejected, fetched from the next origin; "
                "`modelpm store verify --remote --remove` deletes it"
            )
