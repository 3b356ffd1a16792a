"""The shared remote store against a real S3-compatible server (SeaweedFS on 127.0.0.1):
machines sync from the bucket instead of the hub, every byte verified on arrival, and a
broken bucket never breaks a sync."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from remote_support import (
    MANIFEST,
    PREFIX,
    Machine,
    bucket_keys,
    build_repo,
    copy_project,
    machine,
    object_keys,
    put_raw,
    remote_env,
)
from s3server import ADMIN, LISTER, READER, Proxy, SeaweedS3, free_ports

from modelpm.s3url import AwsCredentials, object_name
from modelpm.testing import TestHub
from modelpm.values import Digest

MiB = 1024 * 1024


@pytest.fixture
def env(s3_server: SeaweedS3, bucket: str) -> dict[str, str]:
    return remote_env(s3_server.endpoint, bucket)


@pytest.fixture
def first(
    tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> Machine:
    build_repo(hub)
    return machine(tmp_path, hub, monkeypatch, "first", env)


@pytest.fixture
def second(
    tmp_path: Path,
    hub: TestHub,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    first: Machine,
) -> Machine:
    return machine(tmp_path, hub, monkeypatch, "second", env)


def pushed(first: Machine, second: Machine) -> None:
    """``first`` syncs from the hub and pushes; ``second`` gets the committed files."""
    result = first.cli("sync", "--push")
    assert result.exit_code == 0, result.stderr
    copy_project(first, second)


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def digests(ws_machine: Machine) -> dict[str, Digest]:
    """Each locked path's digest, read from the lock the machine has."""
    from modelpm.lockfile.io import read_lock

    lock = read_lock(ws_machine.ws.root / "models.lock")
    assert lock is not None
    return {item.path: item.digest for model in lock.models for item in model.files}


def test_a_second_machine_syncs_from_the_bucket_and_not_the_hub(
    first: Machine, second: Machine, hub: TestHub, s3_server: SeaweedS3, bucket: str
) -> None:
    pushed(first, second)
    keys = object_keys(s3_server, bucket)
    assert sorted(keys) == sorted(object_name(d) for d in digests(first).values())
    assert f"{PREFIX}/modelpm-remote.json" in bucket_keys(s3_server, bucket)
    hub.reset_stats()
    result = second.cli("sync")
    assert result.exit_code == 0, result.stderr
    assert "warning" not in result.stderr
    assert hub.request_count == 0  # not one request to the hub: every byte from the bucket
    assert second.ws.files("models/m") == first.ws.files("models/m")
    assert second.cli("verify").exit_code == 0


def test_a_corrupted_object_is_rejected_named_and_fetched_from_the_hub(
    first: Machine, second: Machine, hub: TestHub, s3_server: SeaweedS3, bucket: str
) -> None:
    pushed(first, second)
    wanted = digests(first)
    big, small = wanted["model.safetensors"], wanted["config.json"]
    put_raw(s3_server, bucket, object_name(big), b"\0" * (20 * MiB))  # right size, wrong bytes
    put_raw(s3_server, bucket, object_name(small), b"not the config")  # wrong size too
    hub.reset_stats()
    result = second.cli("sync")
    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2, result.stderr
    for digest in (big, small):
        url = f"s3://{bucket}/{PREFIX}/{object_name(digest)}"
        assert any(url in line and "does not match" in line for line in warnings), warnings
    assert second.ws.files("models/m") == first.ws.files("models/m")
    assert second.cli("verify").exit_code == 0
    served = {record.path.rsplit("/", 1)[-1] for record in hub.requests}
    assert "model.safetensors" in served or any(big.hexdigest in p for p in served)
    assert "tokenizer.json" not in served  # the intact objects still came from the bucket


def test_a_missing_object_is_fetched_from_the_hub_without_a_warning(
    first: Machine, second: Machine, hub: TestHub, s3_server: SeaweedS3, bucket: str
) -> None:
    pushed(first, second)
    import obstore
    from remote_support import bucket_store

    missing = digests(first)["small.safetensors"]
    obstore.delete(bucket_store(s3_server, bucket), f"{PREFIX}/{object_name(missing)}")
    hub.reset_stats()
    result = second.cli("sync")
    assert result.exit_code == 0, result.stderr
    assert "warning" not in result.stderr
    assert hub.bytes_sent < 400_000  # that one file (300 kB), not the 20 MiB one
    assert second.cli("verify").exit_code == 0


def test_offline_from_the_hub_the_bucket_is_still_used(
    first: Machine, second: Machine, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    pushed(first, second)
    hub.reset_stats()
    second.env["HF_HUB_OFFLINE"] = "1"
    result = second.cli("sync")
    assert result.exit_code == 0, result.stderr
    assert hub.request_count == 0
    assert second.cli("verify").exit_code == 0


def test_offline_and_missing_from_the_bucket_is_one_clear_error(
    first: Machine, second: Machine, hub: TestHub, s3_server: SeaweedS3, bucket: str
) -> None:
    pushed(first, second)
    import obstore
    from remote_support import bucket_store

    missing = digests(first)["config.json"]
    obstore.delete(bucket_store(s3_server, bucket), f"{PREFIX}/{object_name(missing)}")
    hub.reset_stats()
    result = second.cli("sync", "--offline")
    assert result.exit_code == 1
    assert result.error.splitlines()[0] == (
        f"error: m/config.json: not in the remote store s3://{bucket}/{PREFIX}"
    ), result.stderr
    assert hub.request_count == 0
    assert (second.ws.root / "models/m/model.safetensors").exists()  # the rest was placed


def test_no_remote_turns_it_off_for_one_run(first: Machine, second: Machine, hub: TestHub) -> None:
    pushed(first, second)
    hub.reset_stats()
    result = second.cli("sync", "--no-remote")
    assert result.exit_code == 0, result.stderr
    assert hub.bytes_sent > 20 * MiB  # everything from the hub


def broken_remote_cases(s3_server: SeaweedS3, bucket: str) -> dict[str, dict[str, str]]:
    closed = free_ports(1)[0]
    wrong = AwsCredentials(ADMIN.access_key_id, "not-the-secret")
    unknown = AwsCredentials("AKIDNOBODY", "whatever")
    return {
        "unreachable": remote_env(f"http://127.0.0.1:{closed}", bucket),
        "bucket missing": remote_env(s3_server.endpoint, "no-such-bucket-here"),
        "secret rejected": remote_env(s3_server.endpoint, bucket, wrong),
        "key unknown": remote_env(s3_server.endpoint, bucket, unknown),
        "access denied": remote_env(s3_server.endpoint, bucket, LISTER),
    }


EXPECTED_REASON = {
    "unreachable": "unreachable",
    "bucket missing": "the bucket does not exist (NoSuchBucket)",
    "secret rejected": "the secret key was rejected (SignatureDoesNotMatch)",
    "key unknown": "the access key was rejected (InvalidAccessKeyId)",
    "access denied": "access denied (AccessDenied)",
    "throttled": "the endpoint is throttled or failing (HTTP 503 SlowDown)",
}


def assert_one_warning_and_a_good_sync(result_stderr: str, exit_code: int, case: str) -> None:
    assert exit_code == 0, result_stderr
    warnings = [line for line in result_stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, result_stderr
    assert EXPECTED_REASON[case] in warnings[0], warnings
    assert warnings[0].endswith("this run fetches from the sources"), warnings


@pytest.mark.parametrize(
    "case", ["unreachable", "bucket missing", "secret rejected", "key unknown", "access denied"]
)
def test_a_broken_remote_store_is_one_warning_and_a_fast_fallback(
    first: Machine, hub: TestHub, s3_server: SeaweedS3, bucket: str, case: str
) -> None:
    first.env = broken_remote_cases(s3_server, bucket)[case]
    started = time.monotonic()
    result = first.cli("sync")
    elapsed = time.monotonic() - started
    assert_one_warning_and_a_good_sync(result.stderr, result.exit_code, case)
    assert elapsed < 15, elapsed  # seconds, not the minutes of a hub's retry budget
    assert first.cli("verify").exit_code == 0


def test_a_throttled_remote_store_is_one_warning_and_a_fast_fallback(
    first: Machine, second: Machine, hub: TestHub, s3_server: SeaweedS3, bucket: str
) -> None:
    pushed(first, second)
    proxy = Proxy(s3_server.port)
    try:
        proxy.slow_down = True  # every request answered 503 SlowDown
        second.env["AWS_ENDPOINT_URL"] = proxy.endpoint
        started = time.monotonic()
        result = second.cli("sync")
        assert time.monotonic() - started < 15
    finally:
        proxy.close()
    assert_one_warning_and_a_good_sync(result.stderr, result.exit_code, "throttled")
    assert second.cli("verify").exit_code == 0


def test_an_endpoint_that_never_answers_costs_seconds_not_minutes(
    first: Machine, second: Machine, hub: TestHub, s3_server: SeaweedS3
) -> None:
    pushed(first, second)
    proxy = Proxy(s3_server.port)
    proxy.silent = True
    second.env["AWS_ENDPOINT_URL"] = proxy.endpoint
    try:
        started = time.monotonic()
        # The default stall timeout (30 s a connection), as a user has it.
        process = second.process("sync", env={"MODELPM_STALL_TIMEOUT": "30"})
        _, err = process.communicate(timeout=120)
        elapsed = time.monotonic() - started
    finally:
        proxy.close()
    assert process.returncode == 0, err.decode()
    assert elapsed < 15, elapsed  # the 3 s probe, then the hub
    assert "unreachable (TimeoutError)" in err.decode()


def test_a_remote_store_that_dies_mid_transfer_falls_back_within_seconds(
    first: Machine, second: Machine, hub: TestHub, s3_server: SeaweedS3, bucket: str
) -> None:
    pushed(first, second)
    proxy = Proxy(s3_server.port, rate=4 * MiB)
    second.env["AWS_ENDPOINT_URL"] = proxy.endpoint
    second.env["MODELPM_CONNECTIONS"] = "1"
    del second.env["MODELPM_RETRY_DELAY"]  # the engine's own budget: 6 retries over ~30 s
    process = second.process("sync", env={"MODELPM_RETRY_DELAY": "0.5"})
    try:
        from support import wait_until

        wait_until(lambda: proxy.bytes_down > 2 * MiB, 30, "bytes from the bucket")
        proxy.close()  # the bucket goes away: connections cut, new ones refused
        started = time.monotonic()
        _, err = process.communicate(timeout=60)
        assert time.monotonic() - started < 10  # the remote store's own budget: < 1 s
    finally:
        if process.poll() is None:
            process.kill()
        proxy.close()
    stderr = err.decode()
    assert process.returncode == 0, stderr
    assert len([line for line in stderr.splitlines() if line.startswith("warning:")]) == 1, stderr
    assert second.cli("verify").exit_code == 0


def test_store_push_uploads_what_the_bucket_lacks_once(
    first: Machine, s3_server: SeaweedS3, bucket: str
) -> None:
    first.env.pop("MODELPM_REMOTE")  # sync without the remote store, then push by hand
    assert first.cli("sync").exit_code == 0
    first.env["MODELPM_REMOTE"] = f"s3://{bucket}/{PREFIX}"
    result = first.cli("store", "push")
    assert result.exit_code == 0, result.stderr
    assert last_line(result.stderr).startswith("uploaded 4 objects (21."), result.stderr
    keys = object_keys(s3_server, bucket)
    assert sorted(keys) == sorted(object_name(d) for d in digests(first).values())
    again = first.cli("store", "push")
    assert again.exit_code == 0, again.stderr
    assert again.stderr == "uploaded 0 objects (0 B); 4 already in the remote store\n"
    assert first.cli("store", "verify", "--remote").exit_code == 0


def test_push_refuses_objects_the_local_store_does_not_have(
    first: Machine, s3_server: SeaweedS3, bucket: str
) -> None:
    assert first.cli("lock").exit_code == 0
    result = first.cli("store", "push")
    assert result.exit_code == 1
    assert result.error.splitlines()[0].startswith(
        f"error: 4 locked files are not in the local store, so they were not pushed to "
        f"s3://{bucket}/{PREFIX}: m/config.json, "
    ), result.stderr
    assert result.error.splitlines()[1] == "hint: run `modelpm sync` first, then push again"
    assert object_keys(s3_server, bucket) == {}


def test_push_without_write_access(first: Machine, s3_server: SeaweedS3, bucket: str) -> None:
    read_only = remote_env(s3_server.endpoint, bucket, READER)
    first.env = read_only
    # The setting: a failed upload is a warning, the sync succeeds.
    first.ws.write(MANIFEST.replace("[models.m]", "[settings]\nremote-push = true\n\n[models.m]"))
    result = first.cli("sync")
    assert result.exit_code == 0, result.stderr
    assert "warning: push to the remote store failed: " in result.stderr
    assert "access denied (AccessDenied)" in result.stderr
    assert first.cli("verify").exit_code == 0
    # --push: the files are placed, and the run fails.
    for path in (first.ws.root / "models/m").iterdir():
        path.unlink()
    result = first.cli("sync", "--push")
    assert result.exit_code == 1
    marker = f"s3://{bucket}/{PREFIX}/modelpm-remote.json"
    assert result.error.startswith(f"error: cannot write {marker}: access denied"), result.stderr
    assert first.cli("verify").exit_code == 0  # placed all the same
    result = first.cli("store", "push")
    assert result.exit_code == 1 and "access denied" in result.error, result.stderr
    assert object_keys(s3_server, bucket) == {}


def test_store_verify_remote_names_each_bad_object_and_can_remove_it(
    first: Machine, second: Machine, s3_server: SeaweedS3, bucket: str
) -> None:
    pushed(first, second)
    bad = digests(first)["tokenizer.json"]
    put_raw(s3_server, bucket, object_name(bad), b"tampered")
    result = first.cli("store", "verify", "--remote")
    assert result.exit_code == 1
    url = f"s3://{bucket}/{PREFIX}/{object_name(bad)}"
    assert result.stderr.splitlines() == [
        f"corrupt {url}",
        "hint: run `modelpm store verify --remote --remove`, then `modelpm store push`",
    ]
    result = first.cli("store", "verify", "--remote", "--remove")
    assert result.exit_code == 1 and f"corrupt {url} (removed)" in result.stderr
    assert object_name(bad) not in object_keys(s3_server, bucket)
    assert first.cli("store", "push").exit_code == 0  # the good copy goes back up
    result = first.cli("store", "verify", "--remote")
    assert result.exit_code == 0
    assert result.stderr == "ok: 4 remote objects match their hashes\n"


def test_store_gc_remote_keeps_what_the_given_locks_name(
    tmp_path: Path,
    hub: TestHub,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    first: Machine,
    s3_server: SeaweedS3,
    bucket: str,
) -> None:
    hub.create_repo("acme/other").commit({"other.bin": b"o" * 5000, "config.json": b"{}"})
    other = machine(tmp_path, hub, monkeypatch, "other", env, '[models.o]\nrepo = "acme/other"\n')
    assert first.cli("sync", "--push").exit_code == 0
    assert other.cli("sync", "--push").exit_code == 0
    assert len(object_keys(s3_server, bucket)) == 6  # 4 + 2: no file in common
    before = bucket_keys(s3_server, bucket)
    refused = first.cli("store", "gc", "--remote")
    assert refused.exit_code == 2
    assert refused.error.startswith("error: store gc --remote needs the lock files")
    assert first.cli("store", "gc").exit_code == 0  # the local store's gc
    assert bucket_keys(s3_server, bucket) == before  # neither touched the bucket
    lock = str(first.ws.root / "models.lock")
    dry = first.cli("store", "gc", "--remote", lock, "--dry-run")
    assert dry.exit_code == 0 and dry.stderr.startswith("would remove 2 remote objects")
    assert bucket_keys(s3_server, bucket) == before
    done = first.cli("store", "gc", "--remote", lock)
    assert done.exit_code == 0 and done.stderr.startswith("removed 2 remote objects"), done.stderr
    assert sorted(object_keys(s3_server, bucket)) == sorted(
        object_name(d) for d in digests(first).values()
    )
    assert f"{PREFIX}/modelpm-remote.json" in bucket_keys(s3_server, bucket)
    both = first.cli("store", "gc", "--remote", lock, str(other.ws.root / "models.lock"))
    assert both.exit_code == 0 and both.stderr.startswith("removed 0 remote objects")


def test_export_writes_a_synced_model_as_plain_objects_once(
    first: Machine, s3_server: SeaweedS3, bucket: str
) -> None:
    target = f"s3://{bucket}/serving/m"
    not_yet = first.cli("export", "s3", target)
    assert not_yet.exit_code == 2 and "models.lock has no entry for 'm'" in not_yet.error
    assert first.cli("sync").exit_code == 0
    result = first.cli("export", "s3", target)
    assert result.exit_code == 0, result.stderr
    assert last_line(result.stderr).startswith(f"exported to {target}: uploaded 4 files (21.")
    import obstore
    from remote_support import bucket_store

    store = bucket_store(s3_server, bucket)
    placed = first.ws.files("models/m")
    exported = {
        key.removeprefix("serving/m/"): bytes(obstore.get(store, key).bytes())
        for key in bucket_keys(s3_server, bucket)
        if key.startswith("serving/m/")
    }
    assert exported == placed
    again = first.cli("export", "s3", target)
    assert again.stderr.startswith(f"exported to {target}: uploaded 0 files (0 B); 4 already")
    obstore.put(store, "serving/m/config.json", b"another revision")
    fixed = first.cli("export", "s3", target)
    assert last_line(fixed.stderr).startswith(f"exported to {target}: uploaded 1 files")
    assert bytes(obstore.get(store, "serving/m/config.json").bytes()) == placed["config.json"]
    bad = first.cli("export", "s3://bucket-x/serving/nope")
    assert bad.exit_code == 2 and "no model named 'nope'" in bad.error


def test_a_noop_sync_with_a_remote_store_asks_it_nothing_and_loads_no_s3_library(
    first: Machine, second: Machine, hub: TestHub, s3_server: SeaweedS3
) -> None:
    import os
    import subprocess
    import sys

    from test_architecture import NOOP

    pushed(first, second)
    proxy = Proxy(s3_server.port)
    try:
        second.env["AWS_ENDPOINT_URL"] = proxy.endpoint
        assert second.cli("sync").exit_code == 0
        proxy.bytes_up = 0
        hub.reset_stats()
        env = {**os.environ, **second.env, "MODELPM_HOME": str(second.ws.store)}
        done = subprocess.run(
            [sys.executable, "-c", NOOP],
            cwd=second.ws.root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        proxy.close()
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""  # no obstore, no http, no hub library
    assert proxy.bytes_up == 0 and hub.request_count == 0


def test_push_to_a_store_that_is_down_fails_only_when_asked_for(
    first: Machine, s3_server: SeaweedS3, bucket: str
) -> None:
    first.env = broken_remote_cases(s3_server, bucket)["unreachable"]
    first.ws.write(MANIFEST.replace("[models.m]", "[settings]\nremote-push = true\n\n[models.m]"))
    result = first.cli("sync")  # the setting: one warning (the store is down), exit 0
    assert_one_warning_and_a_good_sync(result.stderr, result.exit_code, "unreachable")
    for path in (first.ws.root / "models/m").iterdir():
        path.unlink()
    result = first.cli("sync", "--push")  # placed from the local store, then the push fails
    assert result.exit_code == 1
    assert result.error.startswith(f"error: cannot write s3://{bucket}/{PREFIX}/modelpm-remote")
    assert result.error.splitlines()[0].endswith(": the endpoint is unreachable")
    assert first.cli("verify").exit_code == 0  # the files were placed all the same
    shutil.rmtree(first.ws.store)
    for path in (first.ws.root / "models/m").iterdir():
        path.unlink()
    result = first.cli("sync", "--push")  # fetched from the hub: the store was found down
    assert result.exit_code == 1
    assert result.error.splitlines()[0] == (
        f"error: remote store s3://{bucket}/{PREFIX}: unreachable (ConnectionRefusedError); "
        "nothing was pushed"
    ), result.stderr
    assert first.cli("verify").exit_code == 0


def test_push_without_a_remote_store_is_a_usage_error(first: Machine) -> None:
    first.env.pop("MODELPM_REMOTE")
    for args in (("sync", "--push"), ("store", "push"), ("store", "verify", "--remote")):
        result = first.cli(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert "no remote store is configured" in result.error or "--push needs" in result.error
    result = first.cli("sync", "--push", "--no-remote")
    assert result.error.startswith("error: --push needs a remote store (and --no-remote turns")
