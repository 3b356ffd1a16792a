"""The project state is recorded as sync places files, so a killed run keeps the record
of what it placed; a state from an earlier build, a damaged one, or one that cannot be
written costs a re-hash or one clear line, never a wrong file."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from support import Workspace, make_workspace, modelpm_process, random_bytes, wait_until

from modelpm.hashing import hash_fd
from modelpm.project.layout import Project
from modelpm.project.state import PlacedFile, State, read_state, whole_and_untouched
from modelpm.project.state_writer import open_state_writer
from modelpm.testing import Fault, TestHub
from modelpm.values import Digest

MiB = 1024 * 1024
SMALL = 30


@pytest.fixture
def ws(tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    workspace = make_workspace(tmp_path, hub, monkeypatch)
    hub.create_repo("acme/m").commit(
        {
            **{f"rows/{index:02d}.json": f'{{"row": {index}}}'.encode() for index in range(SMALL)},
            "model.safetensors": random_bytes(24 * MiB, 7),
        }
    )
    workspace.write('[models.m]\nrepo = "acme/m"\n')
    return workspace


def count_hashing(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every placed file the placer hashes again (to vouch for bytes it has no record of)."""
    hashed: list[str] = []

    def counting(fd: int, *args: Any) -> Digest:
        hashed.append(os.readlink(f"/proc/self/fd/{fd}"))
        return hash_fd(fd, *args)

    monkeypatch.setattr("modelpm.place.placer.hash_fd", counting)
    return hashed


def test_a_killed_sync_keeps_the_record_of_every_file_it_placed(
    ws: Workspace, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ws.cli("lock").exit_code == 0
    hub.add_fault(Fault("throttle", origin="cdn", rate=MiB, times=None))  # the weights: ~6 s
    process = modelpm_process(ws, "sync")
    project = Project(ws.root)
    wait_until(
        lambda: len(read_state(project).files) >= SMALL or process.poll() is not None,
        30,
        "the small files recorded while the weights still download",
    )
    assert process.poll() is None, "the record was on disk only once the sync had finished"
    process.send_signal(signal.SIGKILL)
    process.wait()
    if process.stderr:
        process.stderr.close()
    recorded = read_state(project).files
    assert len(recorded) == SMALL and "models/m/model.safetensors" not in recorded
    for target, placed in recorded.items():
        assert placed.matches(os.stat(ws.root / target)), target
    hub.clear_faults()
    hashed = count_hashing(monkeypatch)
    assert ws.cli("sync").exit_code == 0
    assert hashed == [], "nothing placed before the kill is hashed again"
    assert ws.cli("verify").exit_code == 0


def test_a_state_from_an_earlier_build_is_trusted_then_replaced(
    ws: Workspace, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ws.cli("sync").exit_code == 0
    project = Project(ws.root)
    files = read_state(project).files
    # What earlier builds wrote: JSON in one piece, version 2.
    legacy = {
        "version": 2,
        "files": {
            name: {
                "digest": placed.digest.key,
                "size": placed.size,
                "mtime_ns": placed.mtime_ns,
                "inode": placed.inode,
                "ctime_ns": placed.ctime_ns,
            }
            for name, placed in files.items()
        },
    }
    for name in ("state.sqlite", "state.sqlite-wal", "state.sqlite-shm"):
        (project.state_dir / name).unlink(missing_ok=True)
    (project.state_dir / "state.json").write_text(json.dumps(legacy))
    assert read_state(project).files == files
    hashed = count_hashing(monkeypatch)
    hub.repo("acme/m").commit({"extra.json": b"{}"})
    assert ws.cli("lock", "--upgrade").exit_code == 0
    assert ws.cli("sync").exit_code == 0
    assert hashed == [], "the files the old state vouched for are not hashed again"
    assert not (project.state_dir / "state.json").exists()
    assert set(read_state(project).files) == {*files, "models/m/extra.json"}
    whole = whole_and_untouched(project)
    assert whole is not None and whole.files == len(files) + 1
    assert whole.models["m"].files == len(files) + 1


def test_a_damaged_state_costs_a_re_hash_and_is_replaced(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ws.cli("sync").exit_code == 0
    project = Project(ws.root)
    for name in ("state.sqlite-wal", "state.sqlite-shm"):
        (project.state_dir / name).unlink(missing_ok=True)
    (project.state_dir / "state.sqlite").write_bytes(b"not a database, " * 100)
    assert read_state(project) == State()
    hashed = count_hashing(monkeypatch)
    (ws.root / "models/m/rows/00.json").unlink()
    assert ws.cli("sync").exit_code == 0
    assert len(hashed) == SMALL, "every file still there is checked, none trusted blindly"
    assert len(read_state(project).files) == SMALL + 1
    assert ws.cli("verify").exit_code == 0


def test_a_state_that_cannot_be_written_is_one_line_and_places_nothing(ws: Workspace) -> None:
    (ws.root / ".modelpm" / "state.sqlite").mkdir(parents=True)  # a folder in its way
    result = ws.cli("sync")
    assert result.exit_code == 1
    assert result.error.startswith("error: cannot record the project state in ")
    assert "hint: " in result.stderr and "Traceback" not in result.stderr
    assert not (ws.root / "models").exists()


def test_every_inode_and_time_round_trips(tmp_path: Path) -> None:
    project = Project(tmp_path)
    digest = Digest("sha256", "ab" * 32)
    placed = {
        "a": PlacedFile(digest, 0, -1, 2**64 - 1, 0),  # st_ino is unsigned 64-bit
        "b": PlacedFile(digest, 2**40, 2**62, 2**63, -(2**62)),
        "c": PlacedFile(digest, 1, 1, 1, 1),
    }
    state = State()
    writer = open_state_writer(project, state)
    for name, record in placed.items():
        state.record(name, record)
    state.forget("c")
    writer.close(inputs=None)
    assert read_state(project).files == {"a": placed["a"], "b": placed["b"]}
