"""Fixtures shared by every test: a clean environment and a loopback test hub."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

# huggingface_hub reads these once, at import, and with telemetry on it fetches an "agent
# registry" from its endpoint: set both before anything imports it, so that no test can
# ever reach a real hub (a test that forgets HF_ENDPOINT hits a closed loopback port).
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"

import pytest

from modelpm.testing import TestHub

sys.path.insert(0, os.path.dirname(__file__))  # so tests can import support.py


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may read the developer's token or config, or write into ~."""
    for name in list(os.environ):
        if name.startswith(("HF_", "HUGGING_FACE_", "MODELPM_", "MODELSCOPE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # tests point it at their hub
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("MODELPM_HOME", str(tmp_path / "default-store"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))  # modelpm's user config
    # ModelScope's saved login and cache; its endpoint points at a closed loopback port.
    monkeypatch.setenv("MODELSCOPE_HOME", str(tmp_path / "modelscope-home"))
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "modelscope-cache"))
    monkeypatch.setenv("MODELSCOPE_ENDPOINT", "http://127.0.0.1:9")


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[TestHub]:
    with TestHub(tmp_path / "hub") as server:
        yield server
