"""The Hub token: found as the official client finds it, sent only to its own origin.

:func:`find_token` reads ``$HF_TOKEN``, then the client's token file (``hf auth
login``). The token is never written anywhere and never put in a message. The
:class:`TokenGuard` is a request hook on ``huggingface_hub``'s HTTP client:
``HfApi`` sends its Authorization header with every request it makes,
including the next page of a file listing, whose URL the server chooses
(``Link: rel="next"``), so a hostile mirror could point it at another host and
collect the token. The hook removes the header from any request whose origin
is not the endpoint the token was given for; it touches only requests that
carry a token modelpm registered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelpm.urls import Origin, origin_of

if TYPE_CHECKING:
    import httpx2


def find_token() -> str | None:
    """The token exactly as the official client finds it: $HF_TOKEN, then its token file."""
    from huggingface_hub import get_token

    return get_token()


class TokenGuard:
    def __init__(self) -> None:
        self._origins: dict[str, set[Origin]] = {}

    def allow(self, token: str, endpoint: str) -> None:
        self._origins.setdefault(f"Bearer {token}", set()).add(origin_of(endpoint))

    def __call__(self, request: httpx2.Request) -> None:
        allowed = self._origins.get(request.headers.get("authorization", ""))
        if allowed is not None and origin_of(str(request.url)) not in allowed:
            del request.headers["authorization"]

    def install(self) -> None:
        """Add the hook to the client huggingface_hub shares (made anew after close_session)."""
        from huggingface_hub import get_session

        session = get_session()
        hooks = session.event_hooks
        if self not in hooks["request"]:
            hooks["request"] = [*hooks["request"], self]
            session.event_hooks = hooks


TOKEN_GUARD = TokenGuard()
