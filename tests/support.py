"""Shared helpers for tests that drive modelpm against the loopback test hub."""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelpm.cli.main import app
from modelpm.testing import TestHub

MANIFEST = """\
# A project with a tag, a branch with a '/', patterns, a dataset and a custom dest.
[settings]
dest-root = "models"

[models.tiny]
repo = "acme/tiny"
revision = "v1.0"
include = ["*.json", "*.safetensors", "nested/"]
exclude = ["*.h5"]

[models.tiny-dev]
repo = "acme/tiny"
revision = "feature/x"
include = ["*.safetensors", "config.json"]
dest = "weights/dev"

[models.squad]
repo = "acme/squad"
repo-type = "dataset"
"""


def sha256_tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (an official client's .cache left out) by its sha256."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and ".cache" not in path.relative_to(folder).parts
    }


def random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


@dataclass
class Repos:
    v1: str
    dev: str
    dataset: str


def build_repos(hub: TestHub) -> Repos:
    tiny = hub.create_repo("acme/tiny")
    tiny.commit(
        {
            "config.json": b'{"hidden_size": 8}\n',
            "tokenizer.json": b'{"vocab": ["a", "b"]}\n',
            "model.safetensors": random_bytes(3 * 1024 * 1024 + 7, 1),
            "tf_model.h5": random_bytes(64 * 1024, 2),
            "nested/a.txt": b"nested text\n",
            "nested/deep/b.bin": random_bytes(1000, 3),
            "README.md": b"# tiny\n",
        },
        message="first",
    )
    v1 = tiny.create_tag("v1.0")
    tiny.create_branch("feature/x")
    dev = tiny.commit({"model.safetensors": random_bytes(2 * 1024 * 1024, 4)}, branch="feature/x")
    tiny.commit({"config.json": b'{"hidden_size": 16}\n'}, message="main moves on")
    squad = hub.create_repo("acme/squad", repo_type="dataset")
    dataset = squad.commit(
        {"plain_text/train.parquet": random_bytes(200_000, 5), "README.md": b"squad\n"}
    )
    return Repos(v1=v1, dev=dev, dataset=dataset)


@dataclass
class Workspace:
    """A project folder and a store, both in tmp, with the CLI pointed at the hub."""

    root: Path
    store: Path
    hub: TestHub
    runner: CliRunner

    def cli(self, *args: str) -> CliResult:
        result = self.runner.invoke(app, ["--help"] if not args else list(args))
        return CliResult(result.exit_code, result.stdout, result.stderr, result.exception)

    def write(self, text: str, name: str = "models.toml") -> None:
        (self.root / name).write_text(text, encoding="utf-8")

    def files(self, dest: str) -> dict[str, bytes]:
        base = self.root / dest
        return {
            p.relative_to(base).as_posix(): p.read_bytes()
            for p in sorted(base.rglob("*"))
            if p.is_file()
        }


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def error(self) -> str:
        """The error line and what follows it (progress lines may come before)."""
        lines = self.stderr.splitlines()
        start = next((i for i, line in enumerate(lines) if line.startswith("error: ")), len(lines))
        return "\n".join(lines[start:])


def make_workspace(
    tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch, name: str = "project"
) -> Workspace:
    root = tmp_path / name
    root.mkdir()
    store = tmp_path / f"{name}-store"
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    monkeypatch.setenv("MODELSCOPE_ENDPOINT", hub.modelscope_endpoint)
    monkeypatch.setenv("MODELPM_HOME", str(store))
    monkeypatch.setenv("MODELPM_STALL_TIMEOUT", "2")
    monkeypatch.setenv("MODELPM_RETRY_DELAY", "0.05")  # first retry delay; doubles each time
    monkeypatch.chdir(root)
    return Workspace(root=root, store=store, hub=hub, runner=CliRunner())


def write_folder(root: Path, files: dict[str, bytes]) -> Path:
    """``files`` (relative path -> bytes) written under ``root``; returns ``root``."""
    for name, data in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


def all_text_under(*folders: Path) -> str:
    """Everything a run left on disk, as text, for secret scans."""
    chunks = []
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink():
                chunks.append(path.read_bytes().decode("latin-1"))
                chunks.append(os.fspath(path))
    return "\n".join(chunks)


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Return as soon as ``condition()`` holds (checked every 10 ms); fail after ``timeout``.

    For waiting on another thread or process; never a fixed sleep standing in for one.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def use_token(hub: TestHub, monkeypatch: pytest.MonkeyPatch, token: str) -> str:
    """Make ``token`` valid on the hub and the one modelpm finds (as $HF_TOKEN)."""
    hub.add_token(token)
    monkeypatch.setenv("HF_TOKEN", token)
    return token


needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="mounts a file system (CI runs the suite as root)"
)


@contextlib.contextmanager
def mounted(
    folder: Path,
    kind: str = "tmpfs",
    *,
    size_mb: int = 64,
    read_only: bool = False,
    image: Path | None = None,
) -> Iterator[Path]:
    """A real file system mounted at ``folder`` for the block (``tmpfs``, or ``ext4`` on a
    loop-mounted image file), unmounted after, whatever happened."""
    folder.mkdir(parents=True, exist_ok=True)
    options = "ro" if read_only else "rw"
    if kind == "ext4":
        image = image or folder.with_name(folder.name + ".img")
        with image.open("wb") as handle:
            handle.truncate(size_mb * 1024 * 1024)
        subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True)
        command = ["mount", "-o", f"loop,{options}", str(image), str(folder)]
    else:
        command = ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,{options}", "tmpfs", str(folder)]
    subprocess.run(command, check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
        if kind == "ext4" and image is not None:
            image.unlink(missing_ok=True)


def free_bytes(folder: Path) -> int:
    info = os.statvfs(folder)
    return info.f_bavail * info.f_frsize


def run_as(uid: int, action: Callable[[], int]) -> int:
    """Run ``action`` in a child process that dropped to ``uid`` (and its gid) first, and
    return its result: permission checks bind as they do for that user (root's do not),
    without needing an interpreter that user can execute."""
    import warnings

    with warnings.catch_warnings():  # forking beside the test hub's threads: the child
        warnings.simplefilter("ignore", DeprecationWarning)  # only runs ``action``
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 70
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            code = action()
        except BaseException:  # noqa: BLE001 - the parent sees exit code 70 and this text
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def bounded_lock_failure(ws: Workspace, seconds: float) -> str:
    """``modelpm lock``, which must fail in one line (exit 1, no traceback) within
    ``seconds``: how a hostile endpoint is shown to be bounded."""
    began = time.monotonic()
    result = ws.cli("lock")
    assert time.monotonic() - began < seconds, "the call was bounded"
    assert result.exit_code == 1, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.stderr
    return result.error


def modelpm_process(ws: Workspace, *args: str) -> subprocess.Popen[bytes]:
    """``modelpm ARGS --quiet`` in its own process, on ``ws`` (to be killed, or raced)."""
    env = {
        **os.environ,
        "HF_ENDPOINT": ws.hub.endpoint,
        "MODELPM_HOME": str(ws.store),
        "MODELPM_CONNECTIONS": "4",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "modelpm", *args, "--quiet"],
        cwd=ws.root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
