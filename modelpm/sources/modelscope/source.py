"""ModelScope (modelscope.cn, or any endpoint speaking its ``/api/v1``) as a
:class:`~modelpm.sources.base.Source`.

    resolve     GET {t}/{repo}/commits?Ref=R&PageNumber=1&PageSize=1   → Data.Commit[0].Id
                (an unknown R is RevisionNotFoundError naming the branches and tags of
                GET {t}/{repo}/revisions; never an empty model)
    list_files  GET models/{repo}/repo/files?Revision=C&Recursive=True  (walked by folder
                when cut at 3000) or datasets/{repo}/repo/tree paged      (:mod:`.listing`)
    locate      {endpoint}/api/v1/{t}/{repo}/repo?Revision=C&FilePath=P  (both quote_plus-ed)
                → git files answer here (``Range`` ignored: the engine starts such a file over
                on one stream), LFS files by a redirect to the storage CDN

Revisions are pinned: the lock holds the commit id, and every listing and download asks
for that id, never the branch name (the official clients send the name every time). Where
the real hub's answer to a commit id as ``Revision`` is unverified, every byte is verified
against the locked sha256 anyway. The token goes only to the endpoint's own origin
(:meth:`~.api.MsApi.headers_for`): never to the CDN, never across a redirect. A 403 or 410
from another origin is a signed storage link that expired: locate again. A CDN's
``X-Linked-ETag`` that names another sha256 than the lock ends that origin at once.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import quote_plus

from modelpm.errors import HubError, IntegrityError, ModelpmError, RevisionNotFoundError
from modelpm.sources.base import RemoteFile, ResolvedRevision
from modelpm.sources.modelscope.api import (
    API_RETRIES,
    Answer,
    MsApi,
    code_and_message,
    parse_envelope,
)
from modelpm.sources.modelscope.errors import (
    ms_error,
    network_error,
    not_modelscope,
    revision_not_found,
)
from modelpm.sources.modelscope.listing import (
    LISTING_LIMIT,
    NoSuchRevision,
    dataset_entries,
    model_entries,
    remote_files,
)
from modelpm.transfer.origin import Fail, Relocate, ReplyHead, Verdict, Wanted, http_verdict
from modelpm.transfer.retry import SYSTEM_CLOCK, Clock, RetryPolicy
from modelpm.urls import same_origin
from modelpm.values import Commit, RepoRef, SourceKind, is_commit

_SEGMENTS = {"model": "models", "dataset": "datasets", "space": "studios"}
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


class ModelScopeSource:
    """ModelScope at ``endpoint``, with an optional token."""

    kind: SourceKind = "modelscope"

    def __init__(
        self,
        endpoint: str,
        token: str | None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy = API_RETRIES,
        clock: Clock = SYSTEM_CLOCK,
        listing_limit: int = LISTING_LIMIT,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._api = MsApi(self.endpoint, token, timeout=timeout, retry=retry, clock=clock)
        self.listing_limit = listing_limit

    def __repr__(self) -> str:  # never show the token
        token = "set" if self._api.token else "none"
        return f"ModelScopeSource(endpoint={self.endpoint!r}, token={token})"

    @property
    def name(self) -> str:
        return self.endpoint

    def _get(self, ref: RepoRef, path: str, params: dict[str, str], revision: str) -> Answer:
        return self._api.get(f"{_SEGMENTS[ref.repo_type]}/{ref.repo}/{path}", params, ref, revision)

    # -- listings ------------------------------------------------------------------

    def resolve(self, ref: RepoRef, revision: str) -> ResolvedRevision:
        params = {"Ref": revision, "PageNumber": "1", "PageSize": "1"}
        try:
            answer = self._get(ref, "commits", params, revision)
        except HubError as error:
            if error.status not in (400, 404) or type(error) is not HubError:
                raise
            raise self._no_revision(ref, revision) from None
        data = answer.data
        history = data.get("Commit") if isinstance(data, dict) else None
        if not history:
            raise self._no_revision(ref, revision)
        head = history[0] if isinstance(history[0], dict) else {}
        commit = str(head.get("Id", "")).lower()
        if not is_commit(commit) or (is_commit(revision) and commit != revision):
            raise not_modelscope(self.endpoint, f"{ref} @ {revision} without a valid commit id")
        when = head.get("CommittedDate")
        date = None
        if isinstance(when, int | float) and not isinstance(when, bool):
            date = datetime.fromtimestamp(when / 1000 if when > 1e11 else when, timezone.utc)
        return ResolvedRevision(Commit(commit), date)

    def _no_revision(self, ref: RepoRef, revision: str) -> RevisionNotFoundError:
        """The error for a missing revision, naming the branches and tags there are."""
        known: list[str] | None = None
        try:
            data = self._get(ref, "revisions", {}, revision).data
            revision_map = data.get("RevisionMap", {}) if isinstance(data, dict) else {}
            known = [
                str(item["Revision"])
                for kind in ("Branches", "Tags")
                for item in revision_map.get(kind) or []
                if isinstance(item, dict) and "Revision" in item
            ]
        except HubError:
            pass  # the revision is still missing; the hint just names none
        return revision_not_found(self.endpoint, ref, revision, known)

    def list_files(self, ref: RepoRef, commit: str) -> list[RemoteFile]:
        def fetch(path: str, params: dict[str, str]) -> Answer:
            return self._get(ref, path, params, commit)

        try:
            if ref.repo_type == "dataset":
                entries = dataset_entries(fetch, commit)
            else:
                entries = model_entries(fetch, commit, self.listing_limit)
        except NoSuchRevision:
            raise revision_not_found(self.endpoint, ref, commit, None) from None
        except ValueError as exc:
            raise not_modelscope(self.endpoint, f"a malformed file listing: {exc}") from None
        return remote_files(entries, ref, commit, self.endpoint)

    # -- bytes (the Origin side) -------------------------------------------------------

    def locate(self, wanted: Wanted) -> str:
        return file_url(self.endpoint, wanted.repo, wanted.commit, wanted.path)

    def headers_for(self, url: str) -> dict[str, str]:
        return self._api.headers_for(url)

    def judge(self, reply: ReplyHead, url: str, wanted: Wanted) -> Verdict:
        verdict = http_verdict(reply, url, wanted)
        linked = reply.headers.get("x-linked-etag", "").strip().strip('"')
        digest = wanted.digest
        if (
            reply.status in (200, 206)
            and _SHA256.match(linked)
            and digest.algorithm == "sha256"
            and linked.lower() != digest.hexdigest
        ):
            return Fail(
                IntegrityError(
                    f"{wanted.label}: {self.endpoint} serves other bytes than the lock pins "
                    f"(X-Linked-ETag sha256:{linked.lower()[:16]}…, locked {digest})",
                    hint="the repo changed since it was locked; run `modelpm lock --upgrade` "
                    "or fetch it from another source",
                )
            )
        if verdict is not None:
            return verdict
        status = reply.status
        if status in (403, 410) and not same_origin(url, self.endpoint):
            return Relocate(f"the download link expired (HTTP {status})")
        code, message = _error_body(reply)
        return Fail(
            ms_error(
                status,
                code,
                message,
                self.endpoint,
                wanted.repo,
                wanted.commit,
                token_set=bool(self._api.token),
            )
        )

    def unreachable(self, cause: BaseException) -> ModelpmError:
        return network_error(self.endpoint, cause)


def file_url(endpoint: str, ref: RepoRef, commit: str, path: str) -> str:
    return (
        f"{endpoint}/api/v1/{_SEGMENTS[ref.repo_type]}/{ref.repo}/repo"
        f"?Revision={quote_plus(commit)}&FilePath={quote_plus(path)}"
    )


def _error_body(reply: ReplyHead) -> tuple[int | None, str]:
    return code_and_message(parse_envelope(reply.read_text(4096).encode()))
