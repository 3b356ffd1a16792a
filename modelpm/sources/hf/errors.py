"""Every error the Hub or ``huggingface_hub`` can raise at modelpm, as a modelpm error.

One choke point, :func:`hub_error`, turns the Hub's typed answer (its
``X-Error-Code``, else the status) into an error with a hint; the same
function judges ``/resolve`` answers in the transfer engine and exceptions of
the client here. :data:`HANDLED` says what each exception class of
``huggingface_hub.errors`` and ``httpx2`` becomes; :data:`NOT_MET` names the
classes modelpm cannot meet (it never calls what raises them) and why. A test
fails when either library gains a class that is in neither table.

    GatedRepo            → GatedRepoError    (no token set, or this token has no access)
    RepoNotFound         → RepoNotFoundError
    RevisionNotFound     → RevisionNotFoundError
    EntryNotFound        → EntryNotFoundError
    DisabledRepo         → RepoNotFoundError (disabled by the Hub)
    401 without a code   → TokenRejectedError with a token, GatedRepoError without
    429                  → NetworkError      (rate limited)
    other status         → HubError          (with the status)
    transport failures   → NetworkError      (cannot reach the endpoint)
    offline mode         → OfflineError
    a body that is not the Hub's JSON → HubError (not a Hugging Face compatible hub)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

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
from modelpm.redact import clean
from modelpm.values import RepoRef

_URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_ACCESS_HINT = (
    "accept the licence on the repo page ({url}) if it is gated, then set HF_TOKEN "
    "to a token with access (or run `hf auth login`)"
)

# What each exception class becomes: the Hub error code it stands for, "status" (judged by
# its HTTP status), "network", "offline" or "not-a-hub". Looked up along the class's MRO.
HANDLED: dict[str, str] = {
    # huggingface_hub.errors
    "GatedRepoError": "GatedRepo",
    "RepositoryNotFoundError": "RepoNotFound",
    "RevisionNotFoundError": "RevisionNotFound",
    "RemoteEntryNotFoundError": "EntryNotFound",
    "DisabledRepoError": "DisabledRepo",
    "BadRequestError": "status",
    "HfHubHTTPError": "status",
    "OfflineModeIsEnabled": "offline",
    "HFValidationError": "not-a-hub",  # a repo id or revision the client refuses
    # httpx2: every way a connection fails
    **{
        name: "network"
        for name in (
            "TransportError",
            "NetworkError",
            "ConnectError",
            "ReadError",
            "WriteError",
            "CloseError",
            "TimeoutException",
            "ConnectTimeout",
            "ReadTimeout",
            "WriteTimeout",
            "PoolTimeout",
            "ProtocolError",
            "LocalProtocolError",
            "RemoteProtocolError",
            "ProxyError",
            "UnsupportedProtocol",
            "SSEError",
        )
    },
    # httpx2: an answer that is not a hub's
    "RequestError": "not-a-hub",
    "DecodingError": "not-a-hub",
    "TooManyRedirects": "not-a-hub",
}
NOT_MET: dict[str, str] = {
    name: "raised only by parts of huggingface_hub modelpm never calls"
    for name in (
        "BucketBatchError",
        "BucketNotFoundError",
        "CLIError",
        "CLIExtensionInstallError",
        "CacheNotFound",
        "CachedRepoTreeNotFoundError",
        "ConfirmationError",
        "CorruptedCacheException",
        "DDUFCorruptedFileError",
        "DDUFError",
        "DDUFExportError",
        "DDUFInvalidEntryNameError",
        "DeviceCodeError",
        "DryRunError",
        "FileDuplicationError",
        "FileMetadataError",
        "GenerationError",
        "HfUriError",
        "IncompleteGenerationError",
        "IncompleteSnapshotError",
        "InferenceEndpointError",
        "InferenceEndpointTimeoutError",
        "InferenceTimeoutError",
        "JobNotFoundError",
        "LocalEntryNotFoundError",
        "LocalTokenNotFoundError",
        "NotASafetensorsRepoError",
        "OIDCError",
        "OverloadedError",
        "RevisionResolutionError",
        "SafetensorsParsingError",
        "SandboxCommandError",
        "SandboxError",
        "StrictDataclassClassValidationError",
        "StrictDataclassDefinitionError",
        "StrictDataclassError",
        "StrictDataclassFieldValidationError",
        "TextGenerationError",
        "UnknownError",
        "ValidationError",
        "XetDownloadError",
        "EntryNotFoundError",
        # httpx2: raised before a request leaves or after a response is read, which
        # huggingface_hub does for us (and turns status errors into its own classes)
        "CookieConflict",
        "HTTPError",
        "HTTPStatusError",
        "InvalidURL",
        "RequestNotRead",
        "ResponseNotRead",
        "StreamClosed",
        "StreamConsumed",
        "StreamError",
    )
}


def repo_page(endpoint: str, ref: RepoRef) -> str:
    return f"{endpoint}/{_URL_PREFIX[ref.repo_type]}{ref.repo}"


def hub_error(
    code: str | None,
    status: int | None,
    endpoint: str,
    ref: RepoRef,
    revision: str | None,
    detail: str = "",
    *,
    token_set: bool,
) -> HubError:
    """The one mapping from a hub's typed error (``X-Error-Code``) or status to our errors."""
    access_hint = _ACCESS_HINT.format(url=repo_page(endpoint, ref))
    if code == "GatedRepo":
        if not token_set:
            return GatedRepoError(f"{ref} is gated and no token is set", hint=access_hint)
        return GatedRepoError(
            f"{ref} is gated and this token has no access to its files", hint=access_hint
        )
    if code == "RepoNotFound":
        return RepoNotFoundError(
            f"{ref} was not found on {endpoint}",
            hint="check the repo id and repo-type; if it is private, set HF_TOKEN to a "
            "token with access",
        )
    if code == "DisabledRepo":
        return RepoNotFoundError(
            f"{ref} is disabled on {endpoint}", hint="choose another repo; this one is gone"
        )
    if code == "RevisionNotFound":
        return RevisionNotFoundError(
            f"revision {revision!r} was not found in {ref}",
            hint=f"check the branch, tag or commit on {repo_page(endpoint, ref)}",
        )
    if code == "EntryNotFound":
        return EntryNotFoundError(
            f"a file of {ref} @ {revision} is missing on {endpoint}",
            hint="the repo was rewritten since it was locked; run `modelpm lock --upgrade`",
        )
    if status == 401:
        if token_set:
            return TokenRejectedError(
                f"{endpoint} rejected the token (401): the token was rejected",
                hint="set HF_TOKEN to a valid token (or run `hf auth login`), or unset it "
                "for public repos",
            )
        return GatedRepoError(
            f"{endpoint} needs a token for {ref} (401) and no token is set", hint=access_hint
        )
    if status == 429:
        return NetworkError(
            f"{endpoint} is rate-limiting requests (429)", hint="wait a minute and run again"
        )
    detail = clean(detail, limit=200)  # the server chose this text: no escapes, no secrets
    suffix = f": {detail}" if detail else ""
    error = HubError(f"{endpoint} failed for {ref} (HTTP {status}){suffix}", hint="try again later")
    error.status = status
    return error


def vanished(endpoint: str, ref: RepoRef, commit: str) -> RevisionNotFoundError:
    """The locked commit is gone from the repo (a super-squash, a force-push)."""
    return RevisionNotFoundError(
        f"the locked commit {commit[:12]} of {ref} is no longer on {endpoint} (its history "
        "was rewritten)",
        hint="add a mirror that has the files, or run `modelpm lock --upgrade-model <name>` to "
        "pin what the revision points to now",
    )


def network_error(endpoint: str, exc: BaseException) -> NetworkError:
    return NetworkError.unreachable(
        endpoint, exc, "check your connection, or point HF_ENDPOINT at a mirror you can reach"
    )


def offline_error() -> OfflineError:
    return OfflineError(
        "HF_HUB_OFFLINE is set, and this needs to ask the hub",
        hint="unset HF_HUB_OFFLINE, or sync what models.lock already pins",
    )


def handling_of(exc: BaseException) -> str | None:
    """What :data:`HANDLED` says for ``exc``'s class or its nearest mapped ancestor."""
    for kind in type(exc).__mro__:
        if kind.__module__.startswith(("huggingface_hub", "httpx2")) and kind.__name__ in HANDLED:
            return HANDLED[kind.__name__]
    return None


@contextlib.contextmanager
def translate_errors(
    endpoint: str, ref: RepoRef, revision: str | None = None, *, token_set: bool
) -> Iterator[None]:
    """Turn huggingface_hub and httpx2 exceptions into modelpm errors with hints."""
    import httpx2
    from huggingface_hub import errors as hf_errors

    from modelpm.sources.hf.guards import AnswerRefused, OutOfTime

    try:
        yield
    except OutOfTime as exc:
        raise network_error(endpoint, exc) from None
    except AnswerRefused as exc:
        raise HubError(
            f"{endpoint} {exc}", hint="the endpoint is not trustworthy; try another one"
        ) from None
    except (
        hf_errors.HfHubHTTPError,
        hf_errors.OfflineModeIsEnabled,
        httpx2.RequestError,
        # A body of the wrong shape breaks huggingface_hub's parsing with any of these.
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        IndexError,
    ) as exc:
        raise _translated(exc, endpoint, ref, revision, token_set) from None


def _translated(
    exc: BaseException, endpoint: str, ref: RepoRef, revision: str | None, token_set: bool
) -> BaseException:
    handling = handling_of(exc)
    if handling == "network":
        return network_error(endpoint, exc)
    if handling == "offline":
        return offline_error()
    if handling is None or handling == "not-a-hub":
        # A body that is not the JSON a hub sends (a portal, a proxy), or a refused value.
        return HubError(
            f"{endpoint} did not answer like a Hugging Face hub ({type(exc).__name__})",
            hint="check HF_ENDPOINT / [settings] endpoint; a login page or proxy may be in the way",
        )
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    code = None if handling == "status" else handling
    return hub_error(
        code,
        status,
        endpoint,
        ref,
        revision,
        (str(exc) or " ").splitlines()[0],
        token_set=token_set,
    )
