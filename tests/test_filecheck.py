"""Verify's small files are shared with helper processes: the same verdicts as checking
them here, and the same when a helper cannot start or answers nonsense."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

import modelpm.filecheck as filecheck
from modelpm.hashing import digest_bytes
from modelpm.lockfile.model import LockedFile


def files(folder: Path) -> list[LockedFile]:
    """Files of every verdict: intact, edited (same size and not), gone, and things that
    are not the placed file (a link, a FIFO, a folder)."""
    items = []
    for index in range(30):
        content = f"row {index}".encode()
        (folder / f"{index:02d}.json").write_bytes(content)
        items.append(LockedFile(f"{index:02d}.json", len(content), digest_bytes("sha256", content)))
    (folder / "03.json").write_bytes(b"row X")  # same size, other bytes
    (folder / "04.json").write_bytes(b"longer now")
    (folder / "05.json").unlink()
    (folder / "06.json").unlink()
    (folder / "06.json").symlink_to(folder / "07.json")
    (folder / "08.json").unlink()
    os.mkfifo(folder / "08.json")
    (folder / "09.json").unlink()
    (folder / "09.json").mkdir()
    return items


@pytest.fixture
def helpers_started(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    started: list[list[str]] = []
    real = subprocess.Popen

    def counting(command: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        started.append(command)
        return real(command, **kwargs)

    monkeypatch.setattr("modelpm.filecheck.subprocess.Popen", counting)
    monkeypatch.setattr(filecheck, "HELPER_MIN_FILES", 5)
    monkeypatch.setattr(filecheck, "CHUNK_FILES", 4)
    return started


def lent(folder: Path, items: list[LockedFile]) -> tuple[list[str], filecheck._Chunks]:
    """What one helper, fed every chunk on this thread, answered; and the chunks left."""
    chunks = filecheck._Chunks(len(items))
    states = [""] * len(items)
    filecheck._lend_to_helper(f"{folder}/", items, chunks, states, [])
    return states, chunks


def test_a_helper_gives_the_verdicts_this_process_gives(
    tmp_path: Path, helpers_started: list[list[str]]
) -> None:
    items = files(tmp_path)
    here = [filecheck.file_state(f"{tmp_path}/", item) for item in items]
    assert here[3:10] == ["modified", "modified", "missing", "missing", "ok", "missing", "missing"]
    states, chunks = lent(tmp_path, items)
    assert states == here
    assert chunks.take() is None, "the helper took every chunk"
    assert filecheck.states_of(f"{tmp_path}/", items, cores=3) == here
    assert len(helpers_started) == 1 + 2, "then two helpers for three cores"


@pytest.mark.parametrize("helper", ["cannot start", "answers nonsense", "fails"])
def test_a_helper_that_lets_us_down_changes_no_verdict(
    tmp_path: Path, helpers_started: list[list[str]], monkeypatch: pytest.MonkeyPatch, helper: str
) -> None:
    items = files(tmp_path)
    here = [filecheck.file_state(f"{tmp_path}/", item) for item in items]
    if helper == "cannot start":
        monkeypatch.setattr("modelpm.filecheck.sys.executable", str(tmp_path / "no-python"))
    elif helper == "answers nonsense":
        monkeypatch.setattr(filecheck, "_SERVE", "print('ok ' * 3)")  # three for four files
    else:
        monkeypatch.setattr(filecheck, "_SERVE", "raise SystemExit(3)")
    states, chunks = lent(tmp_path, items)
    assert states == [""] * len(items), "no answer taken from it"
    assert chunks.take() == (0, 4), "the chunk it failed is given back"
    assert chunks.take() == (4, 8), "and the rest are still to take"
    assert filecheck.states_of(f"{tmp_path}/", items, cores=2) == here
