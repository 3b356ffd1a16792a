"""The remote store under stress, against the real server: pushes from two machines at
once, kill -9 during a push and during a read, an upload whose bytes go bad on the way,
and credentials that never show anywhere."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from remote_support import (
    Machine,
    address,
    build_repo,
    copy_project,
    machine,
    object_keys,
    remote_env,
)
from s3server import ADMIN, REGION, Proxy, SeaweedS3
from support import all_text_under, random_bytes, wait_until

from modelpm.errors import IntegrityError
from modelpm.hashing import digest_bytes, hash_file
from modelpm.s3url import object_name
from modelpm.store.remote.account import Account
from modelpm.store.remote.client import RemoteClient
from modelpm.testing import TestHub

MiB = 1024 * 1024


@pytest.fixture
def env(s3_server: SeaweedS3, bucket: str) -> dict[str, str]:
    return remote_env(s3_server.endpoint, bucket)


def synced_without_remote(m: Machine) -> None:
    remote = m.env.pop("MODELPM_REMOTE")
    result = m.cli("sync")
    assert result.exit_code == 0, result.stderr
    m.env["MODELPM_REMOTE"] = remote


def remote_objects_verify(s3_server: SeaweedS3, bucket: str) -> None:
    client = RemoteClient(address(bucket), Account(s3_server.endpoint, REGION, True, ADMIN))
    for name in object_keys(s3_server, bucket):
        listed = next(item for item in client.listing() if item.name == name)
        assert listed.digest is not None
        data = b"".join(client.read(listed.digest))
        assert digest_bytes(listed.digest.algorithm, data) == listed.digest, name


def test_two_machines_pushing_at_once_upload_each_object_once(
    tmp_path: Path,
    hub: TestHub,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    s3_server: SeaweedS3,
    bucket: str,
) -> None:
    build_repo(hub)
    one = machine(tmp_path, hub, monkeypatch, "one", env)
    two = machine(tmp_path, hub, monkeypatch, "two", env)
    synced_without_remote(one)
    copy_project(one, two)
    synced_without_remote(two)
    proxy = Proxy(s3_server.port, rate=8 * MiB)  # slow enough that the uploads overlap
    try:
        both = [
            m.process("store", "push", env={"AWS_ENDPOINT_URL": proxy.endpoint}) for m in (one, two)
        ]
        outputs = [process.communicate(timeout=120) for process in both]
    finally:
        proxy.close()
    # Both sent the large object: the race was real, and the conditional put settled it.
    assert proxy.bytes_up > 36 * MiB
    uploaded = 0
    for process, (_, err) in zip(both, outputs, strict=True):
        text = err.decode()
        assert process.returncode == 0, text
        uploaded += int(text.strip().splitlines()[-1].split()[1])  # "uploaded N objects …"
    assert uploaded == 4  # each key written by exactly one of them
    assert len(object_keys(s3_server, bucket)) == 4
    remote_objects_verify(s3_server, bucket)


def test_kill_minus_nine_during_a_push_leaves_no_bad_object(
    tmp_path: Path,
    hub: TestHub,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    s3_server: SeaweedS3,
    bucket: str,
) -> None:
    build_repo(hub)
    m = machine(tmp_path, hub, monkeypatch, "m", env)
    synced_without_remote(m)
    proxy = Proxy(s3_server.port, rate=4 * MiB)
    try:
        process = m.process("store", "push", env={"AWS_ENDPOINT_URL": proxy.endpoint})
        wait_until(lambda: proxy.bytes_up > 8 * MiB, 60, "half of the large upload")
        process.send_signal(signal.SIGKILL)
        process.communicate()
    finally:
        proxy.close()
    big = hash_file(m.ws.root / "models/m/model.safetensors", "sha256")
    keys = object_keys(s3_server, bucket)
    assert object_name(big) not in keys  # cut short: no object, not a truncated one
    remote_objects_verify(s3_server, bucket)  # whatever did land is whole
    result = m.cli("store", "push")
    assert result.exit_code == 0, result.stderr
    assert object_name(big) in object_keys(s3_server, bucket)
    assert m.cli("store", "verify", "--remote").exit_code == 0


def test_kill_minus_nine_during_a_remote_read_resumes_from_the_bucket(
    tmp_path: Path,
    hub: TestHub,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    s3_server: SeaweedS3,
    bucket: str,
) -> None:
    build_repo(hub)
    one = machine(tmp_path, hub, monkeypatch, "one", env)
    assert one.cli("sync", "--push").exit_code == 0
    two = machine(tmp_path, hub, monkeypatch, "two", env)
    copy_project(one, two)
    hub.reset_stats()
    proxy = Proxy(s3_server.port, rate=5 * MiB)
    try:
        slow = {"AWS_ENDPOINT_URL": proxy.endpoint, "MODELPM_CONNECTIONS": "1"}
        process = two.process("sync", env=slow)
        wait_until(lambda: proxy.bytes_down > 8 * MiB, 60, "bytes from the bucket")
        process.send_signal(signal.SIGKILL)
        process.communicate()
    finally:
        proxy.close()
    big = hash_file(one.ws.root / "models/m/model.safetensors", "sha256")
    store = two.ws.store
    assert not (store / "objects/sha256" / big.hexdigest[:2] / big.hexdigest).exists()
    assert (store / "partial" / f"{big.key}.part").exists()
    dest = two.ws.root / "models/m"
    for path in dest.rglob("*") if dest.exists() else []:  # only verified files are visible
        if path.is_file() and path.name == "model.safetensors":
            raise AssertionError("an unverified file is visible")
    resumed = Proxy(s3_server.port)
    try:
        two.env["AWS_ENDPOINT_URL"] = resumed.endpoint
        result = two.cli("sync")
    finally:
        resumed.close()
    assert result.exit_code == 0, result.stderr
    assert resumed.bytes_down < 14 * MiB  # resumed: not the whole 20 MiB again
    assert hub.request_count == 0
    assert two.cli("verify").exit_code == 0


def test_an_upload_whose_bytes_do_not_match_never_becomes_an_object(
    tmp_path: Path, s3_server: SeaweedS3, bucket: str
) -> None:
    client = RemoteClient(address(bucket), Account(s3_server.endpoint, REGION, True, ADMIN))
    for size in (1000, 40 * MiB):  # one conditional put; a multipart upload of 3 parts
        data = random_bytes(size, size)
        claimed = digest_bytes("sha256", data[:-1] + b"x")  # what the file should have been
        path = tmp_path / f"f{size}"
        path.write_bytes(data)
        with pytest.raises(IntegrityError):
            client.put_verified(path, claimed, size)
        assert client.size_of(claimed) is None
        good = digest_bytes("sha256", data)
        assert client.put_verified(path, good, size) is True
        assert client.put_verified(path, good, size) is False  # already there: idempotent
    assert len(object_keys(s3_server, bucket)) == 2


def test_credentials_never_leak(
    tmp_path: Path,
    hub: TestHub,
    monkeypatch: pytest.MonkeyPatch,
    s3_server: SeaweedS3,
    bucket: str,
) -> None:
    build_repo(hub, big=3 * MiB)
    secret_env = remote_env(s3_server.endpoint, bucket)
    token = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN-never-shown"
    secret_env["AWS_SESSION_TOKEN"] = token  # SeaweedFS ignores it; it must still not leak
    m = machine(tmp_path, hub, monkeypatch, "m", secret_env)
    outputs = []
    for args in (
        ("sync", "--push", "-v"),
        ("store", "push"),
        ("store", "verify", "--remote"),
        ("store", "gc", "--remote", "models.lock", "--dry-run"),
        ("status", "--json"),
    ):
        result = m.cli(*args)
        outputs += [result.stdout, result.stderr]
    # And the failures: a wrong secret, then a bucket that does not exist.
    for broken in (
        remote_env(s3_server.endpoint, bucket, type(ADMIN)(ADMIN.access_key_id, "wrong-secret")),
        remote_env(s3_server.endpoint, "no-such-bucket-x"),
    ):
        m.env = {**broken, "AWS_SESSION_TOKEN": token}
        for path in (m.ws.root / "models/m").iterdir():
            path.unlink()
        for args in (("sync", "-v"), ("store", "push"), ("store", "verify", "--remote")):
            result = m.cli(*args)
            outputs += [result.stdout, result.stderr, repr(result.exception)]
    text = "\n".join(outputs) + all_text_under(m.ws.root, m.ws.store)
    for secret in (ADMIN.secret_access_key, token, ADMIN.access_key_id):
        assert secret not in text
    from modelpm.config import build_config

    config = build_config(None, None, env=secret_env)
    assert ADMIN.secret_access_key not in repr(config) and token not in repr(config)
    assert ADMIN.access_key_id not in repr(config)
