"""The file system as an attacker or an unlucky user leaves it: folders swapped for links
mid-sync, links planted in the store, in-place edits that restore the mtime, full disks,
read-only leftovers of a killed run as a non-root user, 255-byte names (findings 1, 2,
3, 6, 10 and 14). Where file systems differ, on a real ext4 image and on tmpfs."""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import (
    Workspace,
    free_bytes,
    make_workspace,
    mounted,
    needs_root,
    random_bytes,
    run_as,
)

import modelpm
from modelpm.errors import ModelpmError
from modelpm.hashing import digest_bytes
from modelpm.lockfile import read_lock
from modelpm.progress import NullReporter
from modelpm.store.local import OBJECT_MTIME_NS, Store
from modelpm.testing import TestHub

MiB = 1024 * 1024
WEIGHTS = random_bytes(300_000, 11)


@pytest.fixture
def ws(tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    workspace = make_workspace(tmp_path, hub, monkeypatch)
    hub.create_repo("acme/m").commit(
        {"config.json": b'{"a": 1}', "w.safetensors": WEIGHTS, "sub/x.bin": b"x" * 4000}
    )
    workspace.write('[models.m]\nrepo = "acme/m"\n')
    return workspace


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


class SwapOnStart(NullReporter):
    """Turns the destination into a link to ``outside`` the moment downloads begin."""

    def __init__(self, dest: Path, outside: Path) -> None:
        self.dest, self.outside = dest, outside

    def begin(self, total_files: int, total_bytes: int) -> None:
        if self.dest.exists():
            shutil.rmtree(self.dest)
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        self.dest.symlink_to(self.outside, target_is_directory=True)


@pytest.mark.parametrize("swapped", ["models/m", "models"])
def test_a_destination_swapped_for_a_link_during_a_sync_is_never_written_through(
    ws: Workspace, tmp_path: Path, swapped: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "m").mkdir()
    before = tree(outside)
    with pytest.raises(ModelpmError, match="symbolic link in its way"):
        modelpm.sync(project=ws.root, reporter=SwapOnStart(ws.root / swapped, outside))
    assert tree(outside) == before, "nothing was written through the link"


@pytest.mark.parametrize("planted", ["partial", "object"])
def test_a_link_planted_in_the_store_never_touches_what_it_points_to(
    ws: Workspace, tmp_path: Path, planted: str
) -> None:
    assert ws.cli("lock").exit_code == 0
    lock = read_lock(ws.root / "models.lock")
    assert lock is not None
    item = next(f for f in lock.models[0].files if f.path == "w.safetensors")
    precious = tmp_path / "precious"
    precious.write_bytes(b"p" * item.size)  # same size, and the store's fixed mtime
    os.utime(precious, ns=(OBJECT_MTIME_NS, OBJECT_MTIME_NS))
    store = Store(ws.store)
    link = (
        store.partial_path(item.digest) if planted == "partial" else store.object_path(item.digest)
    )
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(precious)
    result = ws.cli("sync")
    assert result.exit_code == 0, result.stderr
    assert precious.read_bytes() == b"p" * item.size, "the target of the link is intact"
    assert (ws.root / "models/m/w.safetensors").read_bytes() == WEIGHTS
    assert not (ws.root / "models/m/w.safetensors").is_symlink()
    assert ws.cli("verify").exit_code == 0


def poison(placed: Path, data: bytes, tmp_path: Path) -> None:
    """Write ``data`` over a placed file in place and put its 1970 mtime back, as
    `cp -p` or `rsync --inplace -t` would (as root, through the store's hard link)."""
    evil = tmp_path / "evil"
    evil.write_bytes(data)
    os.utime(evil, ns=(OBJECT_MTIME_NS, OBJECT_MTIME_NS))
    os.chmod(placed, 0o644)
    shutil.copy2(evil, placed)
    assert placed.stat().st_mtime_ns == OBJECT_MTIME_NS


def test_store_poisoning_that_restores_the_mtime_is_caught_and_repaired(
    ws: Workspace, tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ws.cli("sync").exit_code == 0
    placed = ws.root / "models/m/w.safetensors"
    evil = bytes(b ^ 0xFF for b in WEIGHTS)
    poison(placed, evil, tmp_path)
    other = make_workspace(tmp_path, hub, monkeypatch, name="other")
    other.write('[models.m]\nrepo = "acme/m"\n')
    monkeypatch.setenv("MODELPM_HOME", str(ws.store))  # the same store
    assert other.cli("sync").exit_code == 0
    assert (other.root / "models/m/w.safetensors").read_bytes() == WEIGHTS, "never the edit"
    monkeypatch.chdir(ws.root)
    assert ws.cli("verify").exit_code == 1  # the edit is there, and verify says so...
    repaired = ws.cli("sync")  # ...and sync does not say "everything is in place": it repairs
    assert repaired.exit_code == 0
    assert "everything is in place" not in repaired.stderr
    assert placed.read_bytes() == WEIGHTS
    assert ws.cli("verify").exit_code == 0


def test_a_second_link_to_the_same_object_keeps_the_first_project_in_sync(
    ws: Workspace, tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Linking an object moves its change time; that change is modelpm's own, so the first
    project's next sync is still a no-op (the ledger tells it apart from an edit)."""
    assert ws.cli("sync").exit_code == 0
    other = make_workspace(tmp_path, hub, monkeypatch, name="other")
    other.write('[models.m]\nrepo = "acme/m"\n')
    monkeypatch.setenv("MODELPM_HOME", str(ws.store))
    assert other.cli("sync").exit_code == 0
    monkeypatch.chdir(ws.root)
    assert "everything is in place" in ws.cli("sync").stderr


def test_copy_mode_keeps_projects_and_the_store_apart(ws: Workspace, tmp_path: Path) -> None:
    ws.write('[settings]\nlink = "copy"\n\n[models.m]\nrepo = "acme/m"\n')
    assert ws.cli("sync").exit_code == 0
    placed = ws.root / "models/m/w.safetensors"
    store_object = next((ws.store / "objects").rglob(placed.name), None)
    assert store_object is None  # objects are named by hash, not path: compare inodes
    assert all(
        placed.stat().st_ino != path.stat().st_ino for path in (ws.store / "objects").rglob("*")
    )
    placed.write_bytes(b"edited")
    assert ws.cli("store", "verify").exit_code == 0, "the store never saw the edit"


@pytest.fixture
def small_disk(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    with mounted(tmp_path / "disk", request.param, size_mb=24) as disk:
        yield disk


@needs_root
@pytest.mark.parametrize("small_disk", ["ext4", "tmpfs"], indirect=True)
def test_a_model_larger_than_the_free_space_fails_at_once_and_leaves_the_disk_as_it_was(
    ws: Workspace, hub: TestHub, small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.create_repo("acme/big").commit({"w.safetensors": random_bytes(40 * MiB, 3)})
    ws.write('[models.big]\nrepo = "acme/big"\n')
    monkeypatch.setenv("MODELPM_HOME", str(small_disk / "store"))
    assert ws.cli("lock").exit_code == 0
    free_before = free_bytes(small_disk)
    result = ws.cli("sync")
    assert result.exit_code == 1
    assert "not enough space" in result.error and "it needs" in result.error
    assert hub.bytes_sent < MiB, "nothing was downloaded into a disk that cannot hold it"
    assert free_bytes(small_disk) >= free_before - 64 * 1024


@needs_root
@pytest.mark.parametrize("kind", ["ext4", "tmpfs"])
def test_a_reservation_that_fails_gives_its_blocks_back(tmp_path: Path, kind: str) -> None:
    from modelpm.errors import StorageError
    from modelpm.transfer.partial import PartialFile
    from modelpm.transfer.ranges import Ranges

    with mounted(tmp_path / "disk", kind, size_mb=24) as disk:
        path = disk / "x.part"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        os.pwrite(fd, b"r" * 4096, 0)  # what an earlier run recorded
        free_before = free_bytes(disk)
        partial = PartialFile(fd, path, 64 * MiB)
        ranges = Ranges(64 * MiB)
        ranges.add(0, 4096)
        with pytest.raises(StorageError, match="No space left"):
            partial.reserve(ranges)
        free_after = free_bytes(disk)
        assert os.pread(fd, 4096, 0) == b"r" * 4096, "recorded bytes are kept"
        partial.close()
        assert free_after >= free_before - 64 * 1024, (free_before, free_after)


NON_ROOT = 65534  # nobody


@needs_root
def test_a_commit_killed_after_making_the_partial_read_only_recovers_as_a_plain_user(
    ws: Workspace, hub: TestHub, tmp_path: Path
) -> None:
    data = random_bytes(200_000, 5)
    hub.create_repo("acme/plain").commit({"w.safetensors": data})
    ws.write('[models.m]\nrepo = "acme/plain"\n')
    assert ws.cli("lock").exit_code == 0
    lock = read_lock(ws.root / "models.lock")
    assert lock is not None
    digest = lock.models[0].files[0].digest
    # The state a kill -9 between the commit's chmod and its rename leaves behind.
    partial = Store(ws.store).partial_path(digest)
    partial.parent.mkdir(parents=True)
    partial.write_bytes(data)
    os.utime(partial, ns=(OBJECT_MTIME_NS, OBJECT_MTIME_NS))
    os.chmod(partial, 0o444)
    for folder in (ws.root, ws.store):
        for path in (folder, *folder.rglob("*")):
            os.chown(path, NON_ROOT, NON_ROOT, follow_symlinks=False)
    for parent in (tmp_path, *tmp_path.parents):  # let the user reach them
        os.chmod(parent, parent.stat().st_mode | 0o111)  # noqa: S103 - traverse only
    hub.reset_stats()
    # The child cannot read the interpreter's own library (under /root): whatever the sync
    # imports on demand is imported here, before it forks.
    for module in (
        "modelpm.place.apply",
        "modelpm.transfer.engine",
        "modelpm.transfer.http",
        "modelpm.workflow.origins",
        "modelpm.fs.cleanup",
        "filelock",
        "sqlite3",
    ):
        importlib.import_module(module)

    def sync() -> int:
        try:
            modelpm.sync(project=ws.root)
        except ModelpmError as error:
            sys.stderr.write(f"{error.message}\n")
            return 1
        return 0

    assert run_as(NON_ROOT, sync) == 0
    assert (ws.root / "models/m/w.safetensors").read_bytes() == data
    assert hub.bytes_sent == 0, "the verified partial was committed, not fetched again"


def test_a_255_byte_name_in_another_script_can_be_replaced_and_copied(
    ws: Workspace, hub: TestHub
) -> None:
    name = "é" * 121 + "-weights.bin"  # 242 + 12 = 254 bytes, 133 characters
    assert len(name.encode()) == 254
    repo = hub.repo("acme/m")
    repo.commit({name: b"first version"})
    assert ws.cli("sync").exit_code == 0
    repo.commit({name: b"second, longer version"})
    assert ws.cli("lock", "--upgrade").exit_code == 0
    result = ws.cli("sync")
    assert result.exit_code == 0, result.stderr
    assert (ws.root / "models/m" / name).read_bytes() == b"second, longer version"
    ws.write('[settings]\nlink = "copy"\n\n[models.m]\nrepo = "acme/m"\n')
    (ws.root / "models/m" / name).unlink()
    result = ws.cli("sync")
    assert result.exit_code == 0, result.stderr
    assert (ws.root / "models/m" / name).read_bytes() == b"second, longer version"


def test_a_store_whose_folders_vanish_between_two_objects_makes_them_again(
    tmp_path: Path,
) -> None:
    # The store's folders are made once per store, not once per object; one removed
    # since (by hand, or a `store gc` of an emptied store) is made again, not an error.
    store = Store(tmp_path / "store")
    first, second = (digest_bytes("sha256", text) for text in (b"first", b"second"))
    with store.locked(first):
        pass
    shutil.rmtree(store.root)
    with store.locked(second):
        assert (store.root / "CACHEDIR.TAG").is_file()
