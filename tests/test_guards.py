"""What a user, a hand-edited file or a hostile server can put in the way, and how modelpm
refuses it: links out of the project, edits through a hard link, a lock naming another repo,
a listing that sends the next page elsewhere, names modelpm uses for its own temp files."""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import pytest
from support import Workspace, make_workspace, mounted, needs_root, random_bytes, use_token

from modelpm.errors import Interrupted
from modelpm.hashing import digest_bytes
from modelpm.plan.tasks import FileTask
from modelpm.sources.hf.source import HfSource
from modelpm.store.local import Store
from modelpm.testing import TestHub
from modelpm.transfer.engine import Downloader, always
from modelpm.transfer.http import HttpPool
from modelpm.values import Commit, RepoRef

MANIFEST = '[models.m]\nrepo = "acme/m"\n'
FILES = {
    "config.json": b'{"num_labels": 2}',
    "nested/a.txt": b"nested\n",
    "model.safetensors": random_bytes(300_000, 7),
}


@pytest.fixture
def ws(tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    workspace = make_workspace(tmp_path, hub, monkeypatch)
    hub.create_repo("acme/m").commit(FILES)
    workspace.write(MANIFEST)
    return workspace


def edit_in_place(path: Path, data: bytes) -> None:
    """Write into the existing inode, as an editor that keeps hard links does."""
    path.chmod(0o644)
    with path.open("r+b") as handle:
        handle.write(data)


def test_an_edit_through_a_hard_link_never_reaches_another_project(
    ws: Workspace, hub: TestHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ws.cli("sync").exit_code == 0
    config = ws.root / "models/m/config.json"
    edit_in_place(config, b'{"num_labels": 3}')  # same size: only the hash can tell
    other = make_workspace(tmp_path, hub, monkeypatch, name="other")
    other.store = ws.store
    monkeypatch.setenv("MODELPM_HOME", str(ws.store))
    other.write(MANIFEST)
    (other.root / "models.lock").write_bytes((ws.root / "models.lock").read_bytes())
    result = other.cli("sync")
    assert result.exit_code == 0, result.stderr
    assert (other.root / "models/m/config.json").read_bytes() == FILES["config.json"]
    assert other.cli("verify").exit_code == 0
    # and the project it was edited in gets the locked bytes back, said out loud
    repaired = ws.cli("sync", "--project", str(ws.root))  # the cwd is the other project now
    assert "restored models/m/config.json" in repaired.stderr
    assert config.read_bytes() == FILES["config.json"]


def test_placed_files_carry_the_store_time_so_an_edit_shows(ws: Workspace) -> None:
    assert ws.cli("sync").exit_code == 0
    placed = ws.root / "models/m/model.safetensors"
    assert placed.stat().st_mtime_ns == 1_000_000_000  # as committed to the store
    edit_in_place(placed, b"x")
    assert placed.stat().st_mtime_ns != 1_000_000_000


@pytest.mark.parametrize(("link", "target"), [("models/m", "outside"), ("models", "outside")])
def test_a_dest_that_a_link_leads_out_of_the_project_is_refused(
    ws: Workspace, tmp_path: Path, link: str, target: str
) -> None:
    outside = tmp_path / target
    outside.mkdir()
    (ws.root / link).parent.mkdir(parents=True, exist_ok=True)
    (ws.root / link).symlink_to(outside, target_is_directory=True)
    result = ws.cli("sync")
    assert result.exit_code == 2, result.stderr
    assert "leads outside the project through a symbolic link" in result.error
    assert list(outside.iterdir()) == []


def test_a_link_inside_a_dest_is_not_followed_out(ws: Workspace, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (ws.root / "models/m").mkdir(parents=True)
    (ws.root / "models/m/nested").symlink_to(outside, target_is_directory=True)
    result = ws.cli("sync")
    assert result.exit_code == 1
    assert "a symbolic link in its way leads out of models/m" in result.error
    assert list(outside.iterdir()) == []


def test_a_lock_that_names_another_repo_is_stale_even_with_the_right_fingerprint(
    ws: Workspace, hub: TestHub
) -> None:
    hub.create_repo("evil/m").commit({"payload.pkl": b"cos\nsystem\n"})
    ws.write('[models.m]\nrepo = "evil/m"\n')
    assert ws.cli("lock").exit_code == 0
    evil_lock = (ws.root / "models.lock").read_text()
    ws.write(MANIFEST)
    assert ws.cli("lock").exit_code == 0
    good = re.search(r'fingerprint = "(.*)"', (ws.root / "models.lock").read_text())
    assert good is not None
    forged = re.sub(r'fingerprint = ".*"', f'fingerprint = "{good.group(1)}"', evil_lock)
    (ws.root / "models.lock").write_text(forged)
    check = ws.cli("lock", "--check")
    assert check.exit_code == 1 and "changed in models.toml: m" in check.error
    assert ws.cli("sync", "--locked").exit_code == 1
    assert not (ws.root / "models/m/payload.pkl").exists()
    relocked = ws.cli("lock")  # re-resolves rather than keeping the forged pins
    assert relocked.exit_code == 0
    assert "evil/m" not in (ws.root / "models.lock").read_text()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("repo-type", "bogus", "'repo-type' must be one of model, dataset, space"),
        ("repo", "acme/../../x", "'repo' 'acme/../../x' is not a repo id"),
    ],
)
def test_a_lock_with_an_impossible_repo_is_a_usage_error(
    ws: Workspace, field: str, value: str, message: str
) -> None:
    assert ws.cli("lock").exit_code == 0
    lock = ws.root / "models.lock"
    lock.write_text(
        re.sub(rf'^{field} = ".*"$', f'{field} = "{value}"', lock.read_text(), flags=re.M)
    )
    for args in (["sync"], ["sync", "--frozen"], ["status"]):
        result = ws.cli(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert message in result.error


def test_a_next_page_on_another_host_never_gets_the_token(
    ws: Workspace, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_token(hub, monkeypatch, "hf_pagecheck_0123456789abcdef")
    hub.page_size = 1
    hub.next_page_origin = hub.cdn_endpoint  # stands in for another host
    ws.cli("lock")
    elsewhere = [r for r in hub.requests if r.origin == "cdn"]
    assert elsewhere, "the listing did follow the link"
    assert all("authorization" not in r.headers for r in elsewhere)
    assert any("authorization" in r.headers for r in hub.requests if r.origin == "hub")


def test_files_named_like_modelpm_temp_files_are_left_alone(ws: Workspace, hub: TestHub) -> None:
    hub.repo("acme/m").commit({".modelpm-tmp-notes.txt": b"shipped by the repo"})
    assert ws.cli("sync").exit_code == 0
    mine = ws.root / "models/m/sub/.modelpm-tmp-my-own-file"
    mine.parent.mkdir()
    mine.write_text("mine")
    stray = ws.root / "models/m/.modelpm-tmp-0123456789ab-config.json"  # a killed run's
    stray.write_text("half")
    (ws.root / "models/m/config.json").unlink()
    assert ws.cli("sync").exit_code == 0
    assert (ws.root / "models/m/.modelpm-tmp-notes.txt").read_bytes() == b"shipped by the repo"
    assert mine.read_text() == "mine"
    assert not stray.exists()


def test_a_file_the_user_put_at_a_locked_path_is_replaced_out_loud(ws: Workspace) -> None:
    (ws.root / "models/m").mkdir(parents=True)
    (ws.root / "models/m/config.json").write_text('{"my": "own, longer config"}')
    result = ws.cli("sync")
    assert result.exit_code == 0
    assert "restored models/m/config.json: its content differed from the lock" in result.stderr
    assert ws.cli("verify").exit_code == 0


def test_ctrl_c_does_not_wait_for_another_process_holding_the_object(
    hub: TestHub, tmp_path: Path
) -> None:
    data = random_bytes(1000, 3)
    commit = Commit(hub.create_repo("acme/w").commit({"w.bin": data}))
    store = Store(tmp_path / "store")
    digest = digest_bytes("git-sha1", data)
    task = FileTask("w", "hf", RepoRef("acme/w"), commit, "w.bin", "models/w/w.bin", 1000, digest)
    cancel = threading.Event()
    outcome: list[BaseException] = []

    def fetch() -> None:
        with HttpPool(timeout=30) as pool:
            try:
                Downloader(always(HfSource(hub.endpoint, None)), store, pool).fetch(task, cancel)
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                outcome.append(exc)

    with store.locked(digest):  # another process is downloading this object
        # Ctrl-C already came: the wait for the other process must end at its next check,
        # not when the other process lets go.
        cancel.set()
        worker = threading.Thread(target=fetch)
        began = time.monotonic()
        worker.start()
        worker.join(timeout=5)
        waited = time.monotonic() - began
    assert not worker.is_alive()
    assert waited < 2
    assert len(outcome) == 1 and isinstance(outcome[0], Interrupted)
    assert hub.request_count == 0


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MODELPM_CONNECTIONS", "abc", "MODELPM_CONNECTIONS must be a whole number"),
        ("MODELPM_STALL_TIMEOUT", "soon", "MODELPM_STALL_TIMEOUT must be a number of seconds"),
        ("MODELPM_RETRY_DELAY", "-1", "MODELPM_RETRY_DELAY must be a number of seconds"),
        ("MODELPM_JOBS", "0", "MODELPM_JOBS must be a whole number of at least 1"),
    ],
)
def test_bad_environment_values_are_usage_errors(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    result = ws.cli("sync")
    assert result.exit_code == 2, result.stderr
    assert message in result.error
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_hf_hub_offline_means_offline(
    ws: Workspace, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ws.cli("sync").exit_code == 0
    os.remove(ws.root / "models/m/config.json")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub.reset_stats()
    assert ws.cli("sync").exit_code == 0  # from the store
    locked = ws.cli("lock", "--upgrade")
    assert locked.exit_code == 1
    assert "HF_HUB_OFFLINE is set" in locked.error
    assert hub.request_count == 0


@needs_root
def test_a_read_only_destination_is_one_clear_line(ws: Workspace) -> None:
    # A real read-only file system: its answer binds root too (permission bits do not).
    with mounted(ws.root / "models", read_only=True):
        result = ws.cli("sync")
    assert result.exit_code == 1
    lines = result.error.splitlines()
    assert lines[0].startswith("error: cannot place ") and "Read-only file system" in lines[0]
    assert lines[1].startswith("hint: ") and "read-only file system" in lines[1]
    ws.hub.reset_stats()
    assert ws.cli("sync").exit_code == 0
    assert ws.hub.bytes_sent == 0, "what was downloaded waited in the store"
    assert ws.cli("verify").exit_code == 0


def test_a_lock_claiming_more_bytes_than_the_server_has_is_one_line(ws: Workspace) -> None:
    assert ws.cli("lock").exit_code == 0
    lock = ws.root / "models.lock"
    size = len(FILES["model.safetensors"])
    text = lock.read_text()
    assert text.count(f"size = {size},") == 1
    lock.write_text(text.replace(f"size = {size},", f"size = {size + 3 * 2**20},"))
    result = ws.cli("sync", "--frozen")
    assert result.exit_code == 1
    lines = result.error.splitlines()
    assert lines[0].startswith("error: m/model.safetensors: the server has fewer bytes than")
    assert lines[1].startswith("hint: ") and len(lines) == 2
    assert not (ws.root / "models/m/model.safetensors").exists()


def test_a_store_object_whose_time_moved_is_hashed_again_not_fetched_again(
    ws: Workspace, hub: TestHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ws.cli("sync").exit_code == 0
    objects = [p for p in (ws.store / "objects").rglob("*") if p.is_file()]
    for path in objects:
        os.utime(path)  # `touch`: the bytes are intact, the time is not the store's
    other = make_workspace(tmp_path, hub, monkeypatch, name="other")
    monkeypatch.setenv("MODELPM_HOME", str(ws.store))
    other.write(MANIFEST)
    (other.root / "models.lock").write_bytes((ws.root / "models.lock").read_bytes())
    hub.reset_stats()
    assert other.cli("sync").exit_code == 0
    assert hub.bytes_sent == 0, "intact objects are vouched for by their hash"
    assert all(p.stat().st_mtime_ns == 1_000_000_000 for p in objects)
    assert other.cli("verify").exit_code == 0
