"""Nothing unverified is ever visible, and no failure loses what was there:
kill -9 at random moments, concurrent syncs, full disks, things in the way, hostile hubs."""

from __future__ import annotations

import errno
import os
import random
import shutil
import signal
import time
from pathlib import Path

import pytest
from support import (
    Workspace,
    all_text_under,
    make_workspace,
    modelpm_process,
    random_bytes,
    use_token,
    wait_until,
)

from modelpm.hashing import hash_file
from modelpm.testing import Fault, TestHub
from modelpm.values import Digest

MiB = 1024 * 1024
KILL_TRIALS = 20

MANIFEST = """\
[models.weights]
repo = "acme/weights"
"""


@pytest.fixture
def ws(tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    workspace = make_workspace(tmp_path, hub, monkeypatch)
    hub.create_repo("acme/weights").commit(
        {
            "config.json": b'{"layers": 2}',
            "model-1.safetensors": random_bytes(12 * MiB, 1),
            "model-2.safetensors": random_bytes(3 * MiB, 2),
            **{f"extra/{i}.json": f'{{"i": {i}}}'.encode() for i in range(8)},
        }
    )
    workspace.write(MANIFEST)
    return workspace


def store_is_consistent(store: Path) -> None:
    """Every object in the store hashes to its name."""
    objects = store / "objects"
    for path in objects.rglob("*") if objects.exists() else []:
        if path.is_file():
            digest = Digest.parse(path.parent.parent.name, path.name)
            assert hash_file(path, digest.algorithm) == digest, f"corrupt object {path}"


def no_stray_files(dest: Path) -> None:
    strays = [p for p in dest.rglob("*") if p.name.startswith(".modelpm-tmp-")]
    assert not strays, strays


def test_kill_minus_nine_at_random_moments_never_leaves_a_bad_state(
    ws: Workspace, hub: TestHub
) -> None:
    assert ws.cli("lock").exit_code == 0
    dest = ws.root / "models/weights"
    total = 15 * MiB
    rng = random.Random(1234)
    mid_transfer = 0
    for _trial in range(KILL_TRIALS):
        # Start each trial with the objects gone (partials stay: they are what resumes),
        # so every kill lands on a sync with work to do.
        shutil.rmtree(ws.store / "objects", ignore_errors=True)
        shutil.rmtree(dest, ignore_errors=True)
        hub.add_fault(Fault("throttle", origin="cdn", rate=8 * MiB, times=None))
        hub.reset_stats()
        process = modelpm_process(ws, "sync")
        # The moment of the kill is this trial's input, drawn at random (seeded), not a wait
        # for anything.
        if _trial % 4 == 0:  # any moment from start-up on: lock files, planning, first bytes
            time.sleep(rng.uniform(0.05, 0.6))
        else:  # a moment while bytes flow (12 MiB at 8 MiB/s on one connection)
            wait_until(
                lambda p=process: hub.bytes_sent > 0 or p.poll() is not None,  # type: ignore[misc]
                30,
                "the first bytes",
            )
            time.sleep(rng.uniform(0.0, 1.2))
        running = process.poll() is None
        process.send_signal(signal.SIGKILL)
        process.wait()
        if process.stderr:
            process.stderr.close()
        if running and 0 < hub.bytes_sent < total:
            mid_transfer += 1
        # Whatever is visible in the destination is verified: complete and correct.
        result = ws.cli("verify")
        for line in result.stderr.splitlines():
            # Never a modified file; a killed run may leave a temp name, which the next
            # sync removes.
            assert line.startswith(("ok ", "missing ", "hint: ")) or (
                line.startswith("unexpected ") and ".modelpm-tmp-" in line
            ), line
        store_is_consistent(ws.store)
        hub.clear_faults()
        rerun = ws.cli("sync")  # every rerun completes, from where the kill left it
        assert rerun.exit_code == 0, rerun.stderr
        assert ws.cli("verify").exit_code == 0
        no_stray_files(ws.root / "models")
        assert not list((ws.store / "partial").glob("*")), "finished downloads leave no partial"
        store_is_consistent(ws.store)
    assert mid_transfer >= KILL_TRIALS // 2, f"only {mid_transfer} kills hit a transfer"


def test_two_syncs_at_once_on_one_project_and_store(ws: Workspace, hub: TestHub) -> None:
    hub.add_fault(Fault("throttle", origin="cdn", rate=20 * MiB, times=None))
    assert ws.cli("lock").exit_code == 0
    hub.reset_stats()
    first, second = modelpm_process(ws, "sync"), modelpm_process(ws, "sync")
    for process in (first, second):
        assert process.wait(timeout=60) == 0
        if process.stderr:
            process.stderr.close()
    assert ws.cli("verify").exit_code == 0
    total = 15 * MiB  # the 3 MiB file twice would be 18 MiB
    assert hub.bytes_sent < total + 2 * MiB, "each file downloaded once"
    store_is_consistent(ws.store)
    assert list((ws.store / "locks").iterdir()) == [], "a store at rest holds no lock file"


def test_disk_full_is_one_clear_line_and_keeps_the_previous_state(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ws.cli("sync").exit_code == 0
    ws.hub.repo("acme/weights").commit({"model-3.safetensors": random_bytes(2 * MiB, 3)})
    assert ws.cli("lock", "--upgrade").exit_code == 0
    before = ws.files("models/weights")

    def full(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full)
    result = ws.cli("sync")
    assert result.exit_code == 1
    lines = result.error.splitlines()
    assert lines[0].startswith("error: cannot write ") and "No space left on device" in lines[0]
    assert str(ws.store / "partial") in lines[0]
    assert lines[1].startswith("hint: free space on the disk holding")
    assert ws.files("models/weights") == before, "previous files intact"
    store_is_consistent(ws.store)
    monkeypatch.undo()


def test_a_file_where_the_destination_folder_should_be(ws: Workspace) -> None:
    (ws.root / "models").mkdir()
    (ws.root / "models/weights").write_text("not a folder")
    result = ws.cli("sync")
    assert result.exit_code == 1
    assert result.error.startswith("error: cannot place ")
    assert "hint: " in result.stderr
    assert (ws.root / "models/weights").read_text() == "not a folder"


def test_modified_placed_file_is_restored_even_through_a_hard_link(ws: Workspace) -> None:
    assert ws.cli("sync").exit_code == 0
    config = ws.root / "models/weights/config.json"
    with config.open("r+b") as handle:  # edit in place: the store object shares the inode
        handle.write(b"X")
    assert ws.cli("verify").exit_code == 1
    repaired = ws.cli("sync")
    assert repaired.exit_code == 0, repaired.stderr
    assert "restored models/weights/config.json" in repaired.stderr
    assert config.read_bytes() == b'{"layers": 2}'
    store_is_consistent(ws.store)


@pytest.mark.parametrize(
    "evil",
    [
        "../escape.json",
        "a/../../escape.json",
        "dir\\file.json",
        "tab\there.json",
        "x" * 300 + ".json",
    ],
)
def test_hostile_paths_from_the_hub_are_refused(ws: Workspace, hub: TestHub, evil: str) -> None:
    hub.create_repo("acme/evil").commit({evil: b"pwned", "ok.json": b"{}"})
    ws.write('[models.evil]\nrepo = "acme/evil"\n')
    result = ws.cli("sync")
    assert result.exit_code == 1
    assert "listed a file of acme/evil that modelpm refuses" in result.stderr
    assert not (ws.root / "escape.json").exists() and not (ws.root.parent / "escape.json").exists()
    assert not (ws.root / "models.lock").exists()


def test_token_never_leaks_into_files_or_output(
    ws: Workspace, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = use_token(hub, monkeypatch, "hf_leakcheck_0123456789abcdef")
    hub.add_fault(Fault("status", origin="cdn", status=503, times=2))
    outputs = [ws.cli("sync", "-v"), ws.cli("status", "--json"), ws.cli("verify", "--json")]
    hub.add_fault(Fault("status", origin="hub", status=500, times=None))
    outputs.append(ws.cli("lock", "--upgrade"))
    for output in outputs:
        assert token not in output.stdout + output.stderr
        assert output.exception is None or token not in repr(output.exception)
    assert token not in all_text_under(ws.root, ws.store)
    cdn = [r for r in hub.requests if r.origin == "cdn"]
    assert cdn and all("authorization" not in r.headers for r in cdn)
