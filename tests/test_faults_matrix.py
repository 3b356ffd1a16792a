"""The network fault matrix through `modelpm sync`, and the store commands.

Every scenario ends with a correct sync or a clean failure; either way `verify`
passes on whatever was placed and nothing unverified is visible.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support import Workspace, make_workspace, random_bytes, wait_until

from modelpm.testing import Fault, TestHub

MiB = 1024 * 1024
BIG = 3 * MiB + 11


@pytest.fixture
def ws(tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    workspace = make_workspace(tmp_path, hub, monkeypatch)
    files: dict[str, bytes] = {
        "model.safetensors": random_bytes(BIG, 1),
        "config.json": b'{"a": 1}',
    }
    files.update({f"shards/{i:02d}.json": f"[{i}]".encode() for i in range(12)})
    hub.create_repo("acme/m").commit(files)
    workspace.write('[models.m]\nrepo = "acme/m"\n')
    return workspace


def visible_files_verify(ws: Workspace) -> None:
    if not (ws.root / "models.lock").exists():
        assert not (ws.root / "models").exists()
        return
    result = ws.cli("verify")
    for line in result.stderr.splitlines():
        assert line.startswith(("ok ", "missing ", "hint: ")), line


SCENARIOS = [
    # (name, faults, expect success)
    ("drop at the first byte", [Fault("drop", origin="cdn", after_bytes=0, times=2)], True),
    ("drop near the end", [Fault("drop", origin="cdn", after_bytes=BIG - 10)], True),
    ("reset mid-body", [Fault("reset", origin="cdn", after_bytes=MiB, times=3)], True),
    (
        "stall past the timeout",
        [Fault("stall", origin="cdn", after_bytes=MiB + 1000, seconds=4)],
        True,
    ),
    ("throttled link", [Fault("throttle", origin="cdn", rate=4 * MiB, times=None)], True),
    (
        "429 with Retry-After",
        [Fault("status", origin="cdn", status=429, retry_after=0.2, times=2)],
        True,
    ),
    (
        "500/502/503 on the API",
        [
            Fault("status", origin="hub", path_contains="/api/", status=code)
            for code in (500, 502, 503)
        ],
        True,
    ),
    (
        "503 bursts on /resolve",
        [Fault("status", origin="hub", path_contains="/resolve/", status=503, times=3)],
        True,
    ),
    ("502 bursts on the CDN", [Fault("status", origin="cdn", status=502, times=3)], True),
    ("expired CDN link", [Fault("expire_cdn", origin="cdn", times=2)], True),
    ("a body one byte short", [Fault("truncate", origin="cdn", times=2)], True),
    (
        "server ignores Range",
        [Fault("ignore_range", times=None), Fault("drop", origin="cdn", after_bytes=MiB)],
        True,
    ),
    (
        "flipped byte, every time",
        [Fault("corrupt", origin="cdn", after_bytes=77, times=None)],
        False,
    ),
    ("the CDN keeps failing", [Fault("status", origin="cdn", status=503, times=None)], False),
]


@pytest.mark.parametrize(("name", "faults", "succeeds"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_network_fault_matrix(
    ws: Workspace,
    hub: TestHub,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    faults: list[Fault],
    succeeds: bool,
) -> None:
    monkeypatch.setenv("MODELPM_STALL_TIMEOUT", "1")
    monkeypatch.setenv("MODELPM_CONNECTIONS", "2")
    hub.page_size = 3  # the tree listing comes in pages too
    for fault in faults:
        hub.add_fault(fault)
    result = ws.cli("sync")
    unfired = [f.kind for f in hub.board.faults if f.times is not None]
    assert not unfired, f"{name}: faults never fired: {unfired}"
    if name == "stall past the timeout":  # cut after 1 s and resumed, not waited out
        # What arrived before the stall is kept: the retry starts less than one read
        # (1 MiB) before it.
        starts = [
            int(r.headers["range"].split("=")[1].split("-")[0])
            for r in hub.requests
            if r.headers.get("range", "").startswith("bytes=")
        ]
        assert any(1000 < start <= MiB + 1000 for start in starts), starts
    visible_files_verify(ws)
    if succeeds:
        assert result.exit_code == 0, f"{name}: {result.stderr}"
        assert ws.cli("verify").exit_code == 0
    else:
        assert result.exit_code == 1
        error = result.error.splitlines()
        assert error[0].startswith("error: ") and error[1].startswith("hint: ")
        assert "Traceback" not in result.stderr
        assert not (ws.root / "models/m/model.safetensors").exists()
        hub.clear_faults()
        assert ws.cli("sync").exit_code == 0, "the next run repairs"
        assert ws.cli("verify").exit_code == 0


def test_ctrl_c_exits_130_and_the_next_run_resumes(ws: Workspace, hub: TestHub) -> None:
    hub.add_fault(Fault("throttle", origin="cdn", rate=MiB, times=None))
    assert ws.cli("lock").exit_code == 0
    env = {**os.environ, "HF_ENDPOINT": hub.endpoint, "MODELPM_HOME": str(ws.store)}
    process = subprocess.Popen(
        [sys.executable, "-m", "modelpm", "sync"],
        cwd=ws.root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until(lambda: hub.bytes_sent >= MiB, 20, "the first MiB to be sent")
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    error = [line for line in stderr.splitlines() if line.startswith(("error:", "hint:"))]
    assert error[0].startswith("error: interrupted") and "Traceback" not in stderr
    sent_before = hub.bytes_sent
    hub.clear_faults()
    hub.reset_stats()
    assert ws.cli("sync").exit_code == 0
    assert ws.cli("verify").exit_code == 0
    assert hub.bytes_sent < BIG + 100_000 - sent_before // 2, "resumed, not restarted"


def test_store_path_verify_and_gc(
    ws: Workspace, hub: TestHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = ws.cli("store", "path")
    assert path.exit_code == 0 and path.stdout.strip() == str(ws.store)
    assert ws.cli("sync").exit_code == 0
    ok = ws.cli("store", "verify")
    assert ok.exit_code == 0 and "14 objects match" in ok.stderr
    # A second project, then the first one goes away: gc keeps only what is still used.
    other = make_workspace(tmp_path, hub, monkeypatch, name="other")
    monkeypatch.setenv("MODELPM_HOME", str(ws.store))
    other.write('[models.c]\nrepo = "acme/m"\ninclude = ["config.json"]\n')
    assert other.cli("sync").exit_code == 0
    dry = other.cli("store", "gc", "--dry-run")
    assert dry.exit_code == 0 and "would remove 0 objects" in dry.stderr
    (ws.root / "models.lock").unlink()
    collected = other.cli("store", "gc")
    assert collected.exit_code == 0, collected.stderr
    assert "removed 13 objects" in collected.stderr
    assert "kept 1 used by 1 projects" in collected.stderr
    assert f"forgot {ws.root}" in collected.stderr
    assert other.cli("verify").exit_code == 0
    # An object damaged on disk is found and, with --remove, dropped for the next sync.
    obj = next(p for p in (ws.store / "objects").rglob("*") if p.is_file())
    obj.chmod(0o644)
    obj.write_bytes(b"rot")
    bad = other.cli("store", "verify")
    assert bad.exit_code == 1 and "corrupt " in bad.stderr
    assert other.cli("store", "verify", "--remove").exit_code == 1
    assert other.cli("store", "verify").exit_code == 0
    (other.root / "models/c/config.json").unlink()
    assert other.cli("sync").exit_code == 0
    assert other.cli("verify").exit_code == 0


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("version = 2", "version = 9"), "format version 9 is newer"),
        (lambda t: t.replace("size = ", "size = -", 1), "invalid 'size'"),
        (lambda t: t.replace('commit = "', 'commit = "zz', 1), "40 lowercase hex"),
        (lambda t: t + t[t.index("[[model]]") :], "appears twice"),
        (
            lambda t: t.replace("files = [", 'files = [\n  { path = "x", size = 1 },', 1),
            "exactly one of",
        ),
    ],
)
@pytest.mark.parametrize("flag", ["--locked", "--frozen", ""])
def test_corrupted_lock_is_a_clear_error_never_a_silent_relock(
    ws: Workspace, edit: object, message: str, flag: str
) -> None:
    assert ws.cli("lock").exit_code == 0
    lock = ws.root / "models.lock"
    broken = edit(lock.read_text())  # type: ignore[operator]
    lock.write_text(broken)
    result = ws.cli("sync", *([flag] if flag else []))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: models.lock: ") and message in result.stderr
    assert "hint: " in result.stderr
    assert lock.read_text() == broken
