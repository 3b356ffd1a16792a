"""Pins that survive their source: a repo renamed on the Hub, a locked commit that vanished
(super-squash, force-push), and Xet-backed files served through the Hub's bridge (a CDN
that refuses a large body without ``Range`` and whose signed links expire)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support import Workspace, make_workspace, random_bytes

from modelpm.lockfile import read_lock
from modelpm.testing import Fault, TestHub

MiB = 1024 * 1024
FILES = {"config.json": b'{"model_type": "bert"}\n', "model.safetensors": random_bytes(MiB, 5)}


@pytest.fixture
def ws(tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return make_workspace(tmp_path, hub, monkeypatch)


def renamed(hub: TestHub) -> None:
    hub.create_repo("bert-base-chinese").commit(FILES)
    hub.rename_repo("bert-base-chinese", "google-bert/bert-base-chinese")


def hints(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("hint: ")]


def test_a_renamed_repo_resolves_hints_its_new_id_once_and_the_lock_stays_fresh(
    ws: Workspace, hub: TestHub
) -> None:
    renamed(hub)
    ws.write('[models.bert-zh]\nrepo = "bert-base-chinese"\n')
    result = ws.cli("sync")
    assert result.exit_code == 0, result.stderr
    assert hints(result.stderr) == [
        "hint: the repo of bert-zh is now called google-bert/bert-base-chinese; write repo = "
        '"google-bert/bert-base-chinese" in models.toml (the old id still works, by redirect)'
    ]
    assert ws.files("models/bert-zh") == FILES
    lock = read_lock(ws.root / "models.lock")
    assert lock is not None and lock.models[0].repo == "bert-base-chinese"
    assert ws.cli("lock", "--check").exit_code == 0
    again = ws.cli("lock")
    assert again.exit_code == 0 and hints(again.stderr) == [], "once: a kept pin asks nothing"
    assert any(r.status == 307 for r in hub.requests)


def test_add_writes_the_canonical_id(ws: Workspace, hub: TestHub) -> None:
    renamed(hub)
    ws.write("")
    result = ws.cli("add", "bert-base-chinese", "--name", "bert-zh")
    assert result.exit_code == 0, result.stderr
    assert "note: bert-base-chinese is now called google-bert/bert-base-chinese" in result.stderr
    assert (ws.root / "models.toml").read_text() == (
        '[models.bert-zh]\nrepo = "google-bert/bert-base-chinese"\n'
    )
    assert ws.cli("lock", "--check").exit_code == 0
    assert ws.files("models/bert-zh") == FILES


def locked_then_squashed(ws: Workspace, hub: TestHub, manifest: str) -> str:
    """Lock and sync from the Hub, then rewrite the Hub's history: the locked commit is gone."""
    repo = hub.create_repo("acme/bert")
    repo.commit({"config.json": b"{}"})
    locked = repo.commit(FILES)
    hub.create_repo("mirror/bert", site="modelscope").commit(FILES)
    ws.write(manifest)
    assert ws.cli("sync").exit_code == 0
    repo.squash()
    assert locked not in repo.commits
    return locked


def test_a_vanished_commit_syncs_from_the_store_without_a_request(
    tmp_path: Path, ws: Workspace, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked_then_squashed(ws, hub, '[models.bert]\nrepo = "acme/bert"\n')
    other = make_workspace(tmp_path, hub, monkeypatch, "other")
    monkeypatch.setenv("MODELPM_HOME", str(ws.store))
    for name in ("models.toml", "models.lock"):
        shutil.copy(ws.root / name, other.root / name)
    hub.reset_stats()
    result = other.cli("sync", "--locked")
    assert result.exit_code == 0, result.stderr
    assert other.files("models/bert") == FILES and hub.request_count == 0


def test_a_vanished_commit_syncs_from_a_mirror_and_says_why_without_one(
    ws: Workspace, hub: TestHub
) -> None:
    manifest = '[models.bert]\nrepo = "acme/bert"\nmirrors = ["modelscope:mirror/bert"]\n'
    locked = locked_then_squashed(ws, hub, manifest)
    shutil.rmtree(ws.root / "models")
    shutil.rmtree(ws.store)
    result = ws.cli("sync", "--locked")
    assert result.exit_code == 0, result.stderr
    assert ws.files("models/bert") == FILES
    assert "from modelscope:mirror/bert (" in result.stderr
    shutil.rmtree(ws.root / "models")
    shutil.rmtree(ws.store)
    ws.write('[models.bert]\nrepo = "acme/bert"\n')
    result = ws.cli("sync", "--locked")
    assert result.exit_code == 1
    assert result.error.splitlines()[0].startswith(
        f"error: the locked commit {locked[:12]} of acme/bert is no longer on {hub.endpoint} "
        "(its history was rewritten)"
    )


def test_outdated_reports_a_locked_commit_no_longer_on_the_source(
    ws: Workspace, hub: TestHub
) -> None:
    locked = locked_then_squashed(ws, hub, '[models.bert]\nrepo = "acme/bert"\n')
    table = ws.cli("outdated")
    assert table.exit_code == 0, table.stderr
    assert "locked commit no longer on the source" in table.stdout
    (row,) = json.loads(ws.cli("outdated", "--json").stdout)
    assert row["locked_commit"] == locked and row["locked_commit_on_source"] is False
    assert row["current_commit"] == hub.repo("acme/bert").resolve("main")


def test_the_xet_bridge_refuses_whole_large_bodies_and_sync_still_completes(
    ws: Workspace, hub: TestHub
) -> None:
    data = random_bytes(66 * MiB, 6)
    hub.create_repo("acme/xet").commit({"model.safetensors": data})
    hub.bridge(threshold=8 * MiB, link_lifetime=3600)
    ws.write('[models.x]\nrepo = "acme/xet"\n')
    result = ws.cli("sync", "--connections", "1")
    assert result.exit_code == 0, result.stderr
    cdn = [r for r in hub.requests if r.origin == "cdn"]
    assert [r.status for r in cdn] == [206] and cdn[0].headers[
        "range"
    ] == f"bytes=0-{len(data) - 1}"
    assert ws.cli("verify").exit_code == 0


def test_the_xet_bridge_links_expire_and_are_located_again(ws: Workspace, hub: TestHub) -> None:
    data = random_bytes(70 * MiB, 7)
    hub.create_repo("acme/xet").commit({"model.safetensors": data})
    hub.bridge(threshold=8 * MiB, link_lifetime=1)
    # A 16 MiB piece takes 1.3 s: every piece after the first two is asked for after the
    # first link (valid for at most 1 s: expiry is a whole second) expired.
    hub.add_fault(Fault("throttle", origin="cdn", rate=12 * MiB, times=None))
    ws.write('[models.x]\nrepo = "acme/xet"\n')
    result = ws.cli("sync", "--connections", "2")
    assert result.exit_code == 0, result.stderr
    expired = [r for r in hub.requests if r.origin == "cdn" and r.status == 403]
    located = [r for r in hub.requests if "/resolve/" in r.path]
    assert expired and len(located) >= 2
    assert ws.cli("verify").exit_code == 0
