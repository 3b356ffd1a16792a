"""The core loop through the CLI, in process, against the loopback test hub:
models.toml → lock → sync → verify → status, and the errors a user meets."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from support import MANIFEST, Workspace, all_text_under, build_repos, make_workspace, use_token

from modelpm.lockfile import read_lock
from modelpm.testing import Fault, TestHub


@pytest.fixture
def ws(tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    workspace = make_workspace(tmp_path, hub, monkeypatch)
    build_repos(hub)
    workspace.write(MANIFEST)
    return workspace


def expected_files(
    hub: TestHub, repo: str, rev: str, keep: object, repo_type: str = "model"
) -> dict[str, bytes]:
    files = hub.repo(repo, repo_type=repo_type).files(rev)
    return {
        path: item.source.read_bytes() if item.source.is_file() else b""
        for path, item in files.items()
        if keep(path)  # type: ignore[operator]
    }


def test_lock_pins_commits_and_hashes(ws: Workspace, hub: TestHub) -> None:
    result = ws.cli("lock")
    assert result.exit_code == 0, result.stderr
    lock = read_lock(ws.root / "models.lock")
    assert lock is not None
    tiny = lock.get("tiny")
    dev = lock.get("tiny-dev")
    squad = lock.get("squad")
    assert tiny and dev and squad
    repo = hub.repo("acme/tiny")
    assert tiny.commit == repo.resolve("v1.0")
    assert dev.commit == repo.resolve("feature/x")
    assert squad.repo_type == "dataset"
    assert [f.path for f in tiny.files] == [
        "config.json",
        "model.safetensors",
        "nested/a.txt",
        "nested/deep/b.bin",
        "tokenizer.json",
    ]
    remote = repo.files("v1.0")
    for item in tiny.files:
        source = remote[item.path]
        assert item.size == source.size
        if source.lfs:
            assert item.digest.algorithm == "sha256" and item.digest.hexdigest == source.sha256
        else:
            assert item.digest.algorithm == "git-sha1"
            assert item.digest.hexdigest == source.git_sha1
    assert "locked tiny: acme/tiny @ v1.0 →" in result.stderr


def test_locking_twice_and_elsewhere_is_byte_identical(
    ws: Workspace, hub: TestHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ws.cli("lock").exit_code == 0
    first = (ws.root / "models.lock").read_bytes()
    before = hub.request_count
    assert ws.cli("lock").exit_code == 0
    assert (ws.root / "models.lock").read_bytes() == first
    assert hub.request_count == before, "an up-to-date lock must not ask the hub"
    other = make_workspace(tmp_path, hub, monkeypatch, name="other")
    other.write(MANIFEST)
    assert other.cli("lock").exit_code == 0
    assert (other.root / "models.lock").read_bytes() == first
    text = first.decode()
    assert hub.endpoint not in text and str(tmp_path) not in text


def test_sync_places_exact_plain_files_then_noop_makes_zero_requests(
    ws: Workspace, hub: TestHub
) -> None:
    result = ws.cli("sync")
    assert result.exit_code == 0, result.stderr
    want_tiny = expected_files(
        hub,
        "acme/tiny",
        "v1.0",
        lambda p: p.endswith((".json", ".safetensors")) or p.startswith("nested/"),
    )
    assert ws.files("models/tiny") == want_tiny
    assert ws.files("weights/dev") == expected_files(
        hub, "acme/tiny", "feature/x", lambda p: p in ("model.safetensors", "config.json")
    )
    assert ws.files("models/squad") == expected_files(
        hub, "acme/squad", "main", lambda p: True, repo_type="dataset"
    )
    for path in (ws.root / "models").rglob("*"):
        assert not path.is_symlink()
    assert "downloaded" in result.stderr

    hub.reset_stats()
    again = ws.cli("sync")
    assert again.exit_code == 0, again.stderr
    assert hub.request_count == 0
    assert "everything is in place" in again.stderr


def test_lfs_bytes_come_from_the_cdn_without_the_token(
    ws: Workspace, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = use_token(hub, monkeypatch, "hf_secretsecretsecret0123456789")
    result = ws.cli("sync", "-v")
    assert result.exit_code == 0, result.stderr
    cdn = [r for r in hub.requests if r.origin == "cdn"]
    assert cdn, "LFS files must be fetched from the CDN origin"
    assert all("authorization" not in r.headers for r in cdn)
    assert any("authorization" in r.headers for r in hub.requests if r.origin == "hub")
    leftovers = all_text_under(ws.root, ws.store)
    assert token not in leftovers
    assert token not in result.stderr + result.stdout


def test_verify_reports_missing_modified_unexpected_and_sync_repairs(ws: Workspace) -> None:
    assert ws.cli("sync").exit_code == 0
    assert ws.cli("verify").exit_code == 0
    config = ws.root / "models/tiny/config.json"
    original = config.read_bytes()
    config.chmod(0o644)
    # Replace rather than edit in place: an in-place edit would reach the store's hard link.
    config.unlink()
    config.write_bytes(b"tampered")
    (ws.root / "models/tiny/nested/a.txt").unlink()
    (ws.root / "models/tiny/extra.bin").write_bytes(b"mine")
    result = ws.cli("verify")
    assert result.exit_code == 1
    assert "modified tiny: models/tiny/config.json" in result.stderr
    assert "missing tiny: models/tiny/nested/a.txt" in result.stderr
    assert "unexpected tiny: models/tiny/extra.bin" in result.stderr
    repaired = ws.cli("sync")
    assert repaired.exit_code == 0, repaired.stderr
    assert config.read_bytes() == original
    assert (ws.root / "models/tiny/extra.bin").read_bytes() == b"mine", "user files stay"
    assert ws.cli("verify", "tiny-dev", "squad").exit_code == 0


def test_status_shows_one_row_per_model(ws: Workspace, hub: TestHub) -> None:
    before = ws.cli("status")
    assert before.exit_code == 0
    assert "not locked" in before.stdout
    assert ws.cli("sync").exit_code == 0
    after = ws.cli("status")
    assert after.exit_code == 0
    short = hub.repo("acme/tiny").resolve("v1.0")[:7]
    line = next(line for line in after.stdout.splitlines() if line.startswith("tiny "))
    assert "acme/tiny" in line and f"v1.0 → {short}" in line and "synced" in line
    assert "acme/squad (dataset)" in after.stdout
    (ws.root / "models/squad/README.md").unlink()
    assert "partly synced" in ws.cli("status").stdout


def test_second_project_on_the_same_store_downloads_nothing(
    ws: Workspace, hub: TestHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ws.cli("sync").exit_code == 0
    other = tmp_path / "second"
    other.mkdir()
    shutil.copy(ws.root / "models.toml", other / "models.toml")
    shutil.copy(ws.root / "models.lock", other / "models.lock")
    monkeypatch.chdir(other)
    hub.reset_stats()
    result = ws.cli("sync")
    assert result.exit_code == 0, result.stderr
    assert hub.bytes_sent == 0
    a = ws.root / "models/tiny/model.safetensors"
    b = other / "models/tiny/model.safetensors"
    assert os.stat(a).st_ino == os.stat(b).st_ino, "linked from the store, not copied"


# --- errors a user can cause -------------------------------------------------


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ('[models.a]\nrepo = "acme/tiny"\ninclude = [\n', "invalid TOML"),
        ('[models.a]\nrepo = "acme/tiny"\nrevsion = "x"\n', "unknown key 'revsion'"),
        ('[models.a]\nrepo = ["acme/tiny"]\n', "repo: expected a string, got a list"),
        ('[models.a]\nrepo = "acme//tiny"\n', "'acme//tiny' is not a valid repo id"),
    ],
)
def test_bad_manifest_exits_2_with_one_clear_line(
    ws: Workspace, manifest: str, message: str
) -> None:
    ws.write(manifest)
    result = ws.cli("lock")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: models.toml")
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_toml_names_the_line(ws: Workspace) -> None:
    ws.write('[models.a]\nrepo = "acme/tiny"\nrevision = main\n')
    result = ws.cli("lock")
    assert result.exit_code == 2
    assert "line 3" in result.stderr


@pytest.mark.parametrize(
    ("entry", "message", "hint", "code"),
    [
        ('repo = "acme/nope"', "acme/nope was not found on", "check the repo id", 1),
        (
            'repo = "acme/tiny"\nrevision = "v9"',
            "revision 'v9' was not found in acme/tiny",
            "check the branch, tag or commit",
            1,
        ),
        (
            'repo = "acme/tiny"\nrevision = "' + "0" * 40 + '"',
            "was not found in acme/tiny",
            "check the branch",
            1,
        ),
        (
            'repo = "acme/tiny"\ninclude = ["*.onnx"]',
            "select no file of acme/tiny",
            "loosen the patterns",
            2,
        ),
    ],
)
def test_hub_side_errors_are_one_line_and_a_hint(
    ws: Workspace, entry: str, message: str, hint: str, code: int
) -> None:
    ws.write(f"[models.a]\n{entry}\n")
    result = ws.cli("sync")
    assert result.exit_code == code
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert lines[1].startswith("hint: ") and hint in lines[1]
    assert len(lines) == 2


def test_gated_repo_needs_a_token_with_access(
    ws: Workspace, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    gated = hub.create_repo("acme/gated", gated=True)
    gated.commit({"config.json": b"{}", "model.safetensors": b"w" * 1000})
    ws.write('[models.g]\nrepo = "acme/gated"\n')
    result = ws.cli("sync")
    assert result.exit_code == 1
    assert "error: acme/gated is gated" in result.stderr
    assert "HF_TOKEN" in result.stderr and "accept the licence" in result.stderr
    assert f"{hub.endpoint}/acme/gated" in result.stderr
    hub.add_token("hf_other_token_000", repos=["acme/tiny"])
    monkeypatch.setenv("HF_TOKEN", "hf_other_token_000")
    assert ws.cli("sync").exit_code == 1
    hub.add_token("hf_granted_token_111", repos=["acme/gated"])
    monkeypatch.setenv("HF_TOKEN", "hf_granted_token_111")
    granted = ws.cli("sync")
    assert granted.exit_code == 0, granted.stderr
    assert ws.files("models/g")["model.safetensors"] == b"w" * 1000


def test_unreachable_endpoint_is_a_network_error(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    result = ws.cli("lock")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot reach http://127.0.0.1:{port}")
    assert "hint:" in result.stderr


def test_settings_endpoint_is_used_when_hf_endpoint_is_unset(
    ws: Workspace, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_ENDPOINT")
    ws.write(f'[settings]\nendpoint = "{hub.endpoint}"\n\n[models.a]\nrepo = "acme/tiny"\n')
    result = ws.cli("sync")
    assert result.exit_code == 0, result.stderr
    assert hub.request_count > 0


def test_hf_endpoint_wins_over_the_settings_endpoint(
    ws: Workspace, hub: TestHub, tmp_path: Path
) -> None:
    with TestHub(tmp_path / "other-hub") as other:  # the manifest's; never asked
        ws.write(f'[settings]\nendpoint = "{other.endpoint}"\n\n[models.a]\nrepo = "acme/tiny"\n')
        result = ws.cli("sync")
        assert result.exit_code == 0, result.stderr
        assert hub.request_count > 0 and other.request_count == 0


def test_corrupted_bytes_are_rejected_with_file_expected_and_actual(
    ws: Workspace, hub: TestHub
) -> None:
    ws.write('[models.a]\nrepo = "acme/tiny"\ninclude = ["model.safetensors"]\n')
    assert ws.cli("lock").exit_code == 0
    hub.add_fault(Fault(kind="corrupt", origin="cdn", after_bytes=1000, times=None))
    result = ws.cli("sync")
    assert result.exit_code == 1
    assert "error: a/model.safetensors: downloaded bytes do not match the lock" in result.stderr
    lock = read_lock(ws.root / "models.lock")
    assert lock is not None
    expected = lock.models[0].files[0].digest
    assert f"expected {expected}" in result.stderr
    assert not (ws.root / "models/a/model.safetensors").exists(), "nothing unverified is placed"
    assert not [p for p in ws.store.rglob("objects/**/*") if p.is_file()]
    hub.clear_faults()
    assert ws.cli("sync").exit_code == 0
    data = (ws.root / "models/a/model.safetensors").read_bytes()
    assert hashlib.sha256(data).hexdigest() == expected.hexdigest
