"""Real git object ids for the test hub: blobs, LFS pointers, trees and commits.

The test hub serves commits whose ids are the ids git itself would compute,
so a lock made against it has the same shape as one made against the Hub.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n"


def blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return LFS_POINTER.format(sha256=sha256, size=size).encode()


def tree_id(entries: Mapping[str, tuple[str, str]]) -> str:
    """Id of a tree whose ``entries`` map a name to (mode, 40-hex id)."""

    def sort_key(name: str) -> bytes:
        # git compares a folder as if its name ended with '/'.
        mode = entries[name][0]
        return (name + "/").encode() if mode == "40000" else name.encode()

    body = b"".join(
        f"{entries[name][0]} {name}".encode() + b"\0" + bytes.fromhex(entries[name][1])
        for name in sorted(entries, key=sort_key)
    )
    return hashlib.sha1(b"tree %d\0" % len(body) + body, usedforsecurity=False).hexdigest()


def nested_tree_ids(files: Mapping[str, str]) -> dict[str, str]:
    """Ids of the root tree ("") and every folder, from ``files``: repo path -> blob id."""
    folders: dict[str, dict[str, tuple[str, str]]] = {"": {}}
    for path in files:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            folders.setdefault("/".join(parts[:depth]), {})
    for path, oid in files.items():
        parent, _, name = path.rpartition("/")
        folders[parent][name] = ("100644", oid)
    ids: dict[str, str] = {}
    for folder in sorted(folders, key=lambda name: name.count("/") if name else -1, reverse=True):
        ids[folder] = tree_id(folders[folder])
        if folder:
            parent, _, name = folder.rpartition("/")
            folders[parent][name] = ("40000", ids[folder])
    return ids


def commit_id(tree: str, parent: str | None, message: str, when: datetime) -> str:
    stamp = f"testhub <testhub@localhost> {int(when.timestamp())} +0000"
    lines = [f"tree {tree}"]
    if parent:
        lines.append(f"parent {parent}")
    lines += [f"author {stamp}", f"committer {stamp}", "", message]
    body = ("\n".join(lines) + "\n").encode()
    return hashlib.sha1(b"commit %d\0" % len(body) + body, usedforsecurity=False).hexdigest()
