"""Text from a server, made safe to print: no terminal escapes, no secrets, bounded length.

A hostile or broken server chooses its error messages and bodies, and whatever it
echoes (a request header with the token, say) would otherwise reach the terminal
and the CI log. :func:`clean` is applied to every server-provided string before it
becomes part of an error, and :func:`scrub` to every line the CLI prints as a last
guard. Invariant: neither ever lets through a control character (ESC included) or
a token-shaped string; digests and commit ids (lowercase hex) are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"
_ESCAPES = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-_])")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SECRETS = re.compile(
    r"(?i:bearer|basic)\s+[^\s,;]+"  # an Authorization header echoed back
    r"|\bhf_[A-Za-z0-9]{8,}"  # Hugging Face tokens
    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"  # AWS access key ids
    r"|\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}"  # JSON web tokens
    r"|(?i:token|secret|password|passwd|api[_-]?key|signature)\s*[=:]\s*[^\s,;&]+"
)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without terminal escapes, control characters or token-shaped strings."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _ESCAPES.sub("", text)
    text = _CONTROLS.sub(" ", text)
    return _SECRETS.sub(REDACTED, text)


def clean(text: str, limit: int = 300, secrets: Iterable[str] = ()) -> str:
    """:func:`scrub`, on one line, at most ``limit`` characters (an ellipsis says it was cut)."""
    line = " ".join(scrub(text, secrets).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
