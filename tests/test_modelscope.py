"""ModelScope as a source, through the CLI, against the test hub's ModelScope face: the same
loop as the Hub's (lock → sync → verify → status → outdated), its defaults (``master``,
sha256 for every file), its revisions, tokens and errors."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from support import Workspace, all_text_under, make_workspace, random_bytes

from modelpm.lockfile import read_lock
from modelpm.testing import Fault, TestHub
from modelpm.testing.repo import HubRepo

MiB = 1024 * 1024
TOKEN = "ms-secret-token-0123456789"
MANIFEST = """\
[models.qwen]
source = "modelscope"
repo = "Qwen/tiny"
include = ["*.json", "*.safetensors", "nested/"]
exclude = ["*.h5"]

[models.qwen-v1]
source = "modelscope"
repo = "Qwen/tiny"
revision = "v1.0"
dest = "weights/v1"
weights = "all"

[models.set]
source = "modelscope"
repo = "acme/set"
repo-type = "dataset"
"""


def build(hub: TestHub) -> HubRepo:
    repo = hub.create_repo("Qwen/tiny", site="modelscope")
    repo.commit(
        {
            "config.json": b'{"hidden_size": 8}\n',
            "model.safetensors": random_bytes(3 * MiB + 7, 1),
            "tf_model.h5": random_bytes(64 * 1024, 2),
            "nested/a.txt": b"nested text\n",
            "README.md": b"# tiny\n",
        }
    )
    repo.create_tag("v1.0")
    repo.commit({"config.json": b'{"hidden_size": 16}\n'}, message="master moves on")
    hub.create_repo("acme/set", repo_type="dataset", site="modelscope").commit(
        {"train.jsonl": b'{"x": 1}\n', "README.md": b"set\n"}
    )
    return repo


@pytest.fixture
def ws(tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    workspace = make_workspace(tmp_path, hub, monkeypatch)
    build(hub)
    workspace.write(MANIFEST)
    return workspace


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_lock_pins_master_and_a_tag_with_sha256_for_every_file(ws: Workspace, hub: TestHub) -> None:
    result = ws.cli("lock")
    assert result.exit_code == 0, result.stderr
    lock = read_lock(ws.root / "models.lock")
    assert lock is not None
    repo = hub.repo("Qwen/tiny", site="modelscope")
    qwen, v1, dataset = lock.get("qwen"), lock.get("qwen-v1"), lock.get("set")
    assert qwen and v1 and dataset
    assert (qwen.source, qwen.revision, qwen.commit) == (
        "modelscope",
        "master",
        repo.resolve("master"),
    )
    assert (v1.revision, v1.commit) == ("v1.0", repo.resolve("v1.0"))
    assert v1.commit != qwen.commit
    assert [f.path for f in qwen.files] == ["config.json", "model.safetensors", "nested/a.txt"]
    for model, rev in ((qwen, "master"), (v1, "v1.0")):
        files = repo.files(rev)
        for item in model.files:
            assert item.digest.algorithm == "sha256"
            assert item.digest.hexdigest == sha256(files[item.path].source.read_bytes())
    assert dataset.repo_type == "dataset" and [f.path for f in dataset.files] == [
        "README.md",
        "train.jsonl",
    ]
    text = (ws.root / "models.lock").read_text()
    assert 'source = "modelscope"' in text and 'revision = "master"' in text
    assert hub.modelscope_endpoint not in text and "main" not in text


def test_sync_verify_status_and_a_noop_with_zero_requests(ws: Workspace, hub: TestHub) -> None:
    assert ws.cli("sync").exit_code == 0
    repo = hub.repo("Qwen/tiny", site="modelscope")
    placed = ws.files("models/qwen")
    assert placed == {
        path: repo.files()[path].source.read_bytes()
        for path in ("config.json", "model.safetensors", "nested/a.txt")
    }
    assert set(ws.files("weights/v1")) == set(repo.files("v1.0"))
    assert ws.cli("verify").exit_code == 0
    status = ws.cli("status", "--json")
    assert '"state": "synced"' in status.stdout and '"not-synced"' not in status.stdout
    hub.reset_stats()
    assert ws.cli("sync").exit_code == 0
    assert hub.request_count == 0


def test_large_files_use_several_ranged_connections_to_the_storage_cdn(
    tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_workspace(tmp_path, hub, monkeypatch)
    data = random_bytes(70 * MiB, 9)
    hub.create_repo("acme/big", site="modelscope").commit({"model.safetensors": data})
    ws.write('[models.big]\nsource = "modelscope"\nrepo = "acme/big"\n')
    hub.add_fault(Fault("drop", origin="ms-cdn", method="GET", after_bytes=3 * MiB))
    assert ws.cli("sync").exit_code == 0
    assert sha256(ws.files("models/big")["model.safetensors"]) == sha256(data)
    ranges = [r.headers.get("range") for r in hub.requests if r.origin == "ms-cdn"]
    assert len(ranges) >= 5 and all(r and r.startswith("bytes=") for r in ranges)
    located = [r for r in hub.requests if r.origin == "modelscope" and "FilePath=" in r.query]
    assert len(located) == 1, "one locate; every connection then asks the CDN"


def test_a_git_file_whose_server_ignores_range_is_resumed_from_byte_zero(
    tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Git files come from the API itself, which ignores Range: the resumed request gets a
    # 200 with the whole body, and the download starts over rather than splicing it.
    ws = make_workspace(tmp_path, hub, monkeypatch)
    text = random_bytes(2 * MiB, 4).hex().encode()[: 2 * MiB]
    hub.create_repo("acme/text", site="modelscope").commit({"vocab.txt": text}, lfs=[])
    ws.write('[models.t]\nsource = "modelscope"\nrepo = "acme/text"\n')
    hub.add_fault(Fault("drop", origin="modelscope", path_contains="vocab.txt", after_bytes=MiB))
    result = ws.cli("sync")
    assert result.exit_code == 0, result.stderr
    assert ws.files("models/t") == {"vocab.txt": text}
    asked = [r for r in hub.requests if "FilePath=vocab.txt" in r.query]
    assert [(r.headers.get("range"), r.status) for r in asked] == [
        (None, 200),
        (f"bytes={MiB}-{2 * MiB - 1}", 200),
        (None, 200),
    ]


def test_an_expired_storage_link_is_located_again(ws: Workspace, hub: TestHub) -> None:
    hub.add_fault(Fault("expire_cdn", origin="ms-cdn", times=1))
    result = ws.cli("sync", "qwen")
    assert result.exit_code == 0, result.stderr
    expired = [r for r in hub.requests if r.origin == "ms-cdn" and r.status == 403]
    assert len(expired) == 1


def test_an_unknown_revision_is_an_error_naming_the_revisions_and_creates_nothing(
    ws: Workspace, hub: TestHub
) -> None:
    ws.write('[models.q]\nsource = "modelscope"\nrepo = "Qwen/tiny"\nrevision = "main"\n')
    result = ws.cli("sync")
    assert result.exit_code == 1
    assert result.error.splitlines() == [
        "error: revision 'main' was not found in Qwen/tiny",
        "hint: revisions of Qwen/tiny: master, v1.0",
    ]
    assert not (ws.root / "models").exists() and not (ws.root / "models.lock").exists()


def test_add_source_modelscope_writes_the_source_and_omits_master(
    tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_workspace(tmp_path, hub, monkeypatch)
    build(hub)
    ws.write("# my models\n")
    result = ws.cli("add", "--source", "modelscope", "Qwen/tiny", "--include", "*.json")
    assert result.exit_code == 0, result.stderr
    assert "added tiny: Qwen/tiny @ master →" in result.stderr
    assert (ws.root / "models.toml").read_text() == (
        '# my models\n\n[models.tiny]\nsource = "modelscope"\nrepo = "Qwen/tiny"\n'
        'include = ["*.json"]\n'
    )
    assert ws.files("models/tiny") == {"config.json": b'{"hidden_size": 16}\n'}


@pytest.mark.parametrize(
    ("url", "table"),
    [
        (
            "https://modelscope.cn/models/Qwen/tiny/tree/v1.0",
            '[models.tiny]\nsource = "modelscope"\nrepo = "Qwen/tiny"\nrevision = "v1.0"\n',
        ),
        (
            "https://www.modelscope.cn/datasets/acme/set/summary",
            '[models.set]\nsource = "modelscope"\nrepo = "acme/set"\nrepo-type = "dataset"\n',
        ),
    ],
)
def test_add_a_pasted_url_asks_the_configured_endpoint(
    tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch, url: str, table: str
) -> None:
    ws = make_workspace(tmp_path, hub, monkeypatch)
    build(hub)
    ws.write("")
    result = ws.cli("add", url, "--no-sync")
    assert result.exit_code == 0, result.stderr
    assert (ws.root / "models.toml").read_text() == table
    assert hub.requests and all(r.origin == "modelscope" for r in hub.requests)


def test_a_url_and_an_option_that_disagree_are_refused(ws: Workspace) -> None:
    before = (ws.root / "models.toml").read_text()
    result = ws.cli("add", "https://modelscope.cn/models/Qwen/tiny", "--source", "hf")
    assert result.exit_code == 2
    assert result.error.splitlines()[0] == (
        "error: the URL names source 'modelscope', and the option says 'hf'"
    )
    assert (ws.root / "models.toml").read_text() == before


def test_outdated_compares_the_locked_commit_with_master_now(ws: Workspace, hub: TestHub) -> None:
    assert ws.cli("lock").exit_code == 0
    repo = hub.repo("Qwen/tiny", site="modelscope")
    repo.commit({"config.json": b"{}"})
    result = ws.cli("outdated", "--json")
    assert result.exit_code == 0, result.stderr
    assert f'"current_commit": "{repo.resolve("master")}"' in result.stdout
    assert '"outdated": true' in result.stdout


def test_locked_frozen_and_offline_work_the_same(ws: Workspace, hub: TestHub) -> None:
    assert ws.cli("sync").exit_code == 0
    (ws.root / "models/qwen/config.json").unlink()
    hub.reset_stats()
    assert ws.cli("sync", "--offline").exit_code == 0
    assert hub.request_count == 0 and (ws.root / "models/qwen/config.json").exists()
    ws.write(MANIFEST.replace('revision = "v1.0"', 'revision = "master"'))
    locked = ws.cli("sync", "--locked")
    assert locked.exit_code == 1 and "out of date" in locked.error
    assert ws.cli("sync", "--frozen").exit_code == 0
    assert hub.request_count == 0


def test_a_private_repo_needs_modelscope_api_token_which_never_leaves_its_origin(
    ws: Workspace, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.create_repo("acme/private", site="modelscope", private=True).commit(
        {"config.json": b"{}", "model.safetensors": random_bytes(MiB, 3)}
    )
    ws.write('[models.p]\nsource = "modelscope"\nrepo = "acme/private"\n')
    result = ws.cli("sync")
    assert result.exit_code == 1
    assert result.error.splitlines() == [
        f"error: acme/private is private or needs a login on {hub.modelscope_endpoint}, and no "
        "token is set",
        "hint: set MODELSCOPE_API_TOKEN to a token with access (or run `modelscope login`)",
    ]
    hub.add_token(TOKEN, repos=["acme/private"])
    monkeypatch.setenv("MODELSCOPE_API_TOKEN", TOKEN)
    hub.reset_stats()
    result = ws.cli("sync")
    assert result.exit_code == 0, result.stderr
    for record in hub.requests:
        carries = TOKEN in record.headers.get("authorization", "") + record.headers.get(
            "cookie", ""
        )
        assert carries == (record.origin == "modelscope"), record
    assert any(r.origin == "ms-cdn" for r in hub.requests)
    assert TOKEN not in all_text_under(ws.root, ws.store) + result.stdout + result.stderr


def test_a_rejected_token_and_a_missing_repo_are_their_own_errors(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, hub: TestHub
) -> None:
    monkeypatch.setenv("MODELSCOPE_API_TOKEN", "never-issued")
    result = ws.cli("lock")
    assert result.exit_code == 1
    assert result.error.splitlines()[0].startswith(
        f"error: {hub.modelscope_endpoint} rejected the token (401)"
    )
    monkeypatch.delenv("MODELSCOPE_API_TOKEN")
    ws.write('[models.x]\nsource = "modelscope"\nrepo = "acme/nope"\n')
    result = ws.cli("lock")
    assert result.exit_code == 1
    assert result.error.splitlines()[0] == (
        f"error: acme/nope was not found on {hub.modelscope_endpoint}"
    )


def test_rate_limits_and_server_errors_are_retried(ws: Workspace, hub: TestHub) -> None:
    hub.add_fault(Fault("status", origin="modelscope", status=429, retry_after=0))
    hub.add_fault(Fault("status", origin="modelscope", path_contains="/repo/files", status=503))
    hub.add_fault(Fault("status", origin="modelscope", path_contains="/repo?", status=502))
    result = ws.cli("sync", "qwen")
    assert result.exit_code == 0, result.stderr
    statuses = [r.status for r in hub.requests if r.origin == "modelscope"]
    assert {429, 503, 502} <= set(statuses)


def test_a_file_gone_from_the_locked_commit_is_entry_not_found(ws: Workspace, hub: TestHub) -> None:
    assert ws.cli("lock").exit_code == 0
    repo = hub.repo("Qwen/tiny", site="modelscope")
    master = repo.commits[repo.resolve("master")]
    files = dict(master.files)
    del files["nested/a.txt"]
    repo.commits[master.sha] = type(master)(
        master.sha, master.parent, master.message, master.date, files, master.trees
    )
    shutil.rmtree(ws.store, ignore_errors=True)
    result = ws.cli("sync", "qwen")
    assert result.exit_code == 1
    assert result.error.splitlines()[0] == (
        f"error: a file of Qwen/tiny @ {master.sha} is missing on {hub.modelscope_endpoint}"
    )
