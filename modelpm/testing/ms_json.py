"""ModelScope's JSON shapes, built from a repo's state: the envelope, file entries, revisions.

    envelope(data)                      {"Code": 200, "Data": …, "Message": "success",
                                         "RequestId": …, "Success": true}
    failure(code, message)              {"Code": code, "Data": null, "Message": …, "Success": false}
    file_entries(repo, commit, root, …) [{"Path", "Name", "Type": "blob"|"tree", "Size", "Sha256",
                                          "Revision", "IsLFS", "Mode", "CommittedDate", …}, …]
    revisions(repo)                     {"RevisionMap": {"Branches": [...], "Tags": [...]}}
    commits(repo, commit)               {"Commit": [{"Id", "ShortId", "Title", "Message", …}]}

Pure functions with no HTTP in them (``shared/modelscope-protocol.md`` §1-3, §5 for the
fields the official client reads). Invariant: every list is in a fixed order (paths
sorted, folders before their files, history newest first), so a paged or truncated
listing never skips or repeats an entry.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from modelpm.testing.repo import Commit, HubRepo, RepoFile

# The business codes the hub is seen to send (modelscope-protocol.md §5).
FILE_NOT_FOUND = 10990101007
FILE_NOT_FOUND_MESSAGE = "获取模型文件失败，文件内容为空"
NO_SUCH_MODEL = "模型不存在"
NO_SUCH_DATASET = "数据集不存在"


def envelope(data: Any) -> dict[str, Any]:
    return {
        "Code": 200,
        "Data": data,
        "Message": "success",
        "RequestId": uuid.uuid4().hex,
        "Success": True,
    }


def failure(code: int, message: str) -> dict[str, Any]:
    return {
        "Code": code,
        "Data": None,
        "Message": message,
        "RequestId": uuid.uuid4().hex,
        "Success": False,
    }


def repo_info(repo: HubRepo) -> dict[str, Any]:
    owner, _, name = repo.repo_id.partition("/")
    numeric = int(hashlib.md5(repo.repo_id.encode(), usedforsecurity=False).hexdigest()[:6], 16)
    return {
        "Id": numeric,
        "Name": name,
        "Path": owner,
        "ChineseName": name,
        "Private": repo.private,
        "Type": repo.repo_type,
    }


def _epoch(commit: Commit) -> int:
    return int(commit.date.timestamp())


def file_entries(
    repo: HubRepo, commit: Commit, root: str, recursive: bool
) -> list[dict[str, Any]] | None:
    """Folders and files under ``root`` ("" = everything), all of it or one level; None when
    ``root`` is neither a folder nor a file of the commit."""
    root = root.strip("/")
    if root and root not in commit.trees and root not in commit.files:
        return None
    base = root + "/" if root else ""

    def wanted(path: str) -> bool:
        return path.startswith(base) and (recursive or "/" not in path[len(base) :])

    found = [_tree_entry(folder, commit) for folder in commit.trees if folder and wanted(folder)]
    found += [
        _blob_entry(repo, commit, item) for item in commit.files.values() if wanted(item.path)
    ]
    found.sort(key=lambda entry: entry["Path"])
    return found


def _tree_entry(path: str, commit: Commit) -> dict[str, Any]:
    return {
        "Path": path,
        "Name": path.rsplit("/", 1)[-1],
        "Type": "tree",
        "Size": 0,
        "Sha256": "",
        "Revision": commit.sha,
        "IsLFS": False,
        "Mode": "40000",
        "CommittedDate": _epoch(commit),
        "CommitMessage": commit.message,
        "CommitterName": "testhub",
        "InCheck": False,
    }


def _blob_entry(repo: HubRepo, commit: Commit, item: RepoFile) -> dict[str, Any]:
    last = repo.last_commit_touching(commit.sha, item.path)
    return {
        "Path": item.path,
        "Name": item.path.rsplit("/", 1)[-1],
        "Type": "blob",
        "Size": item.size,
        "Sha256": item.content_sha256,
        "Revision": last.sha,
        "IsLFS": item.lfs,
        "Mode": "100644",
        "CommittedDate": _epoch(last),
        "CommitMessage": last.message,
        "CommitterName": "testhub",
        "InCheck": False,
    }


def revisions(repo: HubRepo) -> dict[str, Any]:
    def listed(names: dict[str, str]) -> list[dict[str, Any]]:
        return [
            {"Revision": name, "CreatedAt": _epoch(repo.commits[sha]), "CommitId": sha}
            for name, sha in sorted(names.items(), key=lambda kv: repo.commits[kv[1]].date)
        ]

    return {"RevisionMap": {"Branches": listed(repo.branches), "Tags": listed(repo.tags)}}


def commits(
    repo: HubRepo, commit: Commit, page: int, size: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of the history from ``commit``, newest first, and the whole history's length."""
    history = repo.history(commit.sha)
    chosen = history[(page - 1) * size : page * size]
    return [
        {
            "Id": c.sha,
            "ShortId": c.sha[:8],
            "Title": c.message,
            "Message": c.message,
            "AuthorName": "testhub",
            "AuthorEmail": "testhub@localhost",
            "CommittedDate": _epoch(c),
            "CommitterName": "testhub",
        }
        for c in chosen
    ], len(history)
