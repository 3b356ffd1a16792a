"""Every error ModelScope can answer, as a modelpm error: the same classes and exit codes as the
Hub's (``shared/modelscope-protocol.md`` §5).

One choke point, :func:`ms_error`, turns a status and the envelope's business ``Code``
into an error with a hint; it judges both API answers and file answers.

    401, or Code 10010103009, with a token   → TokenRejectedError  (the token itself)
    401 or 403 without a token               → GatedRepoError      (private: set the token)
    403 with a token                         → GatedRepoError      (this token has no access)
    404 with Code 10990101007 (a file)       → EntryNotFoundError
    404 otherwise                            → RepoNotFoundError
    429                                      → NetworkError        (rate limited)
    other status                             → HubError            (with the status)
    connection failures                      → NetworkError
    offline mode                             → OfflineError
    an answer that is not the JSON envelope  → HubError            (not a ModelScope endpoint)
"""

from __future__ import annotations

from modelpm.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HubError,
    NetworkError,
    OfflineError,
    RepoNotFoundError,
    RevisionNotFoundError,
    TokenRejectedError,
)
from modelpm.values import RepoRef

FILE_NOT_FOUND = 10990101007
TOKEN_INVALID = 10010103009
_SEGMENTS = {"model": "models", "dataset": "datasets", "space": "studios"}
_ACCESS_HINT = "set MODELSCOPE_API_TOKEN to a token with access (or run `modelscope login`)"


def repo_page(endpoint: str, ref: RepoRef) -> str:
    return f"{endpoint}/{_SEGMENTS[ref.repo_type]}/{ref.repo}"


def ms_error(
    status: int,
    code: int | None,
    message: str,
    endpoint: str,
    ref: RepoRef,
    revision: str | None,
    *,
    token_set: bool,
) -> HubError:
    """The one mapping from ModelScope's status and business code to our errors."""
    if (status == 401 or code == TOKEN_INVALID) and token_set:
        return TokenRejectedError(
            f"{endpoint} rejected the token ({status}): {message or 'the token was rejected'}",
            hint="set MODELSCOPE_API_TOKEN to a valid token (or run `modelscope login`), "
            "or unset it for public repos",
        )
    if status in (401, 403):
        if not token_set:
            return GatedRepoError(
                f"{ref} is private or needs a login on {endpoint}, and no token is set",
                hint=_ACCESS_HINT,
            )
        return GatedRepoError(
            f"{ref} is private and this token has no access to it ({status})", hint=_ACCESS_HINT
        )
    if status == 404 and code == FILE_NOT_FOUND:
        return EntryNotFoundError(
            f"a file of {ref} @ {revision} is missing on {endpoint}",
            hint="the repo was rewritten since it was locked; run `modelpm lock --upgrade`",
        )
    if status == 404:
        return RepoNotFoundError(
            f"{ref} was not found on {endpoint}",
            hint="check the repo id and repo-type (ModelScope ids are owner/name); if it is "
            "private, " + _ACCESS_HINT,
        )
    if status == 429:
        return NetworkError(
            f"{endpoint} is rate-limiting requests (429)", hint="wait a minute and run again"
        )
    suffix = f": {message}" if message else ""
    error = HubError(f"{endpoint} failed for {ref} (HTTP {status}){suffix}", hint="try again later")
    error.status = status
    return error


def revision_not_found(
    endpoint: str, ref: RepoRef, revision: str, known: list[str] | None
) -> RevisionNotFoundError:
    """``revision`` is not in ``ref``; ``known`` names the branches and tags that are."""
    if known:
        hint = f"revisions of {ref}: {', '.join(known)}"
    else:
        hint = f"check the branch, tag or commit on {repo_page(endpoint, ref)}"
    return RevisionNotFoundError(f"revision {revision!r} was not found in {ref}", hint=hint)


def not_modelscope(endpoint: str, what: str) -> HubError:
    return HubError(
        f"{endpoint} did not answer like ModelScope ({what})",
        hint="check MODELSCOPE_ENDPOINT / [settings] modelscope-endpoint; a login page or "
        "proxy may be in the way",
    )


def network_error(endpoint: str, cause: BaseException) -> NetworkError:
    return NetworkError.unreachable(
        endpoint,
        cause,
        "check your connection, or point MODELSCOPE_ENDPOINT at an endpoint you can reach",
    )


def offline_error() -> OfflineError:
    return OfflineError(
        "HF_HUB_OFFLINE is set, and this needs to ask ModelScope",
        hint="unset HF_HUB_OFFLINE, or sync what models.lock already pins",
    )
