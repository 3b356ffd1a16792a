"""Helpers for the remote store's tests: machines that share a bucket, and what it holds."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import obstore
import pytest
from obstore.store import S3Store
from s3server import ADMIN, REGION, SeaweedS3
from support import CliResult, Workspace, make_workspace, random_bytes

from modelpm.s3url import AwsCredentials, S3Address, digest_of_name
from modelpm.testing import TestHub

MiB = 1024 * 1024
PREFIX = "team"
MANIFEST = '[models.m]\nrepo = "acme/m"\n'


def build_repo(hub: TestHub, big: int = 20 * MiB) -> None:
    hub.create_repo("acme/m").commit(
        {
            "config.json": b'{"layers": 2}',
            "tokenizer.json": b'{"vocab": ["a"]}',
            "model.safetensors": random_bytes(big, 11),
            "small.safetensors": random_bytes(300_000, 12),
        }
    )


@dataclass
class Machine:
    """One machine of a team: its own project folder and store, the shared bucket."""

    ws: Workspace
    monkeypatch: pytest.MonkeyPatch
    env: dict[str, str]

    def cli(self, *args: str) -> CliResult:
        for name, value in self.env.items():
            self.monkeypatch.setenv(name, value)
        self.monkeypatch.setenv("MODELPM_HOME", str(self.ws.store))
        self.monkeypatch.chdir(self.ws.root)
        return self.ws.cli(*args)

    def process(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
        """``modelpm ARGS`` as its own process on this machine."""
        full = {**os.environ, **self.env, "MODELPM_HOME": str(self.ws.store), **(env or {})}
        return subprocess.Popen(
            [sys.executable, "-m", "modelpm", *args],
            cwd=self.ws.root,
            env=full,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )


def remote_env(
    endpoint: str, bucket: str, credentials: AwsCredentials | None = ADMIN
) -> dict[str, str]:
    env = {
        "MODELPM_REMOTE": f"s3://{bucket}/{PREFIX}",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": REGION,
        "MODELPM_STALL_TIMEOUT": "2",
        "MODELPM_RETRY_DELAY": "0.05",
    }
    if credentials is not None:
        env["AWS_ACCESS_KEY_ID"] = credentials.access_key_id
        env["AWS_SECRET_ACCESS_KEY"] = credentials.secret_access_key
    return env


def machine(
    tmp_path: Path,
    hub: TestHub,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    env: dict[str, str],
    manifest: str = MANIFEST,
) -> Machine:
    ws = make_workspace(tmp_path, hub, monkeypatch, name=name)
    ws.write(manifest)
    return Machine(ws, monkeypatch, dict(env))


def copy_project(source: Machine, target: Machine) -> None:
    """The committed files (models.toml, models.lock) of ``source`` on ``target``."""
    for name in ("models.toml", "models.lock"):
        (target.ws.root / name).write_bytes((source.ws.root / name).read_bytes())


def bucket_store(server: SeaweedS3, bucket: str) -> S3Store:
    return S3Store(
        bucket,
        endpoint=server.endpoint,
        region=REGION,
        access_key_id=ADMIN.access_key_id,
        secret_access_key=ADMIN.secret_access_key,
        client_options={"allow_http": True},
        virtual_hosted_style_request=False,
    )


def bucket_keys(server: SeaweedS3, bucket: str) -> dict[str, int]:
    """Every key in the bucket, with its size."""
    store = bucket_store(server, bucket)
    return {str(meta["path"]): int(meta["size"]) for batch in obstore.list(store) for meta in batch}


def object_keys(server: SeaweedS3, bucket: str) -> dict[str, int]:
    """The object keys under the prefix (relative to it), checked to be well-formed."""
    found = {}
    for key, size in bucket_keys(server, bucket).items():
        assert key.startswith(PREFIX + "/"), key
        name = key[len(PREFIX) + 1 :]
        if name == "modelpm-remote.json":
            continue
        assert digest_of_name(name) is not None, f"a key modelpm would never write: {key}"
        found[name] = size
    return found


def put_raw(server: SeaweedS3, bucket: str, name: str, data: bytes) -> None:
    """Write ``data`` at ``PREFIX/name`` behind modelpm's back (a corrupted bucket)."""
    obstore.put(bucket_store(server, bucket), f"{PREFIX}/{name}", data)


def address(bucket: str) -> S3Address:
    return S3Address(bucket, PREFIX)
