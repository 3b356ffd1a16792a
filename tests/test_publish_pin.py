"""``publish --pin``: the published bytes become a locked dependency, with no second download,
and the user's folder is never touched; and every refusal a push can meet is one clear error."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from support import Workspace, make_workspace, random_bytes, use_token

from modelpm.lockfile import read_lock
from modelpm.testing import TestHub

WEIGHTS = random_bytes(2_000_000, 21)
COMMENTED = """\
# The models of this project.
[settings]
dest-root = "models"   # where models go

# the base model, kept as it is
[models.base]
repo = "acme/base"

# our fine-tune: pinned by `modelpm publish --pin`
[models.ft]
repo = "acme/old-name"   # the repo moved
include = ["*.json"]
dest = "weights/ft"      # keep this
"""


@pytest.fixture
def ws(tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    workspace = make_workspace(tmp_path, hub, monkeypatch)
    use_token(hub, monkeypatch, "hf_writer")
    out = workspace.root / "out"
    out.mkdir()
    (out / "config.json").write_bytes(b'{"hidden_size": 8}\n')
    (out / "model.safetensors").write_bytes(WEIGHTS)
    return workspace


def test_pin_locks_the_new_commit_and_sync_needs_no_request(ws: Workspace, hub: TestHub) -> None:
    ws.write("# my project\n")
    result = ws.cli("publish", "out", "--repo", "acme/ft", "--create", "--tag", "v1", "--pin", "ft")
    assert result.exit_code == 0, result.stderr
    assert "pinned ft: added [models.ft]" in result.stderr
    text = (ws.root / "models.toml").read_text()
    assert text == '# my project\n\n[models.ft]\nrepo = "acme/ft"\nrevision = "v1"\n'
    lock = read_lock(ws.root / "models.lock")
    assert lock is not None
    model = lock.get("ft")
    assert model is not None and model.revision == "v1"
    assert model.commit == hub.repo("acme/ft").resolve("v1") == hub.repo("acme/ft").resolve("main")
    paths = {item.path: item for item in model.files}
    assert set(paths) == {".gitattributes", "config.json", "model.safetensors"}
    assert str(paths["model.safetensors"].digest).startswith("sha256:")
    # The lock is what `modelpm lock` would write from scratch.
    locked_bytes = (ws.root / "models.lock").read_bytes()
    (ws.root / "models.lock").unlink()
    assert ws.cli("lock").exit_code == 0
    assert (ws.root / "models.lock").read_bytes() == locked_bytes
    hub.reset_stats()
    synced = ws.cli("sync", "--locked")
    assert synced.exit_code == 0, synced.stderr
    assert hub.request_count == 0, [r.path for r in hub.requests]
    assert ws.files("models/ft") == {
        ".gitattributes": hub.repo("acme/ft").files()[".gitattributes"].source.read_bytes(),
        "config.json": b'{"hidden_size": 8}\n',
        "model.safetensors": WEIGHTS,
    }


def test_the_users_folder_is_never_linked_into_the_store(ws: Workspace) -> None:
    ws.write("")
    weights = ws.root / "out" / "model.safetensors"
    before = weights.stat()
    assert ws.cli("publish", "out", "--repo", "acme/ft", "--create", "--pin", "ft").exit_code == 0
    after = weights.stat()
    assert (after.st_ino, after.st_mode, after.st_nlink) == (
        before.st_ino,
        before.st_mode,
        before.st_nlink,
    )
    assert after.st_mode & stat.S_IWUSR, "still writable"
    objects = [p for p in (ws.store / "objects").rglob("*") if p.is_file()]
    assert objects and all(p.stat().st_ino != after.st_ino for p in objects)
    weights.write_bytes(b"the user edits their file")  # does not damage the store
    assert ws.cli("verify").exit_code == 1  # nothing placed yet
    assert ws.cli("sync").exit_code == 0
    assert (ws.root / "models" / "ft" / "model.safetensors").read_bytes() == WEIGHTS


def test_pin_updates_an_existing_table_keeping_comments_and_dest(
    ws: Workspace, hub: TestHub
) -> None:
    ws.write(COMMENTED)
    hub.add_token("hf_writer")
    base = hub.create_repo("acme/base")
    base.commit({"config.json": b"{}"})
    assert ws.cli("lock").exit_code == 1  # acme/old-name does not exist: irrelevant here
    result = ws.cli("publish", "out", "--repo", "acme/ft", "--create", "--pin", "ft", "-x", "*.md")
    assert result.exit_code == 0, result.stderr
    assert "updated [models.ft]" in result.stderr
    assert (ws.root / "models.toml").read_text() == COMMENTED.replace(
        'repo = "acme/old-name"   # the repo moved\ninclude = ["*.json"]\n',
        'repo = "acme/ft"   # the repo moved\n',
    ).replace(
        'dest = "weights/ft"      # keep this\n',
        'dest = "weights/ft"      # keep this\nexclude = ["*.md"]\n',
    )
    lock = read_lock(ws.root / "models.lock")
    assert lock is not None and [m.name for m in lock.models] == ["ft"]
    assert ws.cli("sync", "ft").exit_code == 0
    assert (ws.root / "weights" / "ft" / "model.safetensors").read_bytes() == WEIGHTS


def test_without_pin_no_project_file_is_touched(ws: Workspace) -> None:
    ws.write("# untouched\n")
    assert ws.cli("publish", "out", "--repo", "acme/ft", "--create").exit_code == 0
    assert sorted(os.listdir(ws.root)) == ["models.toml", "out"]


def test_pin_without_a_project_stops_before_pushing(ws: Workspace, hub: TestHub) -> None:
    result = ws.cli("publish", "out", "--repo", "acme/ft", "--create", "--pin", "ft")
    assert result.exit_code == 2 and result.error.startswith("error: no models.toml")
    assert hub.find_repo("acme/ft", "model") is None


@pytest.mark.parametrize(
    ("setup", "args", "error", "hint"),
    [
        (
            "no token",
            [],
            "error: publishing to http://127.0.0.1:{port} needs a token, and none is set",
            "hint: set HF_TOKEN to a token with write access",
        ),
        (
            "read-only token",
            [],
            "error: http://127.0.0.1:{port} refused to write to acme/ft @ main (403): You don't "
            "have the rights to write to acme/ft: the token is read-only",
            "hint: set HF_TOKEN to a token with write access to the repo",
        ),
        (
            "missing repo",
            [],
            "error: acme/nope does not exist on http://127.0.0.1:{port}",
            "hint: add --create to create it",
        ),
        (
            "protected branch",
            [],
            "error: http://127.0.0.1:{port} refused to write to acme/ft @ main (403): Cannot push "
            "to main: it is a protected branch",
            "hint: publish to another branch with --revision BRANCH",
        ),
        (
            "file too large",
            [],
            "error: http://127.0.0.1:{port} refused the upload to acme/ft @ main: LFS batch API "
            "returned errors: Encountered error for file with OID",
            "hint: split large files (safetensors shards) or exclude them",
        ),
    ],
)
def test_every_refusal_is_one_error_line_and_exit_1(
    ws: Workspace,
    hub: TestHub,
    monkeypatch: pytest.MonkeyPatch,
    setup: str,
    args: list[str],
    error: str,
    hint: str,
) -> None:
    ws.write("# project\n")
    repo = hub.create_repo("acme/ft")
    repo.commit({".gitattributes": b"*.safetensors filter=lfs\n"})
    head = repo.resolve("main")
    target = "acme/ft"
    if setup == "no token":
        monkeypatch.delenv("HF_TOKEN")
    elif setup == "read-only token":
        use_token(hub, monkeypatch, "hf_reader")
        hub.writers["hf_reader"] = False
    elif setup == "missing repo":
        target = "acme/nope"
    elif setup == "protected branch":
        repo.protected.add("main")
    else:
        hub.max_file_size = 1_000_000
    result = ws.cli("publish", "out", "--repo", target, "--pin", "ft", *args)
    port = hub.endpoint.rsplit(":", 1)[1]
    assert result.exit_code == 1, result.stderr
    lines = result.error.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith(error.format(port=port)), lines[0]
    assert lines[1].startswith(hint), lines[1]
    assert repo.resolve("main") == head
    assert (ws.root / "models.toml").read_text() == "# project\n"
    assert not (ws.root / "models.lock").exists()


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["missing-folder", "--repo", "acme/ft"], "error: missing-folder is not a folder"),
        (["out", "--repo", "not a repo"], "error: --repo 'not a repo' is not a valid repo id"),
        (["out", "--repo", "acme/ft", "--repo-type", "zoo"], "error: --repo-type 'zoo' is not"),
        (["out", "--repo", "acme/ft", "-r", "a" * 40], "error: --revision 'aaaa"),
        (["out", "--repo", "acme/ft", "-i", "*.nothing"], "error: no file of out to publish"),
        (["out", "--repo", "acme/ft", "--pin", "bad name!"], "error: models.toml"),
    ],
)
def test_bad_arguments_exit_2_before_any_request(
    ws: Workspace, hub: TestHub, args: list[str], error: str
) -> None:
    ws.write("")
    hub.reset_stats()
    result = ws.cli("publish", *args)
    assert result.exit_code == 2, result.stderr
    assert result.error.startswith(error), result.error
    assert not [r for r in hub.requests if r.method != "GET"]
