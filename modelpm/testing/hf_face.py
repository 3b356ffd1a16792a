"""The Hub's face: the ``/api`` routes and ``/resolve``, as ``huggingface_hub`` 2.4 needs them.

    GET  /api/{models|datasets|spaces}/{repo}[/revision/{rev}]   repo info
    GET  /api/{t}/{repo}/tree/{rev}[/{path}]?recursive=&expand=  paginated by Link
    GET  /api/{t}/{repo}/refs                                    branches, tags
    GET  /api/{t}/{repo}/commits/{rev}                           paginated history
    POST /api/{t}/{repo}/paths-info/{rev}                        form paths=…
    HEAD|GET /[datasets/|spaces/]{repo}/resolve/{rev}/{path}     200, or 302 to the CDN (LFS)
    the upload API (create, preupload, LFS batch, commit, branch, tag)   see hf_upload

Who may read what, checked in this order, as the Hub answers (shared/hub-protocol.md §9):

    Bearer token the hub never issued   401, no code, "Invalid credentials in Authorization
                                        header": the client raises a plain HfHubHTTPError
    private repo the token cannot read  401 RepoNotFound anonymously, 404 with a token
    unknown revision                    404 RevisionNotFound
    gated file the token cannot read    401 GatedRepo anonymously, 403 with a token
    missing file                        404 EntryNotFound, with X-Repo-Commit
    a renamed repo's old id             307 to the same path under the new id (relative)

Invariants: every 4xx the client must type carries ``X-Error-Code`` (against
``http://`` a 401 without one is never a RepositoryNotFoundError); the face reads
the hub only through :class:`HubView`, so it never imports the hub itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import parse_qs, quote

import modelpm.testing.hf_json as hf_json
import modelpm.testing.hf_upload as hf_upload
from modelpm.testing.plumbing import ErrorAnswer, Handler
from modelpm.testing.repo import Commit, HubRepo

INVALID_CREDENTIALS = "Invalid credentials in Authorization header"
_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
_PREFIXES = {"datasets": "dataset", "spaces": "space"}


class HubView(hf_upload.UploadView, Protocol):
    """What the Hub's face reads from the test hub (``TestHub`` provides it)."""

    @property
    def endpoint(self) -> str: ...

    @property
    def page_size(self) -> int: ...

    @property
    def next_page_origin(self) -> str | None:
        """Where a listing's ``Link: rel="next"`` points (None: the endpoint)."""
        ...

    @property
    def tokens(self) -> Mapping[str, frozenset[str] | None]: ...

    def find_repo(self, repo_id: str, repo_type: str) -> HubRepo | None: ...

    def renamed_to(self, repo_id: str, repo_type: str) -> str | None:
        """The new id of a renamed repo (None: not renamed)."""
        ...

    def token_can_read(self, token: str | None, repo: HubRepo) -> bool: ...

    def cdn_url(self, sha256: str) -> str: ...


class HfFace:
    """The Hub origin: every request has its token checked, then is routed."""

    origin = "hub"

    def __init__(self, hub: HubView) -> None:
        self.hub = hub

    def answer(self, request: Handler, segments: list[str]) -> None:
        try:
            _Call(self.hub, request, _token(self.hub, request)).route(segments)
        except _Moved as moved:
            request.send_bytes(307, b"", {"Location": moved.location})


class _Moved(Exception):
    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def _token(hub: HubView, request: Handler) -> str | None:
    """The request's Bearer token, None without one; one never issued is refused here."""
    value = request.headers.get("authorization", "")
    if not value.lower().startswith("bearer "):
        return None
    token = value[7:].strip()
    if token not in hub.tokens:
        raise ErrorAnswer(401, None, INVALID_CREDENTIALS)
    return token


def _flag(params: Mapping[str, list[str]], name: str) -> bool:
    return params.get(name, ["false"])[0] in ("true", "True", "1")


class _Call:
    """One request to the Hub origin, with its token (a valid one, or None)."""

    def __init__(self, hub: HubView, request: Handler, token: str | None) -> None:
        self.hub = hub
        self.request = request
        self.token = token

    def route(self, segments: list[str]) -> None:
        if segments[:1] == ["api"] and hf_upload.answer_hub_level(
            self.hub, self.request, self.token, segments[1:]
        ):
            return
        if hf_upload.answer_lfs(self.hub, self.request, self.token, self._repo, segments):
            return
        if len(segments) >= 2 and segments[0] == "api" and segments[1] in _TYPES:
            repo, rest = self._repo(_TYPES[segments[1]], segments[2:])
            self._api(repo, rest)
            return
        repo_type = "model"
        if segments and segments[0] in _PREFIXES:
            repo_type = _PREFIXES[segments[0]]
            segments = segments[1:]
        for width in (2, 1):
            if len(segments) > width + 1 and segments[width] == "resolve":
                repo, rest = self._repo(repo_type, segments)
                if rest and rest[0] == "resolve" and len(rest) >= 3:
                    self._resolve(repo, rest[1], "/".join(rest[2:]))
                    return
        raise ErrorAnswer(404, None, f"no route for {self.request.raw_path}")

    def _repo(self, repo_type: str, segments: list[str]) -> tuple[HubRepo, list[str]]:
        """The repo named by the first one or two segments, and the segments after it."""
        for width in (2, 1):
            old = "/".join(segments[:width])
            new = self.hub.renamed_to(old, repo_type)
            if new is not None and len(segments) >= width:
                path = self.request.raw_path
                cut = path.index(f"/{quote(old)}") + 1
                moved = path[:cut] + quote(new) + path[cut + len(quote(old)) :]
                raise _Moved(moved + (f"?{self.request.query}" if self.request.query else ""))
        for width in (2, 1):
            repo = self.hub.find_repo("/".join(segments[:width]), repo_type)
            if repo is not None and len(segments) >= width:
                if repo.private and not self.hub.token_can_read(self.token, repo):
                    break
                return repo, segments[width:]
        if self.token:
            raise ErrorAnswer(404, "RepoNotFound", "Repository not found")
        raise ErrorAnswer(401, "RepoNotFound", "Invalid username or password.")

    @staticmethod
    def _commit(repo: HubRepo, rev: str) -> Commit:
        try:
            return repo.commits[repo.resolve(rev)]
        except KeyError:
            raise ErrorAnswer(404, "RevisionNotFound", f"Invalid rev id: {rev}") from None

    def _api(self, repo: HubRepo, rest: list[str]) -> None:
        request = self.request
        if hf_upload.answer_repo_level(self.hub, request, self.token, repo, rest):
            return
        get, post, params = request.method == "GET", request.method == "POST", request.params
        if get and (not rest or (rest[0] == "revision" and len(rest) == 2)):
            commit = self._commit(repo, rest[1] if rest else "main")
            request.send_json(hf_json.repo_info(repo, commit, _flag(params, "blobs")))
        elif rest[:1] == ["tree"] and len(rest) >= 2 and get:
            commit = self._commit(repo, rest[1])
            prefix = "/".join(rest[2:])
            recursive, expand = _flag(params, "recursive"), _flag(params, "expand")
            self._paginate(hf_json.entries(repo, commit, prefix, recursive, expand))
        elif rest == ["refs"] and get:
            request.send_json(hf_json.refs(repo, "include_prs" in params))
        elif rest[:1] == ["commits"] and len(rest) == 2 and get:
            self._paginate(hf_json.commits(repo, self._commit(repo, rest[1])))
        elif rest[:1] == ["paths-info"] and len(rest) == 2 and post:
            commit = self._commit(repo, rest[1])
            form = parse_qs(request.body.decode())
            paths = form.get("paths", [])
            request.send_json(hf_json.paths_info(repo, commit, paths, _flag(form, "expand")))
        else:
            raise ErrorAnswer(404, None, f"no route for {request.raw_path}")

    def _paginate(self, items: list[dict[str, Any]]) -> None:
        request = self.request
        size = max(1, self.hub.page_size)
        cursor = int(request.params.get("cursor", ["0"])[0] or 0)
        headers = {}
        if cursor + size < len(items):
            params = {key: values[-1] for key, values in request.params.items()}
            params["cursor"] = str(cursor + size)
            query = "&".join(f"{key}={quote(value)}" for key, value in params.items())
            base = self.hub.next_page_origin or self.hub.endpoint
            headers["Link"] = f'<{base}{request.raw_path}?{query}>; rel="next"'
        request.send_json(items[cursor : cursor + size], headers=headers)

    def _resolve(self, repo: HubRepo, rev: str, path: str) -> None:
        commit = self._commit(repo, rev)
        if self.request.method not in ("GET", "HEAD"):
            raise ErrorAnswer(405, None, "method not allowed")
        if repo.gated and not self.hub.token_can_read(self.token, repo):
            where = f"Access to {repo.repo_type} {repo.repo_id} is restricted"
            if self.token:
                raise ErrorAnswer(
                    403, "GatedRepo", f"{where} and you are not in the authorized list."
                )
            raise ErrorAnswer(
                401,
                "GatedRepo",
                f"{where}. You must have access to it and be authenticated to access it. "
                "Please log in.",
            )
        item = commit.files.get(path)
        if item is None:
            raise ErrorAnswer(
                404, "EntryNotFound", f"Entry not found: {path}", {"X-Repo-Commit": commit.sha}
            )
        if not item.lfs:
            headers = {"X-Repo-Commit": commit.sha, "ETag": f'"{item.git_sha1}"'}
            self.request.send_file(item.source, item.size, headers)
            return
        assert item.sha256 is not None
        redirect = {
            "Location": self.hub.cdn_url(item.sha256),
            "ETag": f'"{item.git_sha1}"',
            "X-Linked-Etag": f'"{item.sha256}"',
            "X-Linked-Size": str(item.size),
            "X-Repo-Commit": commit.sha,
        }
        self.request.send_bytes(302, b"", redirect)
