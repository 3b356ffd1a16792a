"""ModelScope's face: the ``/api/v1`` routes the official ``modelscope`` client (1.40) needs.

    GET  /api/v1/{models|datasets}/{owner}/{name}                          repo info
    GET  /api/v1/{t}/{owner}/{name}/revisions                              branches, tags
    GET  /api/v1/{t}/{owner}/{name}/commits?Ref=R&PageNumber=&PageSize=    history from R
    GET  /api/v1/models/{owner}/{name}/repo/files?Revision=&Recursive=&Root=   cut at 3000
    GET  /api/v1/{t}/{owner}/{name}/repo/tree?Revision=&Recursive=&PageNumber=&PageSize=&Root=
    HEAD|GET /api/v1/{t}/{owner}/{name}/repo?Revision=R&FilePath=P         bytes: git files
         here (``Range`` ignored), LFS files by a 302 to the storage CDN (``ms-cdn``)
    GET  /api/v1/repos/internalAccelerationInfo                            404 (not in a cloud)

Every JSON answer is the envelope ``{"Code", "Data", "Message", "RequestId", "Success"}``.
What the hub answers, as ``shared/modelscope-protocol.md`` §5 records it:

    token (Bearer or m_session_id cookie) never issued   401, Code 401 (the real answer to a
                                                         bad token on a read is not recorded;
                                                         the official client raises
                                                         AuthenticationError for any 401)
    missing repo                                         404 "模型不存在" / "数据集不存在"
    private repo the token cannot read                   403
    unknown revision on a listing                        200, Success, "Files": null
    unknown revision on /commits                         200, "Commit": [] (not recorded; a
                                                         client must also take a 404)
    missing file or revision on /repo                    404, Code 10990101007

Invariants: Revision may be a branch, a tag or a commit id, and an absent one means the
repo's default branch (``master``); the face reads the hub only through :class:`MsView`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import modelpm.testing.ms_json as ms_json
from modelpm.testing.plumbing import ErrorAnswer, Handler
from modelpm.testing.repo import Commit, HubRepo

_TYPES = {"models": "model", "datasets": "dataset"}
LISTING_LIMIT = 3000  # what a model's repo/files returns at most, without saying so


class MsView(Protocol):
    """What ModelScope's face reads from the test hub (``TestHub`` provides one)."""

    @property
    def listing_limit(self) -> int: ...

    @property
    def tokens(self) -> Mapping[str, frozenset[str] | None]: ...

    def find_repo(self, repo_id: str, repo_type: str) -> HubRepo | None: ...

    def token_can_read(self, token: str | None, repo: HubRepo) -> bool: ...

    def cdn_url(self, sha256: str) -> str: ...


class MsFace:
    """The ModelScope origin: every request has its token checked, then is routed."""

    origin = "modelscope"

    def __init__(self, hub: MsView) -> None:
        self.hub = hub

    def answer(self, request: Handler, segments: list[str]) -> None:
        try:
            _Call(self.hub, request, _token(self.hub, request)).route(segments)
        except _JsonError as error:
            request.send_json(error.payload, error.status)


def _token(hub: MsView, request: Handler) -> str | None:
    """The token from ``Authorization: Bearer`` or the ``m_session_id`` cookie; None without."""
    value = request.headers.get("authorization", "")
    token = value[7:].strip() if value.lower().startswith("bearer ") else None
    if token is None:
        for part in request.headers.get("cookie", "").split(";"):
            name, _, cookie = part.strip().partition("=")
            if name == "m_session_id" and cookie:
                token = cookie
    if token is not None and token not in hub.tokens:
        raise _fail(401, 401, "AccessToken is invalid or expired")
    return token


def _fail(status: int, code: int, message: str) -> ErrorAnswer:
    return _JsonError(status, ms_json.failure(code, message))


class _JsonError(ErrorAnswer):
    """An error answered with ModelScope's envelope instead of the Hub's headers."""

    def __init__(self, status: int, payload: dict[str, Any]) -> None:
        super().__init__(status, None, str(payload["Message"]))
        self.payload = payload


class _Call:
    def __init__(self, hub: MsView, request: Handler, token: str | None) -> None:
        self.hub = hub
        self.request = request
        self.token = token

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.request.params.get(name)
        return values[-1] if values else default

    def route(self, segments: list[str]) -> None:
        if segments[:2] != ["api", "v1"] or len(segments) < 3:
            raise _fail(404, 404, f"no route for {self.request.raw_path}")
        if segments[2:] == ["repos", "internalAccelerationInfo"]:
            raise _fail(404, 404, "not inside a cloud region")
        repo_type = _TYPES.get(segments[2])
        if repo_type is None or len(segments) < 5:
            raise _fail(404, 404, f"no route for {self.request.raw_path}")
        repo = self._repo(repo_type, "/".join(segments[3:5]))
        rest = segments[5:]
        method = self.request.method
        if method in ("GET", "HEAD") and rest == ["repo"]:
            self._file(repo)
        elif method != "GET":
            raise _fail(405, 405, "method not allowed")
        elif not rest:
            self._send(ms_json.repo_info(repo))
        elif rest == ["revisions"]:
            self._send(ms_json.revisions(repo))
        elif rest == ["commits"]:
            self._commits(repo)
        elif rest == ["repo", "files"] and repo_type == "model":
            self._files(repo)
        elif rest == ["repo", "tree"]:
            self._tree(repo)
        else:
            raise _fail(404, 404, f"no route for {self.request.raw_path}")

    def _send(self, data: Any) -> None:
        self.request.send_json(ms_json.envelope(data))

    def _repo(self, repo_type: str, repo_id: str) -> HubRepo:
        repo = self.hub.find_repo(repo_id, repo_type)
        missing = ms_json.NO_SUCH_MODEL if repo_type == "model" else ms_json.NO_SUCH_DATASET
        if repo is None:
            raise _fail(404, 404, missing)
        if repo.private and not self.hub.token_can_read(self.token, repo):
            raise _fail(403, 403, "no permission to access this repo (it may be private)")
        return repo

    def _commit(self, repo: HubRepo, name: str) -> Commit | None:
        try:
            return repo.commits[repo.resolve(name or repo.default_branch)]
        except KeyError:
            return None

    def _commits(self, repo: HubRepo) -> None:
        commit = self._commit(repo, self.param("Ref") or "")
        page = max(1, int(self.param("PageNumber", "1") or 1))
        size = max(1, int(self.param("PageSize", "50") or 50))
        items, total = ms_json.commits(repo, commit, page, size) if commit else ([], 0)
        self.request.send_json({**ms_json.envelope({"Commit": items}), "TotalCount": total})

    def _listing(self, repo: HubRepo) -> list[dict[str, Any]] | None:
        commit = self._commit(repo, self.param("Revision") or "")
        if commit is None:
            return None
        recursive = (self.param("Recursive", "False") or "").lower() == "true"
        return ms_json.file_entries(repo, commit, self.param("Root") or "", recursive)

    def _files(self, repo: HubRepo) -> None:
        entries = self._listing(repo)
        if entries is not None:
            entries = entries[: self.hub.listing_limit]
        self._send({"Files": entries})

    def _tree(self, repo: HubRepo) -> None:
        entries = self._listing(repo)
        if entries is not None:
            page = max(1, int(self.param("PageNumber", "1") or 1))
            size = max(1, int(self.param("PageSize", "200") or 200))
            entries = entries[(page - 1) * size : page * size]
        self._send({"Files": entries})

    def _file(self, repo: HubRepo) -> None:
        commit = self._commit(repo, self.param("Revision") or "")
        item = commit.files.get(self.param("FilePath") or "") if commit else None
        if item is None:
            raise _fail(404, ms_json.FILE_NOT_FOUND, ms_json.FILE_NOT_FOUND_MESSAGE)
        if item.lfs and item.sha256:
            self.request.send_bytes(302, b"", {"Location": self.hub.cdn_url(item.sha256)})
            return
        self.request.send_file(item.source, item.size, {}, ranges=False)
