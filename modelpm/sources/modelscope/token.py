"""The ModelScope token: found as the official client finds it, never written, never shown.

:func:`find_token` reads ``$MODELSCOPE_API_TOKEN`` (set but empty: no token, as the
official client reads it), then the client's saved login (``modelscope login``)::

    $MODELSCOPE_HOME (default ~/.modelscope)/credentials/cookies
        a pickled requests.cookies.RequestsCookieJar holding one m_session_id cookie

That file is a pickle, and unpickling runs whatever a pickle names: it is read with an
unpickler that admits exactly the three classes the official client writes (mapped to
inert stand-ins, so neither ``requests`` nor any other module is imported) and refuses
everything else. An expired cookie is no token. Where the token may go is
:meth:`modelpm.sources.modelscope.api.MsApi.headers_for`'s business.
"""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path
from typing import Any

ENV_TOKEN = "MODELSCOPE_API_TOKEN"  # noqa: S105 - the variable's name, not a secret
ENV_HOME = "MODELSCOPE_HOME"


class _Inert:
    """Stands in for a pickled class: keeps the attributes it is given, runs nothing."""

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, dict):
            self.__dict__.update(state)


class _Jar(_Inert):
    pass


class _Cookie(_Inert):
    pass


class _Policy(_Inert):
    pass


_ALLOWED = {
    ("requests.cookies", "RequestsCookieJar"): _Jar,
    ("http.cookiejar", "Cookie"): _Cookie,
    ("http.cookiejar", "DefaultCookiePolicy"): _Policy,
}


class _CookieUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> type:
        allowed = _ALLOWED.get((module, name))
        if allowed is None:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a cookie jar")
        return allowed


def find_token(env: dict[str, str] | None = None, now: float | None = None) -> str | None:
    """``$MODELSCOPE_API_TOKEN``, else the saved login's unexpired ``m_session_id``."""
    env = dict(os.environ) if env is None else env
    if ENV_TOKEN in env:
        return env[ENV_TOKEN].strip() or None
    home = Path(env.get(ENV_HOME) or Path.home() / ".modelscope").expanduser()
    return saved_login(home / "credentials" / "cookies", time.time() if now is None else now)


def saved_login(path: Path, now: float) -> str | None:
    """The ``m_session_id`` of the cookie jar at ``path``; None if absent, foreign or expired."""
    try:
        with path.open("rb") as handle:
            jar = _CookieUnpickler(handle).load()
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError, ValueError):
        return None
    for cookie in _cookies(jar):
        if getattr(cookie, "name", None) != "m_session_id":
            continue
        value, expires = getattr(cookie, "value", None), getattr(cookie, "expires", None)
        if isinstance(expires, int | float) and expires <= now:
            return None
        return value if isinstance(value, str) and value.strip() else None
    return None


def _cookies(jar: object) -> list[object]:
    """The cookies of a jar: ``_cookies`` is {domain: {path: {name: Cookie}}}."""
    domains = getattr(jar, "_cookies", None)
    found: list[object] = []
    if isinstance(domains, dict):
        for paths in domains.values():
            for names in paths.values() if isinstance(paths, dict) else ():
                found += list(names.values()) if isinstance(names, dict) else []
    return found
