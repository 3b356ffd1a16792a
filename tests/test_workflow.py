"""The everyday loop: init, add, remove, lock flags, sync modes, outdated, JSON, Python API."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support import MANIFEST, Workspace, build_repos, make_workspace

import modelpm
from modelpm.errors import NotSyncedError
from modelpm.lockfile import read_lock
from modelpm.testing import TestHub

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def ws(tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    workspace = make_workspace(tmp_path, hub, monkeypatch)
    build_repos(hub)
    return workspace


def test_init_writes_a_valid_commented_manifest_and_refuses_to_overwrite(ws: Workspace) -> None:
    assert ws.cli("init").exit_code == 0
    text = (ws.root / "models.toml").read_text()
    assert text.startswith("#") and "[settings]" in text
    assert ws.cli("status").exit_code == 0
    again = ws.cli("init")
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert (ws.root / "models.toml").read_text() == text


def test_add_keeps_every_byte_of_a_commented_manifest(ws: Workspace, hub: TestHub) -> None:
    shutil.copy(GOLDEN / "commented.toml", ws.root / "models.toml")
    result = ws.cli(
        "add",
        "acme/tiny",
        "--name",
        "dev",
        "--revision",
        "feature/x",
        "--include",
        "*.safetensors",
        "--include",
        "config.json",
        "--exclude",
        "*.h5",
        "--dest",
        "weights/dev",
    )
    assert result.exit_code == 0, result.stderr
    assert (ws.root / "models.toml").read_text() == (GOLDEN / "commented.add.toml").read_text()
    lock = read_lock(ws.root / "models.lock")
    assert lock is not None and lock.get("dev") is not None
    assert lock.get("dev").commit == hub.repo("acme/tiny").resolve("feature/x")  # type: ignore[union-attr]
    assert sorted(ws.files("weights/dev")) == ["config.json", "model.safetensors"]
    assert "added dev: acme/tiny @ feature/x" in result.stderr


def test_add_refuses_duplicates_and_leaves_files_untouched_on_hub_errors(ws: Workspace) -> None:
    shutil.copy(GOLDEN / "commented.toml", ws.root / "models.toml")
    before = (ws.root / "models.toml").read_bytes()
    duplicate = ws.cli("add", "acme/tiny", "--name", "bert", "--no-sync")
    assert duplicate.exit_code == 2 and "a model named 'bert' already exists" in duplicate.stderr
    same_dest = ws.cli("add", "acme/tiny", "--name", "b2", "--dest", "models/bert", "--no-sync")
    assert same_dest.exit_code == 2 and "have the same dest" in same_dest.stderr
    missing = ws.cli("add", "acme/does-not-exist", "--no-sync")
    assert missing.exit_code == 1 and "was not found" in missing.stderr
    assert (ws.root / "models.toml").read_bytes() == before
    assert not (ws.root / "models.lock").exists()


def test_add_default_name_and_no_sync(ws: Workspace) -> None:
    ws.write("")
    result = ws.cli("add", "acme/squad", "--repo-type", "dataset", "--no-sync")
    assert result.exit_code == 0, result.stderr
    assert (
        '[models.squad]\nrepo = "acme/squad"\nrepo-type = "dataset"\n'
        in (ws.root / "models.toml").read_text()
    )
    assert not (ws.root / "models/squad").exists()


def test_remove_cuts_one_table_its_lock_entry_and_only_files_modelpm_placed(
    ws: Workspace,
) -> None:
    shutil.copy(GOLDEN / "commented.toml", ws.root / "models.toml")
    assert ws.cli("sync").exit_code == 0
    mine = ws.root / "models/bert/notes.txt"
    mine.write_text("my notes")
    result = ws.cli("remove", "bert")
    assert result.exit_code == 0, result.stderr
    assert (ws.root / "models.toml").read_text() == (GOLDEN / "commented.remove.toml").read_text()
    lock = read_lock(ws.root / "models.lock")
    assert lock is not None and [m.name for m in lock.models] == ["squad"]
    assert mine.read_text() == "my notes"
    assert [p.name for p in (ws.root / "models/bert").iterdir()] == ["notes.txt"]
    assert (ws.root / "models/squad/README.md").exists()
    assert ws.cli("lock", "--check").exit_code == 0
    unknown = ws.cli("remove", "bert")
    assert unknown.exit_code == 2 and "no model named 'bert'" in unknown.stderr


def test_unchanged_entries_make_no_request_and_reordering_is_not_a_change(
    ws: Workspace, hub: TestHub
) -> None:
    ws.write(MANIFEST)
    assert ws.cli("lock").exit_code == 0
    lock_bytes = (ws.root / "models.lock").read_bytes()
    blocks = MANIFEST.split("\n\n")
    reordered = "\n\n".join([blocks[0], blocks[1], blocks[3], blocks[2]]) + "\n# a new comment\n"
    ws.write(
        reordered.replace(
            'include = ["*.json", "*.safetensors", "nested/"]',
            'include = ["nested/", "*.safetensors", "*.json"]',
        )
    )
    hub.reset_stats()
    assert ws.cli("lock").exit_code == 0
    assert ws.cli("lock", "--check").exit_code == 0
    assert hub.request_count == 0
    assert (ws.root / "models.lock").read_bytes() == lock_bytes
    ws.write(reordered.replace('revision = "feature/x"', 'revision = "main"'))
    hub.reset_stats()
    result = ws.cli("lock")
    assert result.exit_code == 0
    assert "locked tiny-dev" in result.stderr and "locked tiny:" not in result.stderr
    assert {r.path.split("/")[4] for r in hub.requests if r.path.startswith("/api/")} == {"tiny"}


def test_upgrade_moves_only_what_is_asked(ws: Workspace, hub: TestHub) -> None:
    ws.write(MANIFEST)
    assert ws.cli("lock").exit_code == 0
    repo = hub.repo("acme/tiny")
    repo.commit({"config.json": b'{"v": 3}'}, branch="feature/x")
    hub.repo("acme/squad", "dataset").commit({"README.md": b"v2"})
    outdated = ws.cli("outdated", "--exit-code")
    assert outdated.exit_code == 1
    rows = {row["name"]: row for row in json.loads(ws.cli("outdated", "--json").stdout)}
    assert rows["tiny-dev"]["outdated"] and rows["squad"]["outdated"]
    assert not rows["tiny"]["outdated"]
    assert rows["tiny-dev"]["current_commit"] == repo.resolve("feature/x")
    assert rows["tiny-dev"]["current_date"] is not None
    assert ws.cli("lock", "--upgrade-model", "tiny-dev").exit_code == 0
    lock = read_lock(ws.root / "models.lock")
    assert lock is not None
    assert lock.get("tiny-dev").commit == repo.resolve("feature/x")  # type: ignore[union-attr]
    assert lock.get("squad").commit != hub.repo("acme/squad", "dataset").resolve("main")  # type: ignore[union-attr]
    assert ws.cli("lock", "--upgrade").exit_code == 0
    assert ws.cli("outdated", "--exit-code").exit_code == 0


@pytest.mark.parametrize(
    ("lock_state", "flags", "exit_code", "message"),
    [
        ("fresh", ["--locked"], 0, ""),
        ("stale", ["--locked"], 1, "models.lock is out of date: changed in models.toml: tiny"),
        ("missing", ["--locked"], 1, "not locked yet: tiny, tiny-dev, squad"),
        ("stale", ["--frozen"], 0, ""),
        ("missing", ["--frozen"], 2, "--frozen needs models.lock"),
        ("stale", [], 0, ""),
        ("missing", [], 0, ""),
        ("stale", ["--offline"], 1, "offline mode forbids resolving"),
        ("missing", ["--offline"], 1, "offline mode forbids resolving: not locked yet"),
        ("fresh", ["--offline"], 1, "offline, and 9 files are not in the store"),
        ("fresh", ["--frozen"], 0, ""),
        ("renamed", ["--frozen"], 1, "--frozen: models.lock and models.toml name different"),
        ("renamed", ["--locked"], 1, "not locked yet: squad-renamed"),
    ],
)
def test_sync_modes_against_fresh_stale_and_missing_locks(
    ws: Workspace, hub: TestHub, lock_state: str, flags: list[str], exit_code: int, message: str
) -> None:
    ws.write(MANIFEST)
    if lock_state != "missing":
        assert ws.cli("lock").exit_code == 0
    if lock_state == "stale":
        ws.write(MANIFEST.replace('exclude = ["*.h5"]', 'exclude = ["*.h5", "README.md"]'))
    if lock_state == "renamed":
        ws.write(MANIFEST.replace("[models.squad]", "[models.squad-renamed]"))
    before = (ws.root / "models.lock").read_bytes() if lock_state != "missing" else None
    result = ws.cli("sync", *flags)
    assert result.exit_code == exit_code, result.stderr
    assert message in result.stderr
    if exit_code != 0 or "--frozen" in flags:
        after = (
            (ws.root / "models.lock").read_bytes() if (ws.root / "models.lock").exists() else None
        )
        assert after == before, "no silent re-lock"


@pytest.mark.parametrize(("lock_state", "exit_code"), [("fresh", 0), ("stale", 1), ("missing", 1)])
def test_lock_check(ws: Workspace, lock_state: str, exit_code: int) -> None:
    ws.write(MANIFEST)
    if lock_state != "missing":
        assert ws.cli("lock").exit_code == 0
    if lock_state == "stale":
        ws.write(MANIFEST + '\n[models.extra]\nrepo = "acme/tiny"\n')
    result = ws.cli("lock", "--check")
    assert result.exit_code == exit_code
    assert (ws.root / "models.lock").exists() == (lock_state != "missing")


def test_offline_sync_uses_the_store_or_names_what_is_missing(
    ws: Workspace, hub: TestHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws.write(MANIFEST)
    assert ws.cli("sync").exit_code == 0
    shutil.rmtree(ws.root / "models")
    hub.reset_stats()
    assert ws.cli("sync", "--offline").exit_code == 0
    assert hub.request_count == 0
    other = make_workspace(tmp_path, hub, monkeypatch, name="offline-other")
    shutil.copy(ws.root / "models.toml", other.root)
    shutil.copy(ws.root / "models.lock", other.root)
    result = other.cli("sync", "--offline")
    assert result.exit_code == 1
    assert "offline, and" in result.stderr and "files are not in the store" in result.stderr
    assert hub.request_count == 0


def test_sync_by_name_and_removal_of_files_the_lock_dropped(ws: Workspace) -> None:
    ws.write(MANIFEST)
    assert ws.cli("sync", "squad").exit_code == 0
    assert (ws.root / "models/squad").exists() and not (ws.root / "models/tiny").exists()
    assert ws.cli("sync").exit_code == 0
    ws.write(
        MANIFEST.replace('include = ["*.json", "*.safetensors", "nested/"]', 'include = ["*.json"]')
    )
    assert ws.cli("sync").exit_code == 0
    assert sorted(ws.files("models/tiny")) == ["config.json", "tokenizer.json"]
    assert not (ws.root / "models/tiny/nested").exists(), "emptied folders go too"
    assert ws.cli("verify").exit_code == 0
    unknown = ws.cli("sync", "nope")
    assert unknown.exit_code == 2 and "no model named 'nope'" in unknown.stderr


def test_json_outputs_are_stable(ws: Workspace) -> None:
    ws.write(MANIFEST)
    assert ws.cli("sync").exit_code == 0
    status = json.loads(ws.cli("status", "--json").stdout)
    assert [row["name"] for row in status] == ["tiny", "tiny-dev", "squad"]
    assert set(status[0]) == {
        "name",
        "repo",
        "repo_type",
        "revision",
        "commit",
        "files",
        "size",
        "dest",
        "state",
        "missing",
    }
    assert status[0]["state"] == "synced" and status[0]["missing"] == 0
    (ws.root / "models/tiny/config.json").unlink()
    partly = json.loads(ws.cli("status", "--json").stdout)[0]
    assert (partly["state"], partly["missing"], partly["files"]) == ("partly-synced", 1, 5)
    assert ws.cli("sync").exit_code == 0
    report = json.loads(ws.cli("verify", "--json").stdout)
    assert report["passed"] is True
    assert set(report["models"][0]) == {"name", "dest", "ok", "missing", "modified", "unexpected"}
    rows = json.loads(ws.cli("outdated", "--json").stdout)
    assert [row["name"] for row in rows] == ["tiny", "tiny-dev", "squad"]
    assert set(rows[0]) == {
        "name",
        "repo",
        "revision",
        "locked_commit",
        "current_commit",
        "locked_date",
        "current_date",
        "outdated",
        "locked_commit_on_source",  # issue 11: a locked commit gone from the source
    }


def test_project_discovery_upward_and_explicit(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws.write(MANIFEST)
    deep = ws.root / "src" / "pkg"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert ws.cli("lock").exit_code == 0
    assert (ws.root / "models.lock").exists()
    monkeypatch.chdir(ws.root.parent)
    assert ws.cli("status", "--project", str(ws.root)).exit_code == 0
    nowhere = ws.cli("status")
    assert nowhere.exit_code == 2 and "no models.toml in" in nowhere.stderr


def test_python_api(ws: Workspace, hub: TestHub) -> None:
    ws.write(MANIFEST)
    locked = modelpm.lock()
    assert set(locked.resolved) == {"tiny", "tiny-dev", "squad"}
    with pytest.raises(NotSyncedError, match="model 'tiny' is not synced"):
        modelpm.path("tiny")
    result = modelpm.sync(["tiny"], locked=True)
    assert result.report.downloaded > 0
    folder = modelpm.path("tiny")
    assert folder == ws.root / "models" / "tiny"
    assert (folder / "config.json").read_bytes() == b'{"hidden_size": 8}\n'
    assert modelpm.verify(["tiny"]).passed
    rows = {row.name: row for row in modelpm.status()}
    assert rows["tiny"].state == "synced" and rows["squad"].state == "not-synced"
    with pytest.raises(modelpm.ModelpmError) as caught:
        modelpm.path("nope")
    assert caught.value.exit_code == 2
