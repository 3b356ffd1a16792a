"""A Hub file listing, validated: every entry a file modelpm may place, or an error.

Everything a hub says is input: a path must pass
:func:`modelpm.paths.check_repo_path`, a size must be a whole number, an LFS
entry's two sizes must agree, and the hash must parse (sha256 for LFS files,
the git blob id for the rest). A path listed twice is refused.
"""

from __future__ import annotations

from collections.abc import Iterable

from modelpm.errors import HubError
from modelpm.paths import check_repo_path, check_size, check_tree
from modelpm.sources.base import HubScan, RemoteFile
from modelpm.values import Digest, RepoRef

_UNTRUSTED = "the endpoint is not trustworthy; try another one"


def remote_files(
    entries: Iterable[object], ref: RepoRef, commit: str, endpoint: str
) -> list[RemoteFile]:
    """The files among ``entries`` (``huggingface_hub`` tree objects), sorted by path.

    ``entries`` may be the listing's page iterator: each entry is turned into a small
    :class:`RemoteFile` as it arrives, so 50,000 of huggingface_hub's tree objects are
    never held at once."""
    files = [remote_file(entry, ref, endpoint) for entry in entries if hasattr(entry, "size")]
    try:
        check_tree(item.path for item in files)
    except ValueError as exc:
        raise HubError(
            f"{endpoint} listed {exc} in {ref} @ {commit[:12]}", hint=_UNTRUSTED
        ) from None
    return sorted(files, key=lambda item: item.path)


def remote_file(entry: object, ref: RepoRef, endpoint: str) -> RemoteFile:
    path = getattr(entry, "path", None)
    size = getattr(entry, "size", None)
    blob_id = getattr(entry, "blob_id", None)
    lfs = getattr(entry, "lfs", None)
    try:
        if not isinstance(path, str):
            raise ValueError("a file without a path")
        check_repo_path(path)
        size = check_size(size, path)
        if lfs is not None:
            if getattr(lfs, "size", size) != size:
                raise ValueError(f"file {path!r} has two different sizes")
            digest = Digest("sha256", str(getattr(lfs, "sha256", "")))
        else:
            digest = Digest("git-sha1", str(blob_id))
    except ValueError as exc:
        raise HubError(
            f"{endpoint} listed a file of {ref} that modelpm refuses: {exc}", hint=_UNTRUSTED
        ) from None
    return RemoteFile(path=path, size=size, digest=digest)


def hub_scans(entries: Iterable[object]) -> dict[str, HubScan]:
    """The security scan of each entry that has one (expanded listings; anything odd skipped)."""
    found: dict[str, HubScan] = {}
    for entry in entries:
        path, security = getattr(entry, "path", None), getattr(entry, "security", None)
        status = getattr(security, "status", None)
        if not isinstance(path, str) or not isinstance(status, str):
            continue
        scan = getattr(security, "pickle_import_scan", None)
        listed = scan.get("pickleImports") if isinstance(scan, dict) else None
        imports = []
        for item in listed if isinstance(listed, list) else []:
            if isinstance(item, dict):
                imports.append(
                    (str(item.get("module")), str(item.get("name")), str(item.get("safety")))
                )
        found[path] = HubScan(status[:40], tuple(imports))
    return found
