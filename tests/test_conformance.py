"""The test hub is trusted only because the official client works against it.

Every test here drives unmodified ``huggingface_hub`` (2.4) against the
loopback hub and compares bytes by sha256 with what was committed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from huggingface_hub import HfApi, RepoFile, hf_hub_download, snapshot_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from support import random_bytes, sha256_tree

from modelpm.testing import Fault, TestHub


def committed(hub: TestHub, repo: str, rev: str, repo_type: str = "model") -> dict[str, str]:
    return {
        path: hashlib.sha256(item.source.read_bytes()).hexdigest()
        for path, item in hub.repo(repo, repo_type).files(rev).items()
    }


@pytest.fixture
def tiny(hub: TestHub) -> TestHub:
    repo = hub.create_repo("acme/tiny")
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
    repo.create_branch("feature/x")
    repo.commit({"config.json": b'{"a": 2}\n'}, branch="feature/x")
    return hub


@pytest.mark.parametrize("rev", ["main", "v1.0", "feature/x"])
def test_snapshot_download_to_local_dir(tiny: TestHub, tmp_path: Path, rev: str) -> None:
    folder = snapshot_download(
        "acme/tiny",
        revision=rev,
        endpoint=tiny.endpoint,
        local_dir=tmp_path / "out",
        cache_dir=tmp_path / "cache",
    )
    assert sha256_tree(Path(folder)) == committed(tiny, "acme/tiny", rev)


def test_snapshot_download_to_cache_with_patterns_and_pages(tiny: TestHub, tmp_path: Path) -> None:
    tiny.page_size = 2
    folder = snapshot_download(
        "acme/tiny",
        endpoint=tiny.endpoint,
        cache_dir=tmp_path / "cache",
        allow_patterns=["*.json", "*.safetensors"],
        ignore_patterns=["nested/"],
    )
    want = {
        p: h
        for p, h in committed(tiny, "acme/tiny", "main").items()
        if p in ("config.json", "model.safetensors")
    }
    assert sha256_tree(Path(folder)) == want
    tree_pages = [r for r in tiny.requests if "/tree/" in r.path]
    assert len(tree_pages) == 4, "7 entries (5 files, 2 folders) in pages of 2"


def test_dataset_snapshot(hub: TestHub, tmp_path: Path) -> None:
    hub.create_repo("acme/squad", repo_type="dataset").commit(
        {"plain_text/train.parquet": random_bytes(50_000, 3), "README.md": b"# squad\n"}
    )
    folder = snapshot_download(
        "acme/squad",
        repo_type="dataset",
        endpoint=hub.endpoint,
        local_dir=tmp_path / "d",
        cache_dir=tmp_path / "cache",
    )
    assert sha256_tree(Path(folder)) == committed(hub, "acme/squad", "main", "dataset")


def test_hf_hub_download_lfs_and_spaces_in_paths(tiny: TestHub, tmp_path: Path) -> None:
    model = hf_hub_download(
        "acme/tiny", "model.safetensors", endpoint=tiny.endpoint, cache_dir=tmp_path / "c"
    )
    assert (
        hashlib.sha256(Path(model).read_bytes()).hexdigest()
        == committed(tiny, "acme/tiny", "main")["model.safetensors"]
    )
    assert any(r.origin == "cdn" for r in tiny.requests)
    text = hf_hub_download(
        "acme/tiny",
        "dir with space/file name.txt",
        endpoint=tiny.endpoint,
        cache_dir=tmp_path / "c",
    )
    assert Path(text).read_bytes() == b"spaces\n"


def test_api_listing_and_info(tiny: TestHub) -> None:
    api = HfApi(endpoint=tiny.endpoint, token=False)
    repo = tiny.repo("acme/tiny")
    files = {
        e.path: e
        for e in api.list_repo_tree("acme/tiny", recursive=True)
        if isinstance(e, RepoFile)
    }
    source = repo.files("main")
    assert set(files) == set(source)
    lfs = files["model.safetensors"].lfs
    assert lfs is not None and lfs.sha256 == source["model.safetensors"].sha256
    assert files["config.json"].blob_id == source["config.json"].git_sha1
    info = api.model_info("acme/tiny", revision="feature/x", files_metadata=True)
    assert info.sha == repo.resolve("feature/x")
    assert {s.rfilename for s in info.siblings or []} == set(source)
    refs = api.list_repo_refs("acme/tiny")
    assert {b.name for b in refs.branches} == {"main", "feature/x"}
    assert [t.target_commit for t in refs.tags] == [repo.resolve("v1.0")]
    commits = api.list_repo_commits("acme/tiny", revision="feature/x")
    assert [c.commit_id for c in commits] == [repo.resolve("feature/x"), repo.resolve("main")]


def test_error_classes(tiny: TestHub, tmp_path: Path) -> None:
    api = HfApi(endpoint=tiny.endpoint, token=False)
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("acme/nope")
    with pytest.raises(RevisionNotFoundError):
        api.model_info("acme/tiny", revision="nope")
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(
            "acme/tiny",
            "missing.bin",
            endpoint=tiny.endpoint,
            cache_dir=tmp_path / "c",
            token=False,
        )


@pytest.mark.parametrize(
    ("repo", "filename"),
    [
        ("acme/tiny", None),
        ("acme/private", None),
        ("acme/tiny", "config.json"),
        ("acme/tiny", "model.safetensors"),
    ],
    ids=["model_info", "model_info-private", "hf_hub_download", "hf_hub_download-lfs"],
)
def test_a_token_never_issued_is_a_plain_401(
    tiny: TestHub, tmp_path: Path, repo: str, filename: str | None
) -> None:
    # The Hub's answer to a mistyped HF_TOKEN: not "repository not found", which would send
    # a user looking for a typo in the repo id instead of in the token.
    tiny.create_repo("acme/private", private=True).commit({"config.json": b"{}"})
    with pytest.raises(HfHubHTTPError) as caught:
        if filename is None:
            HfApi(endpoint=tiny.endpoint, token="hf_never_issued").model_info(repo)
        else:
            hf_hub_download(
                repo,
                filename,
                endpoint=tiny.endpoint,
                cache_dir=tmp_path / "c",
                token="hf_never_issued",
            )
    assert not isinstance(caught.value, RepositoryNotFoundError)
    assert caught.value.response is not None and caught.value.response.status_code == 401
    assert "Invalid credentials in Authorization header" in str(caught.value)
    assert not any(r.origin == "cdn" for r in tiny.requests)


def test_gated_repo(hub: TestHub, tmp_path: Path) -> None:
    gated = hub.create_repo("acme/gated", gated=True)
    gated.commit({"model.safetensors": random_bytes(300_000, 4)})
    hub.add_token("hf_nope", repos=["acme/other"])
    hub.add_token("hf_yes", repos=["acme/gated"])
    for token in (False, "hf_nope"):
        with pytest.raises(GatedRepoError):
            hf_hub_download(
                "acme/gated",
                "model.safetensors",
                endpoint=hub.endpoint,
                cache_dir=tmp_path / "c",
                token=token,
            )
    hub.reset_stats()
    path = hf_hub_download(
        "acme/gated",
        "model.safetensors",
        endpoint=hub.endpoint,
        cache_dir=tmp_path / "c",
        token="hf_yes",
    )
    assert Path(path).read_bytes() == gated.files()["model.safetensors"].source.read_bytes()
    cdn = [r for r in hub.requests if r.origin == "cdn"]
    assert cdn and all("authorization" not in r.headers for r in cdn)


def test_official_client_resumes_after_a_dropped_connection(hub: TestHub, tmp_path: Path) -> None:
    data = random_bytes(30 * 1024 * 1024, 5)
    hub.create_repo("acme/big").commit({"model.safetensors": data})
    hub.add_fault(Fault("drop", origin="cdn", method="GET", after_bytes=25 * 1024 * 1024))
    path = hf_hub_download(
        "acme/big",
        "model.safetensors",
        endpoint=hub.endpoint,
        cache_dir=tmp_path / "c",
        token=False,
    )
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    cdn_gets = [r for r in hub.requests if r.origin == "cdn" and r.method == "GET"]
    ranged = [r.headers.get("range") for r in cdn_gets]
    assert ranged == [None, "bytes=20971520-"]


def test_tree_429_with_retry_after_is_retried(tiny: TestHub) -> None:
    tiny.add_fault(Fault("status", path_contains="/tree/", status=429, retry_after=0))
    api = HfApi(endpoint=tiny.endpoint, token=False)
    entries = list(api.list_repo_tree("acme/tiny", recursive=True))
    assert len([e for e in entries if hasattr(e, "size")]) == 5
    statuses = [r.status for r in tiny.requests if "/tree/" in r.path]
    assert statuses == [429, 200]


def test_a_renamed_repo_redirects_the_official_client(hub: TestHub, tmp_path: Path) -> None:
    hub.create_repo("bert-base-chinese").commit(
        {"config.json": b"{}", "model.safetensors": random_bytes(100_000, 6)}
    )
    hub.rename_repo("bert-base-chinese", "google-bert/bert-base-chinese")
    api = HfApi(endpoint=hub.endpoint, token=False)
    assert api.model_info("bert-base-chinese").id == "google-bert/bert-base-chinese"
    folder = snapshot_download(
        "bert-base-chinese",
        endpoint=hub.endpoint,
        local_dir=tmp_path / "out",
        cache_dir=tmp_path / "cache",
    )
    assert sha256_tree(Path(folder)) == committed(hub, "google-bert/bert-base-chinese", "main")
    assert [r.status for r in hub.requests if r.path.startswith("/api/")][:2] == [307, 200]


def test_a_squashed_history_loses_its_old_commits_for_the_official_client(
    tiny: TestHub, tmp_path: Path
) -> None:
    repo = tiny.repo("acme/tiny")
    old = repo.resolve("main")
    repo.squash()
    api = HfApi(endpoint=tiny.endpoint, token=False)
    with pytest.raises(RevisionNotFoundError):
        api.model_info("acme/tiny", revision=old)
    with pytest.raises(RevisionNotFoundError):
        api.model_info("acme/tiny", revision="v1.0")  # its tag went with it
    assert [c.commit_id for c in api.list_repo_commits("acme/tiny")] == [repo.resolve("main")]
