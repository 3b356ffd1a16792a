"""One project session: every command that changes a project holds the project lock while
it writes, reads the manifest, lock and state once, and writes each at most once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock, Timeout

import modelpm.manifest.edit as edit_module
import modelpm.project.session as session_module
from modelpm import api
from modelpm.testing.memory import MemorySource

MANIFEST = '[models.a]\nrepo = "acme/a"\n'


class Ledger:
    """Counts the session's reads and writes, and checks the project lock at each write."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.calls: Counter[str] = Counter()
        self.unlocked_writes: list[str] = []
        for name in ("load_manifest", "read_lock", "read_state"):
            self._wrap(monkeypatch, session_module, name, write=False)
        for name in ("write_lock", "open_state_writer"):
            self._wrap(monkeypatch, session_module, name, write=True)
        self._wrap(monkeypatch, edit_module, "write_manifest", write=True)

    def _wrap(
        self, monkeypatch: pytest.MonkeyPatch, module: object, name: str, *, write: bool
    ) -> None:
        real: Callable[..., Any] = getattr(module, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            if write and not self.project_lock_is_held():
                self.unlocked_writes.append(name)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)

    def project_lock_is_held(self) -> bool:
        probe = FileLock(str(self.root / ".modelpm" / "sync.lock"), is_singleton=False)
        try:
            probe.acquire(timeout=0)
        except Timeout:
            return True
        probe.release()
        return False


@pytest.fixture
def source() -> MemorySource:
    hub = MemorySource()
    hub.create_repo("acme/a").commit({"config.json": b"{}", "w.safetensors": b"w" * 100})
    hub.create_repo("acme/b").commit({"config.json": b'{"b": 1}'})
    return hub


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = tmp_path / "p"
    project.mkdir()
    (project / "models.toml").write_text(MANIFEST, encoding="utf-8")
    monkeypatch.setenv("MODELPM_HOME", str(tmp_path / "store"))
    return project


def test_add_reads_each_file_once_and_writes_each_once_under_the_lock(
    root: Path, source: MemorySource, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.sync(project=root, sources={"hf": source}, transport=source.transport)
    ledger = Ledger(root, monkeypatch)
    result = api.add("acme/b", project=root, sources={"hf": source}, transport=source.transport)
    assert result.sync is not None and result.sync.report.downloaded == 1
    assert ledger.calls == Counter(
        load_manifest=1,
        read_lock=1,
        read_state=1,
        write_manifest=1,
        write_lock=1,
        open_state_writer=1,
    )
    assert ledger.unlocked_writes == []


def test_remove_writes_the_state_under_the_project_lock(
    root: Path, source: MemorySource, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.sync(project=root, sources={"hf": source}, transport=source.transport)
    ledger = Ledger(root, monkeypatch)
    result = api.remove("a", project=root)
    assert result.report.removed == 2
    assert ledger.calls["open_state_writer"] == 1 and ledger.calls["write_lock"] == 1
    assert ledger.calls["read_lock"] == 1 and ledger.calls["read_state"] == 1
    assert ledger.unlocked_writes == []


def test_lock_writes_under_the_project_lock_and_only_when_something_changed(
    root: Path, source: MemorySource, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger(root, monkeypatch)
    assert api.lock(root, sources={"hf": source}).written
    before = (root / "models.lock").stat()
    assert api.lock(root, sources={"hf": source}, upgrade=True).written is False
    after = (root / "models.lock").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert ledger.unlocked_writes == []


def test_a_sync_with_work_reads_again_under_the_lock_and_writes_once(
    root: Path, source: MemorySource, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.lock(root, sources={"hf": source})
    ledger = Ledger(root, monkeypatch)
    api.sync(project=root, sources={"hf": source}, transport=source.transport)
    # The lock-free look that tells a no-op, then the session, which reads afresh under the
    # project lock (another sync may have finished while this one waited for it).
    assert ledger.calls["load_manifest"] == 1
    assert ledger.calls["read_lock"] == 2 and ledger.calls["read_state"] == 2
    assert ledger.calls["write_lock"] == 0 and ledger.calls["open_state_writer"] == 1
    assert ledger.unlocked_writes == []
    ledger.calls.clear()
    noop = api.sync(project=root, sources={"hf": source}, transport=source.transport)
    assert noop.plan.is_noop
    assert ledger.calls == Counter(load_manifest=1, read_lock=1, read_state=1)
