"""Fixtures shared by every test: a clean environment, a loopback test hub, and (for the
remote store's tests) a real S3-compatible server on 127.0.0.1."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path

# huggingface_hub reads these once, at import, and with telemetry on it fetches an "agent
# registry" from its endpoint: set both before anything imports it, so that no test can
# ever reach a real hub (a test that forgets HF_ENDPOINT hits a closed loopback port).
# Xet likewise: the test hub speaks no Xet, and the client reads this switch at import.
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_VERBOSITY"] = "error"  # as the command sets it: no client chatter
os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"
os.environ["HF_HUB_DISABLE_XET"] = "1"

import pytest

from modelpm.testing import TestHub

sys.path.insert(0, os.path.dirname(__file__))  # so tests can import support.py
from s3server import SeaweedS3


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may read the developer's token or config, or write into ~."""
    for name in list(os.environ):
        if name.startswith(("HF_", "HUGGING_FACE_", "MODELPM_", "AWS_", "MODELSCOPE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HUB_VERBOSITY", "error")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # tests point it at their hub
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("MODELPM_HOME", str(tmp_path / "default-store"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    # The developer's ~/.aws is never read: the remote store's tests bring their own.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws" / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws" / "credentials"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))  # modelpm's user config
    # ModelScope's saved login and cache; its endpoint points at a closed loopback port.
    monkeypatch.setenv("MODELSCOPE_HOME", str(tmp_path / "modelscope-home"))
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "modelscope-cache"))
    monkeypatch.setenv("MODELSCOPE_ENDPOINT", "http://127.0.0.1:9")


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[TestHub]:
    with TestHub(tmp_path / "hub") as server:
        yield server


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """One SeaweedFS for the session (it takes a few seconds to start); each test gets its
    own bucket."""
    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs")).start()
    try:
        yield server
    finally:
        server.stop()


_buckets = itertools.count()


@pytest.fixture
def bucket(s3_server: SeaweedS3) -> str:
    """A new, empty bucket on the session's server."""
    name = f"bucket-{os.getpid()}-{next(_buckets)}"
    s3_server.create_bucket(name)
    return name
