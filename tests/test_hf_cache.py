"""``export hf-cache`` and ``run``, judged by the official client itself, offline.

The official client reads its cache location and offline switch at import, so
each check runs it in a fresh Python process with ``HF_HUB_CACHE`` and
``HF_HUB_OFFLINE=1`` set and ``HF_ENDPOINT`` on a closed port: if it found
nothing locally it would have to fail, not fetch. ``hf cache verify`` runs online
against the test hub, which compares every exported file with the hub's hashes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import Workspace, make_workspace, random_bytes

from modelpm.testing import TestHub

BERT = {
    "config.json": b'{"model_type": "bert"}\n',
    "nested/vocab.txt": b"[PAD]\n[UNK]\n",
    "model.safetensors": random_bytes(200_000, 1),
    "tf_model.h5": random_bytes(200_001, 2),
}
MANIFEST = """\
[models.bert]
repo = "acme/bert"

[models.bert-dev]
repo = "acme/bert"
revision = "feature/x"

[models.squad]
repo = "acme/squad"
repo-type = "dataset"
"""
OFFICIAL = """
import json, sys
from huggingface_hub import hf_hub_download, snapshot_download
out = {}
for repo, kind, revision, name in json.loads(sys.argv[1]):
    try:
        if name:
            path = hf_hub_download(repo, name, repo_type=kind, revision=revision)
            out[f"{repo}@{revision}:{name}"] = open(path, "rb").read().hex()
        else:
            folder = snapshot_download(repo, repo_type=kind, revision=revision)
            out[f"{repo}@{revision}"] = sorted(
                str(p.relative_to(folder)) for p in __import__("pathlib").Path(folder).rglob("*")
                if p.is_file()
            )
    except Exception as exc:
        out[f"{repo}@{revision}:{name}"] = type(exc).__name__
print(json.dumps(out))
"""


def official(cache: Path, *calls: tuple[str, str, str | None, str | None]) -> dict[str, object]:
    """What the official client, offline, reads from ``cache`` for each call."""
    env = {
        **os.environ,
        "HF_HUB_CACHE": str(cache),
        "HF_HUB_OFFLINE": "1",
        "HF_ENDPOINT": "http://127.0.0.1:9",
    }
    done = subprocess.run(
        [sys.executable, "-c", OFFICIAL, json.dumps(calls)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.fixture
def ws(tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    workspace = make_workspace(tmp_path, hub, monkeypatch)
    bert = hub.create_repo("acme/bert")
    bert.commit(BERT)
    bert.create_branch("feature/x")
    bert.commit({"config.json": b'{"model_type": "bert", "dev": 1}\n'}, branch="feature/x")
    hub.create_repo("acme/squad", repo_type="dataset").commit({"train.csv": b"a,b\n1,2\n"})
    workspace.write(MANIFEST)
    assert workspace.cli("sync").exit_code == 0
    return workspace


def tree(folder: Path) -> dict[str, str]:
    """Every entry under ``folder``: a symlink's target, else the file's size."""
    return {
        p.relative_to(folder).as_posix(): os.readlink(p)
        if p.is_symlink()
        else str(p.stat().st_size)
        for p in sorted(folder.rglob("*"))
        if p.is_file() or p.is_symlink()
    }


def test_the_official_client_reads_the_exported_cache_offline(
    ws: Workspace, tmp_path: Path, hub: TestHub
) -> None:
    cache = tmp_path / "hf-cache"
    result = ws.cli("export", "hf-cache", str(cache))
    assert result.exit_code == 0, result.stderr
    assert "exported bert: models--acme--bert @ main" in result.stderr
    got = official(
        cache,
        ("acme/bert", "model", "main", "model.safetensors"),
        ("acme/bert", "model", "feature/x", "config.json"),
        ("acme/bert", "model", None, None),
        ("acme/squad", "dataset", "main", "train.csv"),
        ("acme/bert", "model", "main", "tf_model.h5"),  # skipped by weights: not in the cache
    )
    assert got["acme/bert@main:model.safetensors"] == BERT["model.safetensors"].hex()
    assert got["acme/bert@feature/x:config.json"] == b'{"model_type": "bert", "dev": 1}\n'.hex()
    assert got["acme/bert@None"] == ["config.json", "model.safetensors", "nested/vocab.txt"]
    assert got["acme/squad@main:train.csv"] == b"a,b\n1,2\n".hex()
    assert got["acme/bert@main:tf_model.h5"] == "LocalEntryNotFoundError"
    # The layout, as the client writes it: blobs named by etag, relative links, refs.
    folder = cache / "models--acme--bert"
    main = hub.repo("acme/bert").resolve("main")
    entries = tree(folder)
    assert entries[f"snapshots/{main}/nested/vocab.txt"].startswith("../../../blobs/")
    assert (folder / "refs" / "main").read_text() == main
    assert (folder / "refs" / "feature" / "x").read_text() == hub.repo("acme/bert").resolve(
        "feature/x"
    )
    sha = hub.repo("acme/bert").files()["model.safetensors"].sha256
    blob = folder / "blobs" / str(sha)
    store_object = next((ws.store / "objects").rglob(str(sha)))
    assert blob.stat().st_ino == store_object.stat().st_ino  # a hard link, no copy


def test_hf_cache_verify_passes_on_the_export(ws: Workspace, tmp_path: Path, hub: TestHub) -> None:
    cache = tmp_path / "hf-cache"
    assert ws.cli("export", "hf-cache", str(cache)).exit_code == 0
    hf = Path(sys.executable).with_name("hf")
    env = {**os.environ, "HF_ENDPOINT": hub.endpoint, "HF_HUB_DISABLE_TELEMETRY": "1"}
    for repo, kind, revision in (
        ("acme/bert", "model", "main"),
        ("acme/bert", "model", "feature/x"),
        ("acme/squad", "dataset", "main"),
    ):
        args = [str(hf), "cache", "verify", repo, "--repo-type", kind, "--revision", revision]
        done = subprocess.run(
            [*args, "--cache-dir", str(cache), "--fail-on-extra-files", "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        report = json.loads(done.stdout)
        assert report["checked"] == (3 if kind == "model" else 1), report
    # A corrupted blob is what verify exists to catch: the check can fail.
    blob = next((cache / "models--acme--bert" / "blobs").iterdir())
    blob.unlink()
    blob.write_bytes(b"tampered")
    done = subprocess.run(
        [str(hf), "cache", "verify", "acme/bert", "--cache-dir", str(cache)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0


def test_export_is_idempotent_and_leaves_other_repos_alone(ws: Workspace, tmp_path: Path) -> None:
    cache = tmp_path / "hf-cache"
    other = cache / "models--someone--else" / "snapshots" / ("c" * 40)
    other.mkdir(parents=True)
    (other / "config.json").write_text("{}")
    assert ws.cli("export", "hf-cache", str(cache)).exit_code == 0
    before = tree(cache)
    again = ws.cli("export", "hf-cache", str(cache))
    assert again.exit_code == 0
    assert "already there" in again.stderr
    assert tree(cache) == before
    assert (other / "config.json").read_text() == "{}"


def test_export_defaults_to_the_official_cache_and_fetches_what_the_store_lacks(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    shutil.rmtree(ws.store)  # a fresh machine: the lock, no store
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    result = ws.cli("export", "hf-cache", "--model", "bert")
    assert result.exit_code == 0, result.stderr
    assert f"cache: {tmp_path / 'home' / 'hub'}" in result.stderr
    assert sorted(p.name for p in (tmp_path / "home" / "hub").iterdir()) == ["models--acme--bert"]


def test_export_refuses_a_stale_lock(ws: Workspace, tmp_path: Path) -> None:
    ws.write(MANIFEST + '\n[models.other]\nrepo = "acme/bert"\nrevision = "feature/x"\n')
    result = ws.cli("export", "hf-cache", str(tmp_path / "c"))
    assert result.exit_code == 1
    assert result.error == (
        "error: models.lock is out of date: not locked yet: other\n"
        "hint: run `modelpm sync` first (`modelpm sync --locked` in CI)"
    )
    assert not (tmp_path / "c").exists()


RUNNER = """
import json, os
from huggingface_hub import hf_hub_download, snapshot_download
path = hf_hub_download("acme/bert", "config.json")
files = sorted(os.listdir(snapshot_download("acme/bert")))
print(json.dumps({"cache": os.environ["HF_HUB_CACHE"], "offline": os.environ["HF_HUB_OFFLINE"],
                  "config": open(path).read(), "files": files}))
"""


def test_run_gives_a_command_exactly_the_locked_files_by_repo_id(ws: Workspace) -> None:
    # An old export of something the lock no longer pins must not stay loadable.
    stale = ws.root / ".modelpm" / "hf-cache" / "models--acme--gone" / "refs"
    stale.mkdir(parents=True)
    (stale / "main").write_text("d" * 40)
    done = subprocess.run(
        [sys.executable, "-m", "modelpm", "run", "--", sys.executable, "-c", RUNNER],
        cwd=ws.root,
        env={**os.environ, "HF_ENDPOINT": "http://127.0.0.1:9"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["cache"] == str(ws.root / ".modelpm" / "hf-cache")
    assert seen["offline"] == "1"
    assert seen["config"] == BERT["config.json"].decode()
    assert seen["files"] == ["config.json", "model.safetensors", "nested"]
    assert not (ws.root / ".modelpm" / "hf-cache" / "models--acme--gone").exists()


def test_run_passes_the_exit_code_and_names_a_missing_command(ws: Workspace) -> None:
    failed = ws.cli("run", "--", sys.executable, "-c", "raise SystemExit(3)")
    assert failed.exit_code == 3
    missing = ws.cli("run", "--", "no-such-command-here")
    assert missing.exit_code == 2
    assert missing.error.startswith("error: cannot run 'no-such-command-here': no such command")
    empty = ws.cli("run")
    assert empty.exit_code == 2
