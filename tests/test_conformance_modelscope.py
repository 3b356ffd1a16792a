"""The test hub's ModelScope face is trusted only because the official client works against it.

Every test here drives unmodified ``modelscope`` (1.40, which delegates to
``modelscope_hub`` 0.5) against the loopback hub, through ``snapshot_download`` and
the ``modelscope download`` command, and compares bytes by sha256 with what was
committed: the default branch, a tag, a commit id, a private repo, patterns, a
dataset over several pages, a model listing the hub cuts at 3000 entries, and a cut
connection resumed with ``Range``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import random_bytes, sha256_tree

from modelpm.testing import Fault, TestHub

modelscope = pytest.importorskip("modelscope")
from modelscope_hub.config import set_default_config  # noqa: E402 - after the skip
from requests.exceptions import HTTPError  # noqa: E402 - modelscope brings requests

TOKEN = "ms-conformance-token"


def committed(
    hub: TestHub, repo: str, rev: str | None = None, repo_type: str = "model"
) -> dict[str, str]:
    return {
        path: item.content_sha256
        for path, item in hub.repo(repo, repo_type, "modelscope").files(rev).items()
    }


@pytest.fixture(autouse=True)
def fresh_client_config() -> Iterator[None]:
    """modelscope_hub keeps one configuration per process, read from the environment once."""
    set_default_config(None)
    yield
    set_default_config(None)


@pytest.fixture
def tiny(hub: TestHub) -> TestHub:
    repo = hub.create_repo("acme/tiny", site="modelscope")
    repo.commit(
        {
            "config.json": b'{"a": 1}\n',
            "model.safetensors": random_bytes(2_000_000, 1),
            "tf_model.h5": random_bytes(10_000, 2),
            "nested/b.json": b"[]\n",
            "dir with space/file name.txt": b"spaces\n",
        }
    )
    repo.create_tag("v1.0")
    repo.create_branch("dev")
    repo.commit({"config.json": b'{"a": 2}\n'}, branch="dev")
    return hub


def download(hub: TestHub, out: Path, repo: str = "acme/tiny", **kwargs: object) -> Path:
    folder = modelscope.snapshot_download(
        repo, endpoint=hub.modelscope_endpoint, local_dir=str(out), **kwargs
    )
    return Path(folder)


@pytest.mark.parametrize("rev", [None, "master", "v1.0", "dev", "commit"])
def test_snapshot_download_of_branches_tags_and_commits(
    tiny: TestHub, tmp_path: Path, rev: str | None
) -> None:
    repo = tiny.repo("acme/tiny", site="modelscope")
    revision = repo.resolve("dev") if rev == "commit" else rev
    folder = download(tiny, tmp_path / "out", revision=revision)
    assert sha256_tree(folder) == committed(tiny, "acme/tiny", revision)
    listings = [r for r in tiny.requests if r.path.endswith("/repo/files")]
    assert listings and all(f"Revision={revision or 'master'}" in r.query for r in listings)


def test_lfs_files_come_from_the_storage_cdn_without_the_token(
    tiny: TestHub, tmp_path: Path
) -> None:
    tiny.add_token(TOKEN)
    download(tiny, tmp_path / "out", token=TOKEN)
    cdn = [r for r in tiny.requests if r.origin == "ms-cdn"]
    lfs = [
        f.content_sha256
        for f in tiny.repo("acme/tiny", site="modelscope").files().values()
        if f.lfs
    ]
    assert sorted(r.path.rsplit("/", 1)[-1] for r in cdn) == sorted(lfs) and len(lfs) == 2
    api = [r for r in tiny.requests if r.origin == "modelscope"]
    assert all(r.headers.get("cookie") == f"m_session_id={TOKEN}" for r in api)
    assert all(
        r.headers.get("authorization") == f"Bearer {TOKEN}" for r in api if "/acme/" in r.path
    )
    # requests drops Authorization on a redirect to another host; its cookie jar scopes
    # m_session_id to the host only, so on 127.0.0.1 it reaches the CDN's port too (on the
    # real hub the storage CDN is another domain). modelpm sends neither to another origin.
    assert all("authorization" not in r.headers for r in cdn)


def test_private_repo_needs_a_token(hub: TestHub, tmp_path: Path) -> None:
    hub.create_repo("acme/private", site="modelscope", private=True).commit(
        {"config.json": b"{}", "model.safetensors": random_bytes(50_000, 3)}
    )
    with pytest.raises(HTTPError, match="403"):
        download(hub, tmp_path / "no", "acme/private")
    hub.add_token(TOKEN, repos=["acme/private"])
    folder = download(hub, tmp_path / "yes", "acme/private", token=TOKEN)
    assert sha256_tree(folder) == committed(hub, "acme/private")


def test_unknown_revision_is_an_empty_folder_as_on_the_real_hub(
    tiny: TestHub, tmp_path: Path
) -> None:
    # modelscope-protocol.md fact 8: the listing answers 200 with "Files": null, and the
    # official client returns an empty folder without an error.
    folder = download(tiny, tmp_path / "out", revision="main")
    assert sha256_tree(folder) == {}


def test_patterns(tiny: TestHub, tmp_path: Path) -> None:
    folder = download(
        tiny,
        tmp_path / "out",
        allow_patterns=["*.json", "*.safetensors"],
        ignore_patterns=["nested/*"],
    )
    want = committed(tiny, "acme/tiny")
    assert sha256_tree(folder) == {p: want[p] for p in ("config.json", "model.safetensors")}


def test_a_dataset_over_several_pages(hub: TestHub, tmp_path: Path) -> None:
    files = {f"data/part-{i:03}.jsonl": f"{i}\n".encode() for i in range(230)}
    files["data/train.parquet"] = random_bytes(40_000, 4)
    hub.create_repo("acme/set", repo_type="dataset", site="modelscope").commit(files)
    folder = download(hub, tmp_path / "out", "acme/set", repo_type="dataset")
    assert sha256_tree(folder) == committed(hub, "acme/set", repo_type="dataset")
    pages = [r.query for r in hub.requests if r.path.endswith("/repo/tree")]
    assert len(pages) == 2 and "PageNumber=2" in pages[1]


def test_a_model_listing_cut_at_3000_entries_is_walked_by_folder(
    hub: TestHub, tmp_path: Path
) -> None:
    files = {f"shards/{i // 100:02}/{i:04}.txt": b"x" for i in range(3100)}
    files["config.json"] = b"{}"
    files["shards/30/last.json"] = b'{"last": true}'
    hub.create_repo("acme/many", site="modelscope").commit(files)
    url = f"{hub.modelscope_endpoint}/api/v1/models/acme/many/repo/files?Recursive=True"
    with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - the loopback hub
        cut = json.loads(answer.read())["Data"]["Files"]
    assert len(cut) == 3000 and "shards/30/last.json" not in {e["Path"] for e in cut}
    folder = download(hub, tmp_path / "out", "acme/many", allow_patterns=["*.json"])
    want = committed(hub, "acme/many")
    assert sha256_tree(folder) == {p: want[p] for p in ("config.json", "shards/30/last.json")}
    assert any("Root=" in r.query for r in hub.requests if r.path.endswith("/repo/files"))


def test_a_cut_connection_is_resumed_with_range(hub: TestHub, tmp_path: Path) -> None:
    data = random_bytes(6 * 1024 * 1024, 5)
    hub.create_repo("acme/big", site="modelscope").commit({"model.safetensors": data})
    hub.add_fault(Fault("drop", origin="ms-cdn", method="GET", after_bytes=1024 * 1024))
    folder = download(hub, tmp_path / "out", "acme/big")
    assert hashlib.sha256((folder / "model.safetensors").read_bytes()).digest() == (
        hashlib.sha256(data).digest()
    )
    ranges = [r.headers.get("range") for r in hub.requests if r.origin == "ms-cdn"]
    assert ranges == [None, "bytes=1048576-"]


def test_the_modelscope_download_command(tiny: TestHub, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "MODELSCOPE_ENDPOINT": tiny.modelscope_endpoint,
        "MODELSCOPE_HOME": str(tmp_path / "home"),
        "MODELSCOPE_CACHE": str(tmp_path / "cache"),
    }
    command = Path(sys.executable).parent / "modelscope"
    out = tmp_path / "out"
    done = subprocess.run(
        [str(command), "download", "acme/tiny", "--revision", "v1.0", "--local-dir", str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert sha256_tree(out) == committed(tiny, "acme/tiny", "v1.0")
