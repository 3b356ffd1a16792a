"""A ModelScope file listing, complete and validated: every file with its size and sha256.

Models: ``repo/files?Recursive=True`` has no pages and is silently cut at 3000 entries, so
a listing that long is walked again by folder (``Root=``): each folder recursively, and a
folder whose own listing is cut, one level at a time. A folder with 3000 direct entries
cannot be listed whole at all; that is an error, never a lock that misses files.
Datasets: ``repo/tree`` in pages of 200 until a short page; a page that repeats entries of
an earlier one (a server that ignores ``PageNumber``) is refused, and no listing makes more
than :data:`MAX_CALLS` calls, so a hostile endpoint cannot keep a lock walking forever.

``Files: null`` is what the hub answers for a revision it does not have (HTTP 200,
``Success: true``): that is :class:`~modelpm.errors.RevisionNotFoundError`, never an
empty model. Everything listed is input: a path must pass
:func:`modelpm.paths.check_repo_path`, a size must be a whole number, the sha256 must be
64 hex digits, and no path may be listed twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from modelpm.errors import HubError
from modelpm.paths import check_repo_path
from modelpm.sources.base import RemoteFile
from modelpm.sources.modelscope.api import Answer, Fetch
from modelpm.values import Digest, RepoRef

LISTING_LIMIT = 3000
PAGE_SIZE = 200
MAX_CALLS = 50_000  # 10 million dataset entries, or 50,000 folders of a model
_UNTRUSTED = "the endpoint is not trustworthy; try another one"


class NoSuchRevision(Exception):
    """The hub listed ``Files: null``: it has no such revision."""


def model_entries(fetch: Fetch, revision: str, limit: int = LISTING_LIMIT) -> list[dict[str, Any]]:
    """Every entry of a model at ``revision``, walking folders where the hub cut the listing."""
    fetch = _counted(fetch)
    first = _page(fetch, revision, None, recursive=True)
    if len(first) < limit:
        return first
    collected: dict[str, dict[str, Any]] = {}
    _absorb(collected, first)
    frontier: list[str | None] = [None]
    known: dict[str | None, list[dict[str, Any]]] = {None: first}
    while frontier:
        cut: list[str | None] = []
        for root in frontier:
            subtree = known.pop(root, None)
            if subtree is None:
                subtree = _page(fetch, revision, root, recursive=True)
            _absorb(collected, subtree)
            if len(subtree) >= limit:
                cut.append(root)
        frontier = []
        for root in cut:
            level = _page(fetch, revision, root, recursive=False)
            _absorb(collected, level)
            if len(level) >= limit:
                raise HubError(
                    f"the folder {root or '/'!r} holds {limit} or more entries, more than "
                    "ModelScope lists at once: the listing would be incomplete",
                    hint="lock this model from another source, or split the folder upstream",
                )
            frontier += [entry["Path"] for entry in level if _is_folder(entry)]
    return list(collected.values())


def dataset_entries(
    fetch: Fetch, revision: str, page_size: int = PAGE_SIZE
) -> list[dict[str, Any]]:
    """Every entry of a dataset at ``revision``, page by page."""
    fetch = _counted(fetch)
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    number = 1
    while True:
        params = {
            "Revision": revision,
            "Recursive": "True",
            "PageNumber": str(number),
            "PageSize": str(page_size),
        }
        page = _files(fetch("repo/tree", params))
        paths = {entry["Path"] for entry in page if isinstance(entry.get("Path"), str)}
        if paths & seen:
            raise ValueError(f"page {number} repeats entries of an earlier page")
        seen |= paths
        entries += page
        if len(page) < page_size:
            return entries
        number += 1


def _counted(fetch: Fetch) -> Fetch:
    """``fetch``, refusing to make more than :data:`MAX_CALLS` calls for one listing."""
    calls = 0

    def bounded(path: str, params: dict[str, str]) -> Answer:
        nonlocal calls
        calls += 1
        if calls > MAX_CALLS:
            raise ValueError(f"the listing did not end after {MAX_CALLS} calls")
        return fetch(path, params)

    return bounded


def _page(
    fetch: Fetch, revision: str, root: str | None, *, recursive: bool
) -> list[dict[str, Any]]:
    params = {"Revision": revision, "Recursive": str(recursive)}
    if root:
        params["Root"] = root
    return _files(fetch("repo/files", params))


def _files(answer: Any) -> list[dict[str, Any]]:
    data = answer.data
    files = data.get("Files", data.get("files")) if isinstance(data, dict) else data
    if files is None:
        raise NoSuchRevision()
    if not isinstance(files, list) or not all(isinstance(entry, dict) for entry in files):
        raise ValueError("the file listing is not a list of entries")
    return files


def _is_folder(entry: dict[str, Any]) -> bool:
    return entry.get("Type") == "tree" and isinstance(entry.get("Path"), str)


def _absorb(collected: dict[str, dict[str, Any]], entries: Iterable[dict[str, Any]]) -> None:
    for entry in entries:
        path = entry.get("Path")
        if isinstance(path, str):
            collected.setdefault(path, entry)


def remote_files(
    entries: Iterable[dict[str, Any]], ref: RepoRef, commit: str, endpoint: str
) -> list[RemoteFile]:
    """The files among ``entries`` (folders skipped), validated and sorted by path."""
    files: dict[str, RemoteFile] = {}
    for entry in entries:
        if entry.get("Type", "blob") == "tree":
            continue
        try:
            remote = _remote_file(entry)
        except ValueError as exc:
            raise HubError(
                f"{endpoint} listed a file of {ref} that modelpm refuses: {exc}", hint=_UNTRUSTED
            ) from None
        if remote.path in files:
            raise HubError(
                f"{endpoint} listed {remote.path!r} twice in {ref} @ {commit[:12]}", hint=_UNTRUSTED
            )
        files[remote.path] = remote
    return sorted(files.values(), key=lambda item: item.path)


def _remote_file(entry: dict[str, Any]) -> RemoteFile:
    path, size, sha256 = entry.get("Path"), entry.get("Size"), entry.get("Sha256")
    if not isinstance(path, str):
        raise ValueError("a file without a path")
    check_repo_path(path)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ValueError(f"file {path!r} has an invalid size")
    if not isinstance(sha256, str):
        raise ValueError(f"file {path!r} has no sha256")
    return RemoteFile(path=path, size=size, digest=Digest("sha256", sha256.lower()))
