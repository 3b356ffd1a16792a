"""The Hub's upload API, as ``huggingface_hub`` 2.4 speaks it (shared/hub-protocol.md §15).

    POST /api/repos/create                          {name, organization, type, visibility}
    GET  /api/whoami-v2                             the token's user and role
    POST /api/validate-yaml                         README metadata: always valid here
    POST /api/{t}/{repo}/preupload/{rev}            uploadMode lfs|regular, oid of the file there
    POST /[{prefix}]{repo}.git/info/lfs/objects/batch   where to PUT each object (or nothing)
    POST /[{prefix}]{repo}.git/info/lfs/complete/{oid}  joins a multipart upload (signed URL)
    POST /api/{t}/{repo}/commit/{branch}            NDJSON: header, file, lfsFile, deleted*
    POST|DELETE /api/{t}/{repo}/branch/{branch}     {startingPoint}
    POST /api/{t}/{repo}/tag/{rev}                  {tag, message}

Who may write, checked in this order: no token 401; a token without write access to
the repo 403; a protected branch 403; a ``parentCommit`` that is no longer the head 412
("A commit has happened since"); an object over ``max_file_size`` is refused in the
batch answer (code 422), as the Hub refuses files over its limit. A commit becomes a
real git commit of :class:`~modelpm.testing.repo.HubRepo`, so its listing and
downloads serve exactly the bytes that were stored. Objects go to an
:class:`~modelpm.testing.lfs_store.UploadStore` on the CDN origin, through signed URLs
(no token travels there). Without Xet on this hub, clients need ``HF_HUB_DISABLE_XET=1``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from math import ceil
from pathlib import Path
from typing import Any, Protocol

from modelpm.testing.lfs_store import UploadStore, valid_link
from modelpm.testing.plumbing import ErrorAnswer, Handler
from modelpm.testing.repo import HubRepo, RepoFile, StaleParent, is_lfs_by_default

GITATTRIBUTES = (
    b"*.bin filter=lfs diff=lfs merge=lfs -text\n"
    b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
    b"*.pt filter=lfs diff=lfs merge=lfs -text\n"
)
RACE = "A commit has happened since. Please refresh and try again."
_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_LFS_JSON = "application/vnd.git-lfs+json"
RepoLookup = Callable[[str, list[str]], tuple[HubRepo, list[str]]]


class UploadView(Protocol):
    """What the upload API reads and changes in the test hub (``TestHub`` provides it)."""

    @property
    def endpoint(self) -> str: ...

    @property
    def cdn_endpoint(self) -> str: ...

    @property
    def uploads(self) -> UploadStore: ...

    @property
    def max_file_size(self) -> int | None: ...

    @property
    def multipart_chunk(self) -> int:
        """Objects larger than this go up in parts of this size (0: never)."""
        ...

    def find_repo(self, repo_id: str, repo_type: str) -> HubRepo | None: ...

    def create_repo(self, repo_id: str, *, repo_type: str = ..., private: bool = ...) -> HubRepo:
        """A new empty repo (the API adds the Hub's initial commit itself)."""
        ...

    def token_can_write(self, token: str | None, repo_id: str) -> bool: ...

    def token_user(self, token: str) -> tuple[str, str]:
        """(user name, role: "read" or "write")."""
        ...

    def lfs_object(self, sha256: str) -> RepoFile | None: ...

    def sign(self, what: str) -> str:
        """``expires=…&sig=…`` for a link to ``what``, valid as long as CDN links are."""
        ...

    def check_signature(self, what: str, expires: str, signature: str) -> bool: ...


def answer_hub_level(hub: UploadView, request: Handler, token: str | None, rest: list[str]) -> bool:
    """``/api/repos/create``, ``/api/whoami-v2``, ``/api/validate-yaml``; False: not ours."""
    if rest == ["whoami-v2"] and request.method == "GET":
        if token is None:
            raise ErrorAnswer(401, None, "You must be authenticated to access this endpoint.")
        name, role = hub.token_user(token)
        auth = {"type": "access_token", "accessToken": {"displayName": "test", "role": role}}
        request.send_json({"type": "user", "name": name, "orgs": [], "auth": auth})
    elif rest == ["validate-yaml"] and request.method == "POST":
        request.send_json({"errors": [], "warnings": []})
    elif rest == ["repos", "create"] and request.method == "POST":
        _create_repo(hub, request, token)
    else:
        return False
    return True


def _create_repo(hub: UploadView, request: Handler, token: str | None) -> None:
    payload = _json(request)
    name, organization = str(payload.get("name") or ""), payload.get("organization")
    repo_type = str(payload.get("type") or "model")
    repo_id = f"{organization}/{name}" if organization else name
    if token is None:
        raise ErrorAnswer(401, None, "You must be authenticated to create a repo.")
    if not name or repo_type not in _PREFIX:
        raise ErrorAnswer(400, None, "Invalid repo name or type")
    if not hub.token_can_write(token, repo_id):
        where = organization or "your namespace"
        raise ErrorAnswer(403, None, f"You don't have the rights to create a repo under {where}")
    url = f"{hub.endpoint}/{_PREFIX[repo_type]}{repo_id}"
    if hub.find_repo(repo_id, repo_type) is not None:
        # The Hub's 409 carries the url too: create_repo(exist_ok=True) reads it.
        exists = f"You already created this {repo_type} repo"
        request.send_json({"error": exists, "url": url}, 409, {"X-Error-Message": exists})
        return
    private = payload.get("visibility") == "private" or payload.get("private") is True
    repo = hub.create_repo(repo_id, repo_type=repo_type, private=private)
    repo.commit({".gitattributes": GITATTRIBUTES}, message="initial commit")
    request.send_json({"url": url, "name": repo_id, "id": repo_id})


def answer_repo_level(
    hub: UploadView, request: Handler, token: str | None, repo: HubRepo, rest: list[str]
) -> bool:
    """The routes under ``/api/{t}/{repo}/`` that write; False: not ours."""
    method = request.method
    if len(rest) != 2 or rest[0] not in ("preupload", "commit", "branch", "tag"):
        return False
    if method not in ("POST", "DELETE") or (method == "DELETE" and rest[0] != "branch"):
        return False
    _check_writer(hub, token, repo)
    kind, rev = rest
    if kind == "preupload":
        _check_branch(repo, rev)
        request.send_json(_preupload(repo, rev, _json(request)))
    elif kind == "commit":
        _commit(hub, request, repo, rev)
    elif kind == "branch" and method == "DELETE":
        if rev not in repo.branches or rev in repo.protected or rev == "main":
            raise ErrorAnswer(403 if rev in repo.branches else 404, None, f"cannot delete {rev}")
        repo.delete_branch(rev)
        request.send_json({})
    elif kind == "branch":
        if rev in repo.branches:
            raise ErrorAnswer(409, None, f"Reference already exists: refs/heads/{rev}")
        start = str(_json(request).get("startingPoint") or "main")
        _resolved(repo, start)
        repo.create_branch(rev, start)
        request.send_json({})
    else:
        tag = str(_json(request).get("tag") or "")
        if not tag or tag in repo.tags:
            raise ErrorAnswer(409, None, f"Tag {tag} already exists")
        repo.create_tag(tag, _resolved(repo, rev))
        request.send_json({})
    return True


def answer_lfs(
    hub: UploadView, request: Handler, token: str | None, lookup: RepoLookup, segments: list[str]
) -> bool:
    """``{repo}.git/info/lfs/objects/batch`` and ``…/lfs/complete/{oid}``; False: not ours."""
    repo_type = "model"
    if segments and segments[0] in ("datasets", "spaces"):
        repo_type, segments = segments[0][:-1], segments[1:]
    at = next((i for i, part in enumerate(segments) if part.endswith(".git")), None)
    if at is None or at > 1 or segments[at + 1 : at + 3] != ["info", "lfs"]:
        return False
    if request.method != "POST":
        return False
    named = [*segments[:at], segments[at][: -len(".git")]]
    rest = segments[at + 3 :]
    if rest[:1] == ["complete"] and len(rest) == 2:
        # The client sends no token here: the link's signature is the permission.
        oid = rest[1]
        if not valid_link(hub.check_signature, f"complete:{oid}", request.params):
            raise ErrorAnswer(403, None, "Request has expired")
        etags = [str(part.get("etag", "")) for part in _json(request).get("parts", [])]
        hub.uploads.complete(oid, etags)
        request.send_json({}, headers={"Content-Type": _LFS_JSON})
        return True
    if rest != ["objects", "batch"]:
        return False
    repo, _ = lookup(repo_type, named)
    _check_writer(hub, token, repo)
    payload = _json(request)
    objects = [_batch_object(hub, repo, item) for item in payload.get("objects", [])]
    chosen = "multipart" if any("chunk_size" in str(o) for o in objects) else "basic"
    request.send_json({"transfer": chosen, "objects": objects}, headers={"Content-Type": _LFS_JSON})
    return True


def _batch_object(hub: UploadView, repo: HubRepo, item: Mapping[str, Any]) -> dict[str, Any]:
    oid, size = str(item.get("oid", "")), int(item.get("size", 0))
    answer: dict[str, Any] = {"oid": oid, "size": size, "authenticated": True}
    limit = hub.max_file_size
    if limit is not None and size > limit:
        message = f"Your file is {size} bytes; files over {limit} bytes are not allowed."
        answer["error"] = {"code": 422, "message": message}
        return answer
    if hub.lfs_object(oid) is not None or hub.uploads.path(oid) is not None:
        return answer  # already there: no actions, nothing to send
    put = f"{hub.cdn_endpoint}/lfs-upload/{oid}"
    chunk = hub.multipart_chunk
    if chunk and size > chunk:
        parts = ceil(size / chunk)
        header: dict[str, Any] = {"chunk_size": str(chunk)}
        for number in range(1, parts + 1):
            header[str(number)] = f"{put}?part={number}&{hub.sign(f'upload:{oid}:{number}')}"
        complete = (
            f"{hub.endpoint}/{_PREFIX[repo.repo_type]}{repo.repo_id}.git/info/lfs/complete/"
            f"{oid}?{hub.sign(f'complete:{oid}')}"
        )
        answer["actions"] = {"upload": {"href": complete, "header": header}}
    else:
        answer["actions"] = {"upload": {"href": f"{put}?{hub.sign(f'upload:{oid}:')}"}}
    return answer


def _preupload(repo: HubRepo, rev: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    present = repo.files(rev)
    answers = []
    for item in payload.get("files", []):
        path, size = str(item.get("path", "")), int(item.get("size", 0))
        answer: dict[str, Any] = {
            "path": path,
            "uploadMode": "lfs" if is_lfs_by_default(path, size) else "regular",
            "shouldIgnore": False,
        }
        there = present.get(path)
        if there is not None:
            answer["oid"] = there.sha256 if there.lfs else there.git_sha1
        answers.append(answer)
    return {"files": answers, "commitOid": repo.resolve(rev)}


def _commit(hub: UploadView, request: Handler, repo: HubRepo, branch: str) -> None:
    if "create_pr" in request.params:
        raise ErrorAnswer(501, None, "pull requests are not supported by the test hub")
    _check_branch(repo, branch)
    header: Mapping[str, Any] = {}
    files: dict[str, bytes | Path] = {}
    lfs: set[str] = set()
    deleted: list[str] = []
    folders: list[str] = []
    corrupt = any(f.kind == "corrupt_upload" for f in request.faults)
    for line in request.body.splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        key, value = item.get("key"), item.get("value", {})
        if key == "header":
            header = value
        elif key == "file":
            data = _b64(value.get("content", ""))
            if corrupt and data:
                data, corrupt = bytes([data[0] ^ 0xFF]) + data[1:], False
            files[value["path"]] = data
        elif key == "lfsFile":
            files[value["path"]] = _lfs_source(hub, value)
            lfs.add(value["path"])
        elif key == "deletedFile":
            deleted.append(value["path"])
        elif key == "deletedFolder":
            folders.append(value["path"].rstrip("/") + "/")
        else:
            raise ErrorAnswer(400, None, f"unknown commit line {key!r}")
    with repo.lock:
        present = repo.files(branch)
        for path in deleted:
            if path not in present:
                missing = f"A file with this name doesn't exist: {path}"
                raise ErrorAnswer(404, "EntryNotFound", missing)
        deleted += [path for path in present for folder in folders if path.startswith(folder)]
        lfs |= {path for path, item in present.items() if item.lfs and path not in files}
        try:
            sha = repo.commit(
                files,
                branch=branch,
                message=str(header.get("summary") or "update"),
                delete=deleted,
                lfs=lfs,
                expected_parent=header.get("parentCommit"),
            )
        except StaleParent:
            raise ErrorAnswer(412, None, RACE) from None
    url = f"{hub.endpoint}/{_PREFIX[repo.repo_type]}{repo.repo_id}/commit/{sha}"
    request.send_json({"success": True, "commitOid": sha, "commitUrl": url, "hookOutput": ""})


def _lfs_source(hub: UploadView, value: Mapping[str, Any]) -> Path:
    oid = str(value.get("oid", ""))
    known = hub.lfs_object(oid)
    source = known.source if known is not None else hub.uploads.path(oid)
    if source is None:
        raise ErrorAnswer(
            422, None, f"Your push was rejected: an LFS pointer names a missing object {oid}"
        )
    return source


def _check_writer(hub: UploadView, token: str | None, repo: HubRepo) -> None:
    if token is None:
        raise ErrorAnswer(401, None, "You must be authenticated to write to a repo.")
    if not hub.token_can_write(token, repo.repo_id):
        refused = f"You don't have the rights to write to {repo.repo_id}: the token is read-only"
        raise ErrorAnswer(403, None, refused)


def _check_branch(repo: HubRepo, branch: str) -> None:
    if branch not in repo.branches:
        raise ErrorAnswer(404, "RevisionNotFound", f"Invalid rev id: {branch}")
    if branch in repo.protected:
        raise ErrorAnswer(403, None, f"Cannot push to {branch}: it is a protected branch")


def _resolved(repo: HubRepo, rev: str) -> str:
    try:
        return repo.resolve(rev)
    except KeyError:
        raise ErrorAnswer(404, "RevisionNotFound", f"Invalid rev id: {rev}") from None


def _json(request: Handler) -> dict[str, Any]:
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        raise ErrorAnswer(400, None, "the body is not JSON") from None
    if not isinstance(payload, dict):
        raise ErrorAnswer(400, None, "the body is not a JSON object")
    return payload


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ErrorAnswer(400, None, "a file's content is not base64") from None
