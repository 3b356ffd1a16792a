"""The test hub's upload API is trusted only because the official client uploads to it.

Unmodified ``huggingface_hub`` (2.4, ``HF_HUB_DISABLE_XET=1``: the test hub speaks no
Xet) pushes with ``create_repo``, ``upload_folder``, ``upload_file``, ``create_commit``,
``create_branch`` and ``create_tag``; every push is then downloaded again with
``snapshot_download`` and compared byte for byte with what was sent.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from huggingface_hub import CommitOperationAdd, HfApi, RepoFile, snapshot_download
from huggingface_hub.errors import HfHubHTTPError
from support import random_bytes, write_folder

from modelpm.testing import Fault, TestHub

TOKEN = "hf_conformance"  # not a token modelpm registered: its guard would keep it home


def tree(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and ".cache" not in path.relative_to(folder).parts
    }


def download(hub: TestHub, tmp_path: Path, repo: str, revision: str = "main") -> dict[str, bytes]:
    folder = snapshot_download(
        repo,
        revision=revision,
        endpoint=hub.endpoint,
        local_dir=tmp_path / f"down-{revision.replace('/', '_')}-{len(list(tmp_path.iterdir()))}",
        cache_dir=tmp_path / "cache",
        token=TOKEN,
    )
    return tree(Path(folder))


@pytest.fixture
def api(hub: TestHub) -> HfApi:
    hub.add_token(TOKEN, user="acme")
    return HfApi(endpoint=hub.endpoint, token=TOKEN)


FILES = {
    "config.json": b'{"hidden_size": 8}\n',
    "model.safetensors": random_bytes(3_000_000, 1),
    "nested/tokenizer.json": b'{"vocab": []}\n',
    "dir with space/notes.txt": b"spaces\n",
}


def test_create_repo_and_upload_folder_round_trip(hub: TestHub, api: HfApi, tmp_path: Path) -> None:
    url = api.create_repo("acme/new")
    assert url.repo_id == "acme/new"
    api.create_repo("acme/new", exist_ok=True)  # 409 is "exists"
    folder = write_folder(tmp_path / "out", FILES)
    info = api.upload_folder(repo_id="acme/new", folder_path=folder, commit_message="first")
    assert info.oid == hub.repo("acme/new").resolve("main")
    want = {".gitattributes": hub.repo("acme/new").files()[".gitattributes"].source.read_bytes()}
    assert download(hub, tmp_path, "acme/new") == {**want, **FILES}
    entries = api.list_repo_tree("acme/new", recursive=True)
    listed = {e.path: e for e in entries if isinstance(e, RepoFile)}
    lfs = listed["model.safetensors"].lfs
    assert lfs is not None and lfs.sha256 == hashlib.sha256(FILES["model.safetensors"]).hexdigest()
    puts = [r for r in hub.requests if r.method == "PUT"]
    assert len(puts) == 1 and puts[0].origin == "cdn", "one LFS object, to the storage origin"
    assert "authorization" not in puts[0].headers, "the token never leaves the hub's origin"


def test_unchanged_files_are_not_sent_again_and_delete_patterns_work(
    hub: TestHub, api: HfApi, tmp_path: Path
) -> None:
    api.create_repo("acme/m")
    folder = write_folder(tmp_path / "out", FILES)
    api.upload_folder(repo_id="acme/m", folder_path=folder)
    (folder / "config.json").write_bytes(b'{"hidden_size": 16}\n')
    (folder / "nested" / "tokenizer.json").unlink()
    hub.reset_stats()
    api.upload_folder(repo_id="acme/m", folder_path=folder, delete_patterns=["*.json"])
    assert not [r for r in hub.requests if r.method == "PUT"], "the LFS file was already there"
    files = hub.repo("acme/m").files()
    assert "nested/tokenizer.json" not in files and ".gitattributes" in files
    assert files["config.json"].source.read_bytes() == b'{"hidden_size": 16}\n'
    assert download(hub, tmp_path, "acme/m") == {
        ".gitattributes": files[".gitattributes"].source.read_bytes(),
        **{k: v for k, v in FILES.items() if k != "nested/tokenizer.json"},
        "config.json": b'{"hidden_size": 16}\n',
    }


def test_upload_file_with_a_stale_parent_commit_fails(hub: TestHub, api: HfApi) -> None:
    api.create_repo("acme/race")
    seen = api.model_info("acme/race").sha
    assert seen is not None
    api.upload_file(path_or_fileobj=b"first", path_in_repo="a.txt", repo_id="acme/race")
    head = hub.repo("acme/race").resolve("main")
    with pytest.raises(HfHubHTTPError) as caught:
        api.upload_file(
            path_or_fileobj=b"second", path_in_repo="b.txt", repo_id="acme/race", parent_commit=seen
        )
    assert caught.value.response is not None and caught.value.response.status_code == 412
    assert hub.repo("acme/race").resolve("main") == head
    assert "b.txt" not in hub.repo("acme/race").files()
    # The head it saw last is accepted.
    api.upload_file(
        path_or_fileobj=b"second", path_in_repo="b.txt", repo_id="acme/race", parent_commit=head
    )
    assert hub.repo("acme/race").files()["b.txt"].source.read_bytes() == b"second"


def test_branches_and_tags(hub: TestHub, api: HfApi, tmp_path: Path) -> None:
    api.create_repo("acme/refs")
    api.upload_file(path_or_fileobj=b"v1", path_in_repo="a.txt", repo_id="acme/refs")
    api.create_branch("acme/refs", branch="feature/x")
    api.upload_file(
        path_or_fileobj=b"v2", path_in_repo="a.txt", repo_id="acme/refs", revision="feature/x"
    )
    api.create_tag("acme/refs", tag="v2.0", revision="feature/x")
    with pytest.raises(HfHubHTTPError):
        api.create_tag("acme/refs", tag="v2.0")  # a tag never moves
    refs = api.list_repo_refs("acme/refs")
    assert {b.name for b in refs.branches} == {"main", "feature/x"}
    assert [t.target_commit for t in refs.tags] == [hub.repo("acme/refs").resolve("feature/x")]
    assert download(hub, tmp_path, "acme/refs", "v2.0")["a.txt"] == b"v2"
    assert download(hub, tmp_path, "acme/refs", "main")["a.txt"] == b"v1"


def test_multipart_upload_round_trip(hub: TestHub, api: HfApi, tmp_path: Path) -> None:
    hub.multipart_chunk = 1_000_000
    data = random_bytes(3_500_000, 7)
    api.create_repo("acme/big")
    api.create_commit(
        "acme/big",
        [CommitOperationAdd("model.safetensors", data)],
        commit_message="big",
    )
    parts = [r for r in hub.requests if r.method == "PUT"]
    assert len(parts) == 4 and all("part=" in r.query for r in parts)
    assert download(hub, tmp_path, "acme/big")["model.safetensors"] == data


def test_refusals_the_client_meets(hub: TestHub, api: HfApi, tmp_path: Path) -> None:
    api.create_repo("acme/guarded")
    hub.add_token("hf_conformance_reader", write=False)
    reader = HfApi(endpoint=hub.endpoint, token="hf_conformance_reader")
    with pytest.raises(HfHubHTTPError) as caught:
        reader.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="acme/guarded")
    assert caught.value.response is not None and caught.value.response.status_code == 403
    assert reader.whoami()["auth"]["accessToken"]["role"] == "read"
    anonymous = HfApi(endpoint=hub.endpoint, token=False)
    with pytest.raises(HfHubHTTPError) as caught:
        anonymous.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="acme/guarded")
    assert caught.value.response is not None and caught.value.response.status_code == 401
    hub.repo("acme/guarded").protected.add("main")
    with pytest.raises(HfHubHTTPError, match="protected branch"):
        api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="acme/guarded")
    hub.repo("acme/guarded").protected.clear()
    hub.max_file_size = 1000
    with pytest.raises(ValueError, match="over 1000 bytes"):
        api.upload_file(path_or_fileobj=b"w" * 2000, path_in_repo="w.bin", repo_id="acme/guarded")
    assert set(hub.repo("acme/guarded").files()) == {".gitattributes"}


def test_a_corrupt_upload_fault_stores_and_lists_other_bytes(hub: TestHub, api: HfApi) -> None:
    api.create_repo("acme/bad")
    data = random_bytes(200_000, 9)
    hub.add_fault(Fault("corrupt_upload", method="PUT"))
    api.upload_file(path_or_fileobj=data, path_in_repo="w.safetensors", repo_id="acme/bad")
    stored = hub.repo("acme/bad").files()["w.safetensors"]
    assert stored.sha256 != hashlib.sha256(data).hexdigest()
    assert stored.sha256 == hashlib.sha256(stored.source.read_bytes()).hexdigest()
    hub.add_fault(Fault("corrupt_upload", path_contains="/commit/"))
    api.upload_file(path_or_fileobj=b"plain text\n", path_in_repo="a.txt", repo_id="acme/bad")
    assert hub.repo("acme/bad").files()["a.txt"].source.read_bytes() != b"plain text\n"


def test_objects_uploaded_before_a_failed_commit_are_not_sent_again(
    hub: TestHub, api: HfApi
) -> None:
    api.create_repo("acme/cut")
    first, second = random_bytes(300_000, 1), random_bytes(300_000, 2)
    api.preupload_lfs_files("acme/cut", [CommitOperationAdd("a.safetensors", first)])
    # A connection cut mid-body: the client sends the object again, whole.
    hub.add_fault(Fault("reset", method="PUT", after_bytes=1000))
    api.preupload_lfs_files("acme/cut", [CommitOperationAdd("b.safetensors", second)])
    puts = [r for r in hub.requests if r.method == "PUT"]
    assert [(r.status, r.received_bytes) for r in puts] == [
        (200, 300_000),
        (0, 1000),
        (200, 300_000),
    ]
    hub.reset_stats()
    api.create_commit(
        "acme/cut",
        [CommitOperationAdd("a.safetensors", first), CommitOperationAdd("b.safetensors", second)],
        commit_message="both",
    )
    assert not [r for r in hub.requests if r.method == "PUT"], "both objects were there"
    files = hub.repo("acme/cut").files()
    assert files["a.safetensors"].source.read_bytes() == first
    assert files["b.safetensors"].source.read_bytes() == second


def test_a_chunked_upload_body_and_an_unsigned_link(hub: TestHub) -> None:
    import http.client
    from urllib.parse import urlsplit

    data = random_bytes(100_000, 3)
    oid = hashlib.sha256(data).hexdigest()
    where = urlsplit(hub.cdn_endpoint)

    def put(query: str) -> int:
        connection = http.client.HTTPConnection(where.hostname or "", where.port, timeout=10)
        try:
            connection.request(
                "PUT", f"/lfs-upload/{oid}?{query}", body=iter([data[:5000], data[5000:]])
            )  # an iterator: http.client sends it chunked
            return connection.getresponse().status
        finally:
            connection.close()

    assert put("expires=9999999999&sig=forged") == 403
    assert hub.uploads.path(oid) is None
    assert put(hub.sign(f"upload:{oid}:")) == 200
    stored = hub.uploads.path(oid)
    assert stored is not None and stored.read_bytes() == data
