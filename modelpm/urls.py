"""URL origins: the (scheme, host, port) a credential or a cached link belongs to.

Two URLs share an origin when scheme, host and port are equal, with the
scheme's default port filled in (``https://h`` is ``https://h:443``), as
browsers and ``huggingface_hub`` compare them.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

Origin = tuple[str, str | None, int | None]
_DEFAULT_PORTS = {"http": 80, "https": 443}


INVALID: Origin = ("invalid", None, None)


def origin_of(url: str) -> Origin:
    """The origin of ``url``; :data:`INVALID` (the same as no real origin) if it does not parse
    (a port of 99999, a broken IPv6 literal: a hostile ``Location`` must not crash anything)."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        return scheme, parts.hostname, parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return INVALID


def endpoint_problem(url: str) -> str | None:
    """Why ``url`` cannot be an endpoint, as a phrase (None if it can): http(s), a host, a
    valid port, and no user name or password (they would show in messages and would replace
    the token on API calls: credentials go in the source's token variable instead)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "is not an http(s) URL"
    if parts.username is not None or parts.password is not None:
        return "carries a user name or password, which modelpm does not send"
    if port == 0:
        return "has port 0"
    return None


def shown(url: str) -> str:
    """``url`` fit for a message: a user name or password in it becomes ``***``."""
    head, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rsplit("@", 1)[1]
    return f"{head}://{authority}{slash}{path}"


def redirect_target(url: str, location: str) -> str | None:
    """Where a ``Location`` sent in answer to ``url`` leads; None if it leads nowhere (a
    broken IPv6 literal makes ``urljoin`` raise: a hostile header must not crash anything)."""
    try:
        return urljoin(url, location)
    except ValueError:
        return None


def same_origin(url: str, other: str) -> bool:
    origin = origin_of(url)
    return origin != INVALID and origin == origin_of(other)
