"""Talking to a hub: the only module that imports ``huggingface_hub``.

Owns: revision → commit, the recursive file listing of a commit, commit dates,
file URLs, where the token may be sent, and the translation of every
``huggingface_hub`` / ``httpx2`` exception into a :mod:`modelpm.errors` error
with a hint. Never writes to disk.

Trust: everything a hub says is input. Commit ids must be 40 hex digits,
paths must pass :func:`modelpm.paths.check_repo_path`, a path listed twice is
refused, and hashes must parse as :class:`~modelpm.lockfile.Digest`.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeVar
from urllib.parse import quote, urlsplit

from modelpm.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HubError,
    NetworkError,
    OfflineError,
    RepoNotFoundError,
    RevisionNotFoundError,
)
from modelpm.lockfile import Digest
from modelpm.paths import check_repo_path

if TYPE_CHECKING:
    import httpx2

# huggingface_hub and httpx2 are imported where a request is made, not here: a no-op
# `modelpm sync` never talks to a hub and should not pay ~0.25 s to import them.

DEFAULT_ENDPOINT = "https://huggingface.co"
T = TypeVar("T")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}


@dataclass(frozen=True)
class RepoRef:
    """A repository on a hub."""

    repo: str
    repo_type: str = "model"

    def __str__(self) -> str:
        return self.repo if self.repo_type == "model" else f"{self.repo_type} {self.repo}"


@dataclass(frozen=True)
class RemoteFile:
    """A file of a commit as the hub lists it."""

    path: str
    size: int
    digest: Digest


@dataclass(frozen=True)
class ResolvedRevision:
    """What a branch, tag or commit points to now."""

    commit: str
    date: datetime | None = None


class Hub(Protocol):
    """What the rest of modelpm needs from a hub; tests may pass any implementation."""

    endpoint: str

    def resolve(self, ref: RepoRef, revision: str) -> ResolvedRevision: ...

    def list_files(self, ref: RepoRef, commit: str) -> list[RemoteFile]: ...

    def file_url(self, ref: RepoRef, commit: str, path: str) -> str: ...

    def auth_headers(self, url: str) -> dict[str, str]: ...


def find_token() -> str | None:
    """The token exactly as the official client finds it: $HF_TOKEN, then its token file."""
    from huggingface_hub import get_token

    return get_token()


def offline_from_env() -> bool:
    """True when ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) asks for no network."""
    return any(
        os.environ.get(name, "").strip().upper() in ("1", "ON", "YES", "TRUE")
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def hub_offline_error() -> OfflineError:
    return OfflineError(
        "HF_HUB_OFFLINE is set, and this needs to ask the hub",
        hint="unset HF_HUB_OFFLINE, or sync what models.lock already pins",
    )


def endpoint_from(configured: str | None) -> str:
    """The endpoint to use: $HF_ENDPOINT, then the manifest's ``[settings] endpoint``."""
    return (os.environ.get("HF_ENDPOINT") or configured or DEFAULT_ENDPOINT).rstrip("/")


class _TokenGuard:
    """A request hook for huggingface_hub's HTTP client: a token goes only to its own origin.

    HfApi sends its Authorization header with every request it makes, including the next
    page of a file listing, whose URL the server chooses (``Link: rel="next"``): a hostile
    mirror could point it at another host and collect the token. This hook removes the
    header from any request whose origin is not the endpoint the token was given for. It
    touches only requests that carry a token modelpm registered.
    """

    def __init__(self) -> None:
        self._origins: dict[str, set[tuple[str, str | None, int | None]]] = {}

    def allow(self, token: str, endpoint: str) -> None:
        self._origins.setdefault(f"Bearer {token}", set()).add(_origin(endpoint))

    def __call__(self, request: httpx2.Request) -> None:
        allowed = self._origins.get(request.headers.get("authorization", ""))
        if allowed is not None and _origin(str(request.url)) not in allowed:
            del request.headers["authorization"]

    def install(self) -> None:
        """Add the hook to the client huggingface_hub shares (made anew after close_session)."""
        from huggingface_hub import get_session

        session = get_session()
        hooks = session.event_hooks
        if self not in hooks["request"]:
            hooks["request"] = [*hooks["request"], self]
            session.event_hooks = hooks


_TOKEN_GUARD = _TokenGuard()


class HubClient:
    """A :class:`Hub` backed by ``huggingface_hub.HfApi``."""

    retries = 4

    def __init__(
        self, endpoint: str, token: str | None, *, timeout: float = 30.0, backoff: float = 0.5
    ) -> None:
        from huggingface_hub import HfApi

        self.backoff = backoff  # first delay before retrying a failed API call; doubles
        self.endpoint = endpoint.rstrip("/")
        self._token = token
        self._timeout = timeout
        # token=False: never let HfApi look up a token on its own; we decided already.
        self._api = HfApi(endpoint=self.endpoint, token=token or False)
        if token:
            _TOKEN_GUARD.allow(token, self.endpoint)
            _TOKEN_GUARD.install()

    def __repr__(self) -> str:  # never show the token
        return f"HubClient(endpoint={self.endpoint!r}, token={'set' if self._token else 'none'})"

    def resolve(self, ref: RepoRef, revision: str) -> ResolvedRevision:
        info = self._retrying(
            lambda: self._api.repo_info(
                ref.repo, revision=revision, repo_type=ref.repo_type, timeout=self._timeout
            ),
            ref,
            revision,
        )
        commit = getattr(info, "sha", None)
        if not isinstance(commit, str) or not _COMMIT.match(commit):
            raise HubError(
                f"{self.endpoint} answered {ref} @ {revision} without a valid commit id",
                hint="the endpoint may not be a Hugging Face compatible hub",
            )
        modified = getattr(info, "last_modified", None)
        return ResolvedRevision(commit, modified if isinstance(modified, datetime) else None)

    def list_files(self, ref: RepoRef, commit: str) -> list[RemoteFile]:
        files: dict[str, RemoteFile] = {}
        try:
            entries = self._retrying(
                lambda: list(
                    self._api.list_repo_tree(
                        ref.repo, recursive=True, revision=commit, repo_type=ref.repo_type
                    )
                ),
                ref,
                commit,
            )
        except (KeyError, TypeError) as exc:
            raise HubError(
                f"{self.endpoint} sent a malformed file listing for {ref} ({exc})",
                hint="the endpoint may not be a Hugging Face compatible hub",
            ) from None
        for entry in entries:
            if not hasattr(entry, "size"):  # a folder
                continue
            remote = _remote_file(entry, ref, self.endpoint)
            if remote.path in files:
                raise HubError(
                    f"{self.endpoint} listed {remote.path!r} twice in {ref} @ {commit[:12]}",
                    hint="the endpoint is not trustworthy; try another one",
                )
            files[remote.path] = remote
        return sorted(files.values(), key=lambda item: item.path)

    def file_url(self, ref: RepoRef, commit: str, path: str) -> str:
        return file_url(self.endpoint, ref, commit, path)

    def _retrying(self, call: Callable[[], T], ref: RepoRef, revision: str) -> T:
        """``call``, retried on 5xx and dropped connections (HfApi's info calls never retry)."""
        if self._token:
            _TOKEN_GUARD.install()  # again: close_session() makes a client without it
        attempt = 0
        while True:
            attempt += 1
            try:
                with translate_errors(self.endpoint, ref, revision):
                    return call()
            except (NetworkError, HubError) as error:
                transient = isinstance(error, NetworkError) or getattr(error, "status", 0) in (
                    500, 502, 503, 504,
                )
                if not transient or attempt > self.retries:
                    raise
                time.sleep(min(8.0, self.backoff * 2 ** (attempt - 1)))

    def auth_headers(self, url: str) -> dict[str, str]:
        """The Authorization header, only for URLs on this endpoint's own origin."""
        if self._token and same_origin(url, self.endpoint):
            return {"authorization": f"Bearer {self._token}"}
        return {}


def file_url(endpoint: str, ref: RepoRef, commit: str, path: str) -> str:
    return (
        f"{endpoint}/{_URL_PREFIX[ref.repo_type]}{ref.repo}/resolve/"
        f"{quote(commit, safe='')}/{quote(path)}"
    )


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, parts.hostname, parts.port or {"http": 80, "https": 443}.get(scheme)


def same_origin(url: str, other: str) -> bool:
    return _origin(url) == _origin(other)


def _remote_file(entry: object, ref: RepoRef, endpoint: str) -> RemoteFile:
    path = getattr(entry, "path", None)
    size = getattr(entry, "size", None)
    blob_id = getattr(entry, "blob_id", None)
    lfs = getattr(entry, "lfs", None)
    try:
        if not isinstance(path, str):
            raise ValueError("a file without a path")
        check_repo_path(path)
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError(f"file {path!r} has an invalid size")
        if lfs is not None:
            if getattr(lfs, "size", size) != size:
                raise ValueError(f"file {path!r} has two different sizes")
            digest = Digest("sha256", str(getattr(lfs, "sha256", "")))
        else:
            digest = Digest("git-sha1", str(blob_id))
    except ValueError as exc:
        raise HubError(
            f"{endpoint} listed a file of {ref} that modelpm refuses: {exc}",
            hint="the endpoint is not trustworthy; try another one",
        ) from None
    return RemoteFile(path=path, size=size, digest=digest)


_ACCESS_HINT = (
    "accept the licence on the repo page ({url}) if it is gated, then set HF_TOKEN "
    "to a token with access (or run `hf auth login`)"
)


def repo_page(endpoint: str, ref: RepoRef) -> str:
    return f"{endpoint}/{_URL_PREFIX[ref.repo_type]}{ref.repo}"


def hub_error(
    code: str | None, status: int | None, endpoint: str, ref: RepoRef, revision: str | None,
    detail: str = "",
) -> HubError:
    """The one mapping from a hub's typed error (``X-Error-Code``) or status to our errors."""
    if code == "GatedRepo":
        return GatedRepoError(
            f"{ref} is gated and this token has no access to its files",
            hint=_ACCESS_HINT.format(url=repo_page(endpoint, ref)),
        )
    if code == "RepoNotFound":
        return RepoNotFoundError(
            f"{ref} was not found on {endpoint}",
            hint="check the repo id and repo-type; if it is private, set HF_TOKEN to a "
            "token with access",
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
        return GatedRepoError(
            f"{endpoint} refused the credentials for {ref} (401)",
            hint="set HF_TOKEN to a valid token with access, or unset it for public repos",
        )
    if status == 429:
        return NetworkError(
            f"{endpoint} is rate-limiting requests (429)", hint="wait a minute and run again"
        )
    suffix = f": {detail}" if detail else ""
    error = HubError(f"{endpoint} failed for {ref} (HTTP {status}){suffix}", hint="try again later")
    error.status = status
    return error


@contextlib.contextmanager
def translate_errors(endpoint: str, ref: RepoRef, revision: str | None = None) -> Iterator[None]:
    """Turn huggingface_hub and httpx2 exceptions into modelpm errors with hints."""
    import httpx2
    from huggingface_hub import errors as hf_errors

    codes = (
        (hf_errors.GatedRepoError, "GatedRepo"),  # before its base class, RepositoryNotFound
        (hf_errors.RepositoryNotFoundError, "RepoNotFound"),
        (hf_errors.RevisionNotFoundError, "RevisionNotFound"),
        (hf_errors.EntryNotFoundError, "EntryNotFound"),
    )
    try:
        yield
    except hf_errors.HfHubHTTPError as exc:
        code = next((name for kind, name in codes if isinstance(exc, kind)), None)
        status = exc.response.status_code if exc.response is not None else None
        raise hub_error(code, status, endpoint, ref, revision, str(exc).splitlines()[0]) from None
    except httpx2.TransportError as exc:
        raise network_error(endpoint, exc) from None
    except hf_errors.OfflineModeIsEnabled:
        raise hub_offline_error() from None
    except ValueError as exc:  # a body that is not the JSON a hub sends (a portal, a proxy)
        raise HubError(
            f"{endpoint} did not answer like a Hugging Face hub ({type(exc).__name__})",
            hint="check HF_ENDPOINT / [settings] endpoint; a login page or proxy may be in the way",
        ) from None


def network_error(endpoint: str, exc: BaseException) -> NetworkError:
    reason = type(exc).__name__
    text = str(exc).strip()
    if text:
        reason = f"{reason}: {text.splitlines()[0]}"
    return NetworkError(
        f"cannot reach {endpoint} ({reason})",
        hint="check your connection, or point HF_ENDPOINT at a mirror you can reach",
    )
