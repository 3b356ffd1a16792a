"""A hostile or broken server cannot hang modelpm, loop it, exhaust its memory or print
through it: slow drips, Ctrl-C, short bodies without Range, API calls that never end,
pages that loop, bodies that never end or decompress to gigabytes, and error text with
escapes and secrets (findings 7, 8, 9 and 12)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from support import Workspace, bounded_lock_failure, make_workspace, random_bytes, wait_until

from modelpm.errors import NetworkError
from modelpm.plan.tasks import FileTask
from modelpm.sources.hf.source import HfSource
from modelpm.store.local import Store
from modelpm.testing import Fault, TestHub
from modelpm.transfer.engine import Downloader, always
from modelpm.transfer.http import HttpPool
from modelpm.transfer.options import TransferOptions
from modelpm.transfer.retry import RetryPolicy
from modelpm.values import Commit, Digest, RepoRef

DATA = random_bytes(200_000, 9)
QUICK = TransferOptions(
    stall_timeout=5,
    min_rate=1000,
    rate_window=0.5,
    retry=RetryPolicy(retries=2, backoff=0.01, max_backoff=0.02),
    record_every=0.0,
)


@pytest.fixture
def task(hub: TestHub) -> FileTask:
    commit = hub.create_repo("acme/m").commit({"w.safetensors": DATA})
    digest = Digest("sha256", hashlib.sha256(DATA).hexdigest())
    return FileTask(
        "m",
        "hf",
        RepoRef("acme/m"),
        Commit(commit),
        "w.safetensors",
        "m/w.safetensors",
        len(DATA),
        digest,
    )


def fetch_in_thread(hub: TestHub, store: Store, task: FileTask, seconds: float) -> BaseException:
    """Run a fetch that must fail, and fail within ``seconds``; return its error."""
    outcome: list[BaseException] = []

    def run() -> None:
        with HttpPool(timeout=QUICK.stall_timeout) as pool:
            try:
                Downloader(always(HfSource(hub.endpoint, None)), store, pool, QUICK).fetch(task)
            except BaseException as exc:  # noqa: BLE001 - handed to the test
                outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still fetching after {seconds} s"
    assert outcome, "the fetch succeeded against a server that never sends the file"
    return outcome[0]


def test_a_slow_drip_is_cut_and_given_up_instead_of_waited_on(
    hub: TestHub, task: FileTask, tmp_path: Path
) -> None:
    hub.add_fault(Fault("drip", origin="cdn", seconds=0.25, times=None))
    error = fetch_in_thread(hub, Store(tmp_path / "store"), task, 20)
    assert isinstance(error, NetworkError) and "too slow" in error.message


def test_a_server_that_ignores_range_and_always_stops_short_is_not_retried_forever(
    hub: TestHub, task: FileTask, tmp_path: Path
) -> None:
    hub.add_fault(Fault("ignore_range", origin="cdn", times=None))
    hub.add_fault(Fault("drop", origin="cdn", after_bytes=50_000, times=None))
    error = fetch_in_thread(hub, Store(tmp_path / "store"), task, 20)
    assert isinstance(error, NetworkError) and "giving up" in error.message


def test_ctrl_c_ends_a_sync_stuck_on_a_slow_drip_within_a_second(
    tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_workspace(tmp_path, hub, monkeypatch)
    hub.create_repo("acme/slow").commit({"w.safetensors": DATA})
    ws.write('[models.m]\nrepo = "acme/slow"\n')
    assert ws.cli("lock").exit_code == 0
    hub.add_fault(Fault("drip", origin="cdn", seconds=0.5, times=None))
    hub.reset_stats()
    env = {**os.environ, "HF_ENDPOINT": hub.endpoint, "MODELPM_HOME": str(ws.store)}
    process = subprocess.Popen(
        [sys.executable, "-m", "modelpm", "sync"],
        cwd=ws.root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until(lambda: hub.bytes_sent >= 2, 20, "the drip to begin")
    began = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert time.monotonic() - began < 1.5, "Ctrl-C took effect at once"
    assert process.returncode == 130, stderr
    assert "error: interrupted" in stderr and "Traceback" not in stderr


@pytest.fixture
def ws(tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    workspace = make_workspace(tmp_path, hub, monkeypatch)
    monkeypatch.setenv("MODELPM_STALL_TIMEOUT", "0.5")
    hub.create_repo("acme/m").commit({"config.json": b"{}", "w.safetensors": DATA})
    workspace.write('[models.m]\nrepo = "acme/m"\n')
    return workspace


@pytest.mark.parametrize("route", ["/tree/", "/api/models/acme/m/revision/"])
@pytest.mark.parametrize("how", ["silent", "no body"])
def test_an_api_call_that_never_answers_is_cut_by_the_stall_timeout(
    ws: Workspace, hub: TestHub, route: str, how: str
) -> None:
    if how == "silent":  # not even a status line
        fault = Fault("answer", origin="hub", path_contains=route, seconds=60, times=None)
    else:  # headers that promise a body that never comes
        fault = Fault(
            "answer",
            origin="hub",
            path_contains=route,
            status=200,
            times=None,
            headers={"Content-Type": "application/json", "Content-Length": "999"},
        )
    hub.add_fault(fault)
    assert "cannot reach" in bounded_lock_failure(ws, 20)


def test_a_next_page_link_back_to_the_same_page_is_refused(ws: Workspace, hub: TestHub) -> None:
    page = json.dumps([{"type": "file", "oid": "b" * 40, "size": 2, "path": "config.json"}])
    hub.add_fault(
        Fault(
            "answer",
            origin="hub",
            path_contains="/tree/",
            status=200,
            body=page,
            headers={"Content-Type": "application/json", "Link": '<{self}>; rel="next"'},
            times=None,
        )
    )
    assert "sent a next-page link back to a page it already sent" in bounded_lock_failure(ws, 30)


def test_an_endless_body_is_refused_not_read_into_memory(
    ws: Workspace, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("modelpm.sources.hf.guards.MAX_BODY", 2 * 1024 * 1024)
    hub.add_fault(
        Fault(
            "answer",
            origin="hub",
            path_contains="/tree/",
            status=200,
            body='[{"type": "file", "path": "x", ' * 100,
            endless=True,
            headers={"Content-Type": "application/json"},
            times=None,
        )
    )
    assert "sent an answer of more than 2 MiB" in bounded_lock_failure(ws, 30)


def test_a_compressed_answer_is_refused_so_no_bomb_can_go_off(ws: Workspace, hub: TestHub) -> None:
    bomb = gzip.compress(b"[" + b" " * 50_000_000 + b"]")
    hub.add_fault(
        Fault(
            "answer",
            origin="hub",
            path_contains="/tree/",
            status=200,
            body=bomb.decode("latin-1"),
            times=None,
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
    )
    assert "gzip-compressed answer" in bounded_lock_failure(ws, 30)


TOKEN = "hf_echoedbackbytheserver0123456789"


def test_server_error_text_is_sanitised_on_the_download_path(
    ws: Workspace, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.add_token(TOKEN)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert ws.cli("lock").exit_code == 0
    hostile = f"\x1b[2J\x1b]0;owned\x07evil {TOKEN} Bearer {TOKEN}\r\nX: y" + "z" * 5000
    hub.add_fault(
        Fault(
            "answer",
            origin="hub",
            path_contains="/resolve/",
            status=400,
            headers={"X-Error-Message": hostile.encode().decode("latin-1")},
            body=hostile,
            times=None,
        )
    )
    result = ws.cli("sync")
    assert result.exit_code == 1
    printed = result.stderr + result.stdout
    assert "\x1b" not in printed and "\r" not in printed and "\x07" not in printed
    assert TOKEN not in printed
    assert max(len(line) for line in printed.splitlines()) < 1000


@pytest.mark.parametrize("asks", [{"Retry-After": "99999"}, {"RateLimit": '"api";r=0;t=99999'}])
def test_a_wait_the_server_asks_for_never_outlasts_the_call(
    ws: Workspace, hub: TestHub, asks: dict[str, str]
) -> None:
    # huggingface_hub sleeps as long as a 429 asks before it retries (27 hours here).
    hub.add_fault(
        Fault("answer", origin="hub", path_contains="/tree/", status=429, headers=asks, times=None)
    )
    assert "cannot reach" in bounded_lock_failure(ws, 20)
