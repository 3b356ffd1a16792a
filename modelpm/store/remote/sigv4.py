"""AWS Signature Version 4 for the remote store's plain GET and HEAD requests.

The transfer engine reads objects with its own HTTP client; :func:`sign`
gives each request its ``Authorization`` header, signed at send time (so a
long download never meets an expired link, and no URL ever carries a
capability). The payload is ``UNSIGNED-PAYLOAD`` (the bytes are verified
against the lock anyway) and only ``host``, ``x-amz-content-sha256``,
``x-amz-date`` and ``x-amz-security-token`` are signed, so the engine may add
``Range`` and its own headers. Standard library only: the read path loads no
S3 library.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone
from urllib.parse import parse_qsl, quote, urlsplit

from modelpm.s3url import AwsCredentials

UNSIGNED = "UNSIGNED-PAYLOAD"


def sign(
    method: str,
    url: str,
    region: str,
    credentials: AwsCredentials,
    now: datetime | None = None,
) -> dict[str, str]:
    """The headers that authorise ``method url`` (``host`` included)."""
    parts = urlsplit(url)
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    headers = {"host": _host(url), "x-amz-content-sha256": UNSIGNED, "x-amz-date": amz_date}
    if credentials.session_token:
        headers["x-amz-security-token"] = credentials.session_token
    names = sorted(headers)
    query = "&".join(
        f"{quote(key, safe='-_.~')}={quote(value, safe='-_.~')}"
        for key, value in sorted(parse_qsl(parts.query, keep_blank_values=True))
    )
    canonical = "\n".join(
        [
            method,
            parts.path or "/",
            query,
            "".join(f"{name}:{headers[name].strip()}\n" for name in names),
            ";".join(names),
            UNSIGNED,
        ]
    )
    scope = f"{amz_date[:8]}/{region}/s3/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + credentials.secret_access_key).encode()
    for part in (amz_date[:8], region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return headers


def _host(url: str) -> str:
    """The Host header http.client sends: the port only when it is not the default."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    return host if parts.port in (None, default) else f"{host}:{parts.port}"
