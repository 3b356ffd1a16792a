"""URL origins: the (scheme, host, port) a credential or a cached link belongs to.

Two URLs share an origin when scheme, host and port are equal, with the
scheme's default port filled in (``https://h`` is ``https://h:443``), as
browsers and ``huggingface_hub`` compare them.
"""

from __future__ import annotations

from urllib.parse import urlsplit

Origin = tuple[str, str | None, int | None]
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> Origin:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, parts.hostname, parts.port or _DEFAULT_PORTS.get(scheme)


def same_origin(url: str, other: str) -> bool:
    return origin_of(url) == origin_of(other)
