"""The Hugging Face Hub as a :class:`~modelpm.sources.base.Source`.

Listings and revisions go through ``huggingface_hub.HfApi`` (its auth,
endpoint handling and typed errors); file bytes go through modelpm's transfer
engine, which asks this class where they are and what each answer means:

- a file's bytes are at ``{endpoint}/{prefix}{repo}/resolve/{commit}/{path}``,
  which answers LFS files with a redirect to a CDN on another host;
- the token goes only to the endpoint's own origin: never to the CDN, never
  across a redirect, never to a listing's next page on another host;
- a 403 or 410 from another origin is a signed CDN link that expired: locate
  again; every other error is typed by ``X-Error-Code`` (:mod:`.errors`).

``huggingface_hub`` and ``httpx2`` are imported where a request is made: a
no-op ``modelpm sync`` never talks to a hub and should not pay ~0.25 s for them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar
from urllib.parse import quote

from modelpm.errors import HubError, ModelpmError, NetworkError
from modelpm.redact import clean
from modelpm.sources.base import HubScan, RemoteFile, ResolvedRevision
from modelpm.sources.hf.errors import hub_error, network_error, translate_errors, vanished
from modelpm.sources.hf.guards import GUARDS
from modelpm.sources.hf.listing import hub_scans, remote_files
from modelpm.sources.hf.token import TOKEN_GUARD
from modelpm.transfer.origin import Fail, Relocate, ReplyHead, Verdict, Wanted, http_verdict
from modelpm.transfer.retry import SYSTEM_CLOCK, Clock, RetryPolicy
from modelpm.urls import same_origin
from modelpm.values import RepoRef, SourceKind, is_commit

_URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_NOT_A_HUB = "the endpoint may not be a Hugging Face compatible hub"
# HfApi's info calls never retry; modelpm retries 5xx and dropped connections itself.
API_RETRIES = RetryPolicy(retries=4, backoff=0.5, max_backoff=8.0, jitter=False)
T = TypeVar("T")


class HfSource:
    """The Hub at ``endpoint`` (or a mirror speaking its API), with an optional token."""

    kind: SourceKind = "hf"

    def __init__(
        self,
        endpoint: str,
        token: str | None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy = API_RETRIES,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        from huggingface_hub import HfApi

        self.endpoint = endpoint.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._retry = retry
        self._clock = clock
        # token=False: never let HfApi look up a token on its own; we decided already.
        self._api = HfApi(endpoint=self.endpoint, token=token or False)
        if token:
            TOKEN_GUARD.allow(token, self.endpoint)
            TOKEN_GUARD.install()

    def __repr__(self) -> str:  # never show the token
        return f"HfSource(endpoint={self.endpoint!r}, token={'set' if self._token else 'none'})"

    @property
    def name(self) -> str:
        return self.endpoint

    # -- listings ------------------------------------------------------------------

    def resolve(self, ref: RepoRef, revision: str) -> ResolvedRevision:
        info = self._retrying(
            lambda: self._api.repo_info(
                ref.repo, revision=revision, repo_type=ref.repo_type, timeout=self._timeout
            ),
            ref,
            revision,
        )
        commit = getattr(info, "sha", None)
        if not is_commit(commit):
            raise HubError(
                f"{self.endpoint} answered {ref} @ {revision} without a valid commit id",
                hint=_NOT_A_HUB,
            )
        modified = getattr(info, "last_modified", None)
        # A renamed repo answers (after the Hub's 307) under its new id.
        found = getattr(info, "id", None)
        canonical = found if isinstance(found, str) and found != ref.repo else None
        return ResolvedRevision(
            commit, modified if isinstance(modified, datetime) else None, canonical
        )

    def list_files(self, ref: RepoRef, commit: str) -> list[RemoteFile]:
        return self._retrying(
            lambda: remote_files(
                self._api.list_repo_tree(
                    ref.repo, recursive=True, revision=commit, repo_type=ref.repo_type
                ),
                ref,
                commit,
                self.endpoint,
            ),
            ref,
            commit,
        )

    def security_status(self, ref: RepoRef, commit: str, paths: list[str]) -> dict[str, HubScan]:
        """The Hub's scan of ``paths`` (``securityFileStatus`` of an expanded paths-info)."""
        if not paths:
            return {}
        entries = self._retrying(
            lambda: self._api.get_paths_info(
                ref.repo, paths, expand=True, revision=commit, repo_type=ref.repo_type
            ),
            ref,
            commit,
        )
        return hub_scans(entries)

    def _retrying(self, call: Callable[[], T], ref: RepoRef, revision: str) -> T:
        """``call``, retried on 5xx and dropped connections, all of it within one time
        budget (:mod:`.guards`): a dead endpoint is a clear error in minutes, not hours."""
        if self._token:
            TOKEN_GUARD.install()  # again: close_session() makes a client without it
        failures = 0
        with GUARDS.bounded(self._timeout):
            while True:
                try:
                    with translate_errors(
                        self.endpoint, ref, revision, token_set=bool(self._token)
                    ):
                        return call()
                except HubError as error:
                    transient = isinstance(error, NetworkError) or error.status in (
                        500,
                        502,
                        503,
                        504,
                    )
                    failures += 1
                    if not transient or failures > self._retry.retries or GUARDS.spent():
                        raise
                    self._clock.sleep(self._retry.delay(failures))

    # -- bytes (the Origin side) -------------------------------------------------------

    def locate(self, wanted: Wanted) -> str:
        return file_url(self.endpoint, wanted.repo, wanted.commit, wanted.path)

    def headers_for(self, url: str) -> dict[str, str]:
        """The Authorization header, only for URLs on this endpoint's own origin."""
        if self._token and same_origin(url, self.endpoint):
            return {"authorization": f"Bearer {self._token}"}
        return {}

    def judge(self, reply: ReplyHead, url: str, wanted: Wanted) -> Verdict:
        verdict = http_verdict(reply, url, wanted)
        if verdict is not None:
            return verdict
        status = reply.status
        if status in (403, 410) and not same_origin(url, self.endpoint):
            # A signed CDN link that expired: ask /resolve for a fresh one.
            return Relocate(f"the download link expired (HTTP {status})")
        if reply.headers.get("x-error-code") == "RevisionNotFound":
            return Fail(vanished(self.endpoint, wanted.repo, wanted.commit))
        detail = reply.headers.get("x-error-message") or reply.read_text(300)
        detail = clean(detail, secrets=(self._token or "",))
        return Fail(
            hub_error(
                reply.headers.get("x-error-code"),
                status,
                self.endpoint,
                wanted.repo,
                wanted.commit,
                detail,
                token_set=bool(self._token),
            )
        )

    def unreachable(self, cause: BaseException) -> ModelpmError:
        return network_error(self.endpoint, cause)


def file_url(endpoint: str, ref: RepoRef, commit: str, path: str) -> str:
    return (
        f"{endpoint}/{_URL_PREFIX[ref.repo_type]}{ref.repo}/resolve/"
        f"{quote(commit, safe='')}/{quote(path)}"
    )
