"""The Hub's JSON shapes, built from a repo's state: info, tree entries, refs, commits.

    repo_info(repo, commit, blobs)      {"id", "sha", "siblings": [{"rfilename", …}], …}
    entries(repo, commit, prefix, …)    [{"type": "file", "path", "size", "oid", "lfs"?}, …]
                                        expanded: + "lastCommit", "securityFileStatus"
    refs(repo, include_prs)             {"branches", "converts", "tags"[, "pullRequests"]}
    commits(repo, commit)               [{"id", "title", "message", "date", "authors"}, …]
    paths_info(repo, commit, paths, …)  the entries of the paths that exist

Pure functions with no HTTP in them (shared/hub-protocol.md §3-4 for the fields the
client requires). Invariant: every list is in a fixed order (paths sorted, history
newest first), so a paginated listing never skips or repeats an entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from modelpm.testing.plumbing import ErrorAnswer
from modelpm.testing.repo import Commit, HubRepo, RepoFile

DATE = "%Y-%m-%dT%H:%M:%S.000Z"
UNSCANNED = {"status": "unscanned", "avScan": None, "pickleImportScan": None}


def repo_info(repo: HubRepo, commit: Commit, blobs: bool) -> dict[str, Any]:
    siblings = []
    for item in commit.files.values():
        sibling: dict[str, Any] = {"rfilename": item.path}
        if blobs:
            sibling.update(size=item.size, blobId=item.git_sha1)
            if item.lfs:
                sibling["lfs"] = {
                    "sha256": item.sha256,
                    "size": item.size,
                    "pointerSize": item.pointer_size,
                }
        siblings.append(sibling)
    first = repo.history(commit.sha)[-1]
    return {
        "_id": hashlib.md5(repo.repo_id.encode(), usedforsecurity=False).hexdigest()[:24],
        "id": repo.repo_id,
        "author": repo.repo_id.split("/")[0] if "/" in repo.repo_id else None,
        "sha": commit.sha,
        "lastModified": commit.date.strftime(DATE),
        "createdAt": first.date.strftime(DATE),
        "private": repo.private,
        "gated": "manual" if repo.gated else False,
        "disabled": False,
        "downloads": 0,
        "likes": 0,
        "tags": [],
        "siblings": siblings,
    }


def entries(
    repo: HubRepo, commit: Commit, prefix: str, recursive: bool, expand: bool
) -> list[dict[str, Any]]:
    """The tree under ``prefix`` ("" = root): all of it, or one level."""
    if prefix and prefix not in commit.trees and prefix not in commit.files:
        raise ErrorAnswer(404, "EntryNotFound", f"{prefix} does not exist on {commit.sha}")
    base = prefix + "/" if prefix else ""
    found: list[dict[str, Any]] = []
    for folder, oid in commit.trees.items():
        if folder and folder.startswith(base) and (recursive or "/" not in folder[len(base) :]):
            found.append(_folder_entry(folder, oid))
    for item in commit.files.values():
        if item.path.startswith(base) and (recursive or "/" not in item.path[len(base) :]):
            found.append(file_entry(repo, commit, item, expand))
    found.sort(key=lambda entry: entry["path"])
    return found


def file_entry(repo: HubRepo, commit: Commit, item: RepoFile, expand: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": "file",
        "oid": item.git_sha1,
        "size": item.size,
        "path": item.path,
    }
    if item.lfs:
        entry["lfs"] = {"oid": item.sha256, "size": item.size, "pointerSize": item.pointer_size}
    if expand:
        entry["securityFileStatus"] = repo.security.get(item.path, UNSCANNED)
        last = repo.last_commit_touching(commit.sha, item.path)
        entry["lastCommit"] = {
            "id": last.sha,
            "title": last.message,
            "date": last.date.strftime(DATE),
        }
    return entry


def _folder_entry(path: str, oid: str) -> dict[str, Any]:
    return {"type": "directory", "oid": oid, "size": 0, "path": path}


def refs(repo: HubRepo, include_prs: bool) -> dict[str, Any]:
    def listed(kind: str, names: dict[str, str]) -> list[dict[str, str]]:
        return [
            {"name": name, "ref": f"refs/{kind}/{name}", "targetCommit": sha}
            for name, sha in sorted(names.items())
        ]

    payload: dict[str, Any] = {
        "branches": listed("heads", repo.branches),
        "converts": [],
        "tags": listed("tags", repo.tags),
    }
    if include_prs:
        payload["pullRequests"] = []
    return payload


def commits(repo: HubRepo, commit: Commit) -> list[dict[str, Any]]:
    return [
        {
            "id": c.sha,
            "title": c.message,
            "message": c.message,
            "date": c.date.strftime(DATE),
            "authors": [{"user": "testhub"}],
        }
        for c in repo.history(commit.sha)
    ]


def paths_info(
    repo: HubRepo, commit: Commit, paths: Iterable[str], expand: bool
) -> list[dict[str, Any]]:
    found = []
    for path in paths:
        if path in commit.files:
            found.append(file_entry(repo, commit, commit.files[path], expand))
        elif path in commit.trees:
            found.append(_folder_entry(path, commit.trees[path]))
    return found
