"""``modelpm publish`` against the test hub: what lands, what is not sent, --dry-run,
"nothing to publish", --delete, --tag, the race rule and the verification after the commit."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from support import Workspace, make_workspace, random_bytes, use_token, write_folder

import modelpm
from modelpm.errors import PublishRaceError
from modelpm.progress import Reporter
from modelpm.sources.hf.publish import HfPublisher
from modelpm.testing import Fault, TestHub
from modelpm.upload.local import LocalFile
from modelpm.values import Commit, RepoRef

WEIGHTS = random_bytes(3_000_000, 11)


@pytest.fixture
def ws(tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    workspace = make_workspace(tmp_path, hub, monkeypatch)
    use_token(hub, monkeypatch, "hf_writer")
    return workspace


def model_folder(ws: Workspace) -> Path:
    return write_folder(
        ws.root / "out",
        {
            "config.json": b'{"hidden_size": 8}\n',
            "model.safetensors": WEIGHTS,
            "tokenizer/vocab.txt": b"a\nb\n",
        },
    )


def hub_bytes(hub: TestHub, repo: str, rev: str = "main") -> dict[str, bytes]:
    return {path: item.source.read_bytes() for path, item in hub.repo(repo).files(rev).items()}


def test_publish_creates_the_repo_and_the_hub_holds_exactly_the_folder(
    ws: Workspace, hub: TestHub
) -> None:
    out = model_folder(ws)
    write_folder(
        out,
        {
            ".git/HEAD": b"ref\n",
            "__pycache__/m.cpython-311.pyc": b"x",
            ".cache/huggingface/download/config.json.metadata": b"x",
            ".modelpm/state.json": b"{}",
            "notes.txt~": b"x",
            ".config.json.swp": b"x",
            ".DS_Store": b"x",
        },
    )
    result = ws.cli("publish", "out", "--repo", "acme/ft", "--create", "-m", "first version")
    assert result.exit_code == 0, result.stderr
    assert "published acme/ft @ main" in result.stderr and "verified 3 files" in result.stderr
    files = hub_bytes(hub, "acme/ft")
    assert set(files) == {
        ".gitattributes",
        "config.json",
        "model.safetensors",
        "tokenizer/vocab.txt",
    }
    assert files["model.safetensors"] == WEIGHTS
    assert hub.repo("acme/ft").files()["model.safetensors"].lfs
    assert hub.repo("acme/ft").history("main")[0].message == "first version"
    puts = [r for r in hub.requests if r.method == "PUT"]
    assert len(puts) == 1 and "authorization" not in puts[0].headers


def test_dry_run_names_every_file_and_changes_nothing(ws: Workspace, hub: TestHub) -> None:
    out = model_folder(ws)
    assert ws.cli("publish", "out", "--repo", "acme/ft", "--create").exit_code == 0
    (out / "config.json").write_bytes(b'{"hidden_size": 16}\n')
    (out / "tokenizer" / "vocab.txt").unlink()
    (out / "README.md").write_bytes(b"# ft\n")
    head = hub.repo("acme/ft").resolve("main")
    hub.reset_stats()
    result = ws.cli("publish", "out", "--repo", "acme/ft", "--dry-run", "--delete")
    assert result.exit_code == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows == [
        ["new", "5", "B", "README.md"],
        ["changed", "20", "B", "config.json"],
        ["unchanged", "3.0", "MB", "model.safetensors"],
        ["deleted", "4", "B", "tokenizer/vocab.txt"],
    ]
    assert "1 new, 1 changed, 1 unchanged, 1 deleted" in result.stderr
    assert hub.repo("acme/ft").resolve("main") == head
    writes = [r for r in hub.requests if r.method not in ("GET", "HEAD")]
    assert writes == [], [(r.method, r.path) for r in writes]
    as_json = ws.cli("publish", "out", "--repo", "acme/ft", "--dry-run", "--json")
    payload = json.loads(as_json.stdout)
    assert payload["dry_run"] and payload["commit"] is None and payload["base"] == head
    assert {f["path"]: f["action"] for f in payload["files"]} == {
        "README.md": "new",
        "config.json": "changed",
        "model.safetensors": "unchanged",
    }, "without --delete, files of the branch the folder lacks are left alone"


def test_unchanged_files_are_not_sent_and_an_unchanged_folder_makes_no_commit(
    ws: Workspace, hub: TestHub
) -> None:
    out = model_folder(ws)
    assert ws.cli("publish", "out", "--repo", "acme/ft", "--create").exit_code == 0
    (out / "config.json").write_bytes(b'{"hidden_size": 16}\n')
    hub.reset_stats()
    result = ws.cli("publish", "out", "--repo", "acme/ft")
    assert result.exit_code == 0, result.stderr
    assert "1 changed, 2 unchanged" in result.stderr
    assert not [r for r in hub.requests if r.method == "PUT"], "the weights were not sent again"
    commit_lines = [r for r in hub.requests if "/commit/" in r.path]
    assert len(commit_lines) == 1
    head = hub.repo("acme/ft").resolve("main")
    hub.reset_stats()
    again = ws.cli("publish", "out", "--repo", "acme/ft")
    assert again.exit_code == 0, again.stderr
    assert "nothing to publish" in again.stderr
    assert hub.repo("acme/ft").resolve("main") == head
    assert not [r for r in hub.requests if r.method in ("POST", "PUT", "DELETE")]


def test_files_the_folder_lacks_stay_unless_delete(ws: Workspace, hub: TestHub) -> None:
    out = model_folder(ws)
    assert ws.cli("publish", "out", "--repo", "acme/ft", "--create").exit_code == 0
    (out / "tokenizer" / "vocab.txt").unlink()
    (out / "extra.json").write_bytes(b"{}")
    assert ws.cli("publish", "out", "--repo", "acme/ft").exit_code == 0
    assert "tokenizer/vocab.txt" in hub.repo("acme/ft").files()
    result = ws.cli("publish", "out", "--repo", "acme/ft", "--delete", "--exclude", "*.json")
    assert result.exit_code == 0, result.stderr
    files = hub.repo("acme/ft").files()
    assert "tokenizer/vocab.txt" not in files, "--delete removes what the selection covers"
    assert "extra.json" in files and ".gitattributes" in files, "not what it leaves out"


def test_a_new_branch_starts_at_main_and_a_tag_marks_the_commit(
    ws: Workspace, hub: TestHub
) -> None:
    model_folder(ws)
    assert ws.cli("publish", "out", "--repo", "acme/ft", "--create").exit_code == 0
    main = hub.repo("acme/ft").resolve("main")
    (ws.root / "out" / "config.json").write_bytes(b'{"lr": 3e-5}\n')
    result = ws.cli("publish", "out", "--repo", "acme/ft", "-r", "exp/lr", "--tag", "v2")
    assert result.exit_code == 0, result.stderr
    repo = hub.repo("acme/ft")
    assert repo.resolve("main") == main
    assert repo.resolve("v2") == repo.resolve("exp/lr") != main
    assert repo.commits[repo.resolve("exp/lr")].parent == main
    taken = ws.cli("publish", "out", "--repo", "acme/ft", "--tag", "v2")
    assert taken.exit_code == 1
    assert taken.error.startswith("error: tag 'v2' already exists in acme/ft")
    assert "modelpm never moves a tag" in taken.error
    assert repo.resolve("main") == main, "refused before anything was pushed"


class RacingPublisher(HfPublisher):
    """The Hub's own client, with another push landing just before the commit is sent."""

    def __init__(self, endpoint: str, token: str, hub: TestHub) -> None:
        super().__init__(endpoint, token)
        self.hub = hub

    def commit(
        self,
        ref: RepoRef,
        *,
        branch: str,
        parent: Commit | None,
        uploads: Sequence[LocalFile],
        deletions: Sequence[str],
        message: str,
        reporter: Reporter,
    ) -> Commit:
        self.hub.repo(ref.repo).commit({"theirs.txt": b"another push\n"}, branch=branch)
        return super().commit(
            ref,
            branch=branch,
            parent=parent,
            uploads=uploads,
            deletions=deletions,
            message=message,
            reporter=reporter,
        )


def test_a_push_that_raced_another_fails_and_nothing_changes(ws: Workspace, hub: TestHub) -> None:
    out = model_folder(ws)
    assert ws.cli("publish", "out", "--repo", "acme/ft", "--create").exit_code == 0
    (out / "config.json").write_bytes(b'{"hidden_size": 16}\n')
    ws.write('[models.other]\nrepo = "acme/other"\n')
    manifest = (ws.root / "models.toml").read_bytes()
    with pytest.raises(PublishRaceError) as caught:
        modelpm.publish(
            out,
            repo="acme/ft",
            pin="ft",
            publisher=RacingPublisher(hub.endpoint, "hf_writer", hub),
        )
    assert "moved from" in caught.value.message and "nothing was committed" in caught.value.message
    files = hub_bytes(hub, "acme/ft")
    assert files["theirs.txt"] == b"another push\n"
    assert files["config.json"] == b'{"hidden_size": 8}\n', "the two pushes were not mixed"
    assert (ws.root / "models.toml").read_bytes() == manifest
    assert not (ws.root / "models.lock").exists()


def test_bytes_the_hub_stored_wrong_are_an_error_not_a_success(ws: Workspace, hub: TestHub) -> None:
    model_folder(ws)
    ws.write("# project\n")
    hub.add_fault(Fault("corrupt_upload", method="PUT"))
    result = ws.cli("publish", "out", "--repo", "acme/ft", "--create", "--pin", "ft")
    assert result.exit_code == 1
    assert result.error.startswith("error: acme/ft @ main: commit ")
    assert "does not hold what was sent: model.safetensors is sha256:" in result.error
    assert "nothing was pinned" in result.error
    assert (ws.root / "models.toml").read_text() == "# project\n"
    assert not (ws.root / "models.lock").exists()
    hub.add_fault(Fault("corrupt_upload", path_contains="/commit/"))
    (ws.root / "out" / "config.json").write_bytes(b'{"hidden_size": 32}\n')
    regular = ws.cli("publish", "out", "--repo", "acme/ft")
    assert regular.exit_code == 1 and "config.json is git-sha1:" in regular.error


def test_a_failed_upload_is_restarted_without_sending_what_the_hub_confirmed(
    ws: Workspace, hub: TestHub
) -> None:
    second = random_bytes(1_000_000, 12)
    write_folder(ws.root / "out", {"a.safetensors": WEIGHTS, "b.safetensors": second})
    oid = hashlib.sha256(second).hexdigest()
    hub.add_fault(Fault("status", status=400, method="PUT", path_contains=oid))
    failed = ws.cli("publish", "out", "--repo", "acme/ft", "--create")
    assert failed.exit_code == 1 and failed.error.startswith("error: ")
    assert "Traceback" not in failed.stderr
    assert set(hub.repo("acme/ft").files()) == {".gitattributes"}, "no commit"
    hub.reset_stats()
    again = ws.cli("publish", "out", "--repo", "acme/ft")
    assert again.exit_code == 0, again.stderr
    puts = [r for r in hub.requests if r.method == "PUT"]
    assert [oid in r.path for r in puts] == [True], "only the object that never arrived"
    assert hub_bytes(hub, "acme/ft")["b.safetensors"] == second


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, int]] = []

    def begin(self, total_files: int, total_bytes: int) -> None:
        self.events.append(("begin", str(total_files), total_bytes))

    def file_started(self, label: str, size: int) -> None:
        self.events.append(("start", label, size))

    def advance(self, label: str, count: int) -> None:
        self.events.append(("advance", label, count))

    def file_done(self, label: str) -> None:
        self.events.append(("done", label, 0))

    def note(self, text: str) -> None:
        pass

    def end(self) -> None:
        self.events.append(("end", "", 0))


def test_upload_progress_follows_the_bytes_even_through_a_retried_part(
    ws: Workspace, hub: TestHub
) -> None:
    hub.multipart_chunk = 1_000_000
    out = model_folder(ws)
    hub.add_fault(Fault("reset", method="PUT", after_bytes=10_000))  # part 1, then again
    recorder = Recorder()
    result = modelpm.publish(out, repo="acme/ft", create=True, reporter=recorder)
    assert result.committed
    assert recorder.events[0] == ("begin", "3", len(WEIGHTS) + 19 + 4)
    advances = [
        count
        for kind, label, count in recorder.events
        if kind == "advance" and label == "model.safetensors"
    ]
    assert sum(advances) == len(WEIGHTS)
    assert any(count < 0 for count in advances), "the rewound part is taken back"
    assert len(advances) > 10, "reported as it goes, not at the end"
    assert ("done", "config.json", 0) in recorder.events
    parts = [r for r in hub.requests if r.method == "PUT"]
    assert sum(r.received_bytes for r in parts) < len(WEIGHTS) + 1_000_000, "one part again"


def test_the_offline_publish_example_runs(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = Path(__file__).resolve().parent.parent / "examples" / "publish_roundtrip.py"
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "requests made by sync on machine A: 0" in done.stdout
    assert "holds the 4 saved files byte for byte: True" in done.stdout


def test_a_private_dataset_is_created_and_published(ws: Workspace, hub: TestHub) -> None:
    data = random_bytes(400_000, 13)
    write_folder(ws.root / "data", {"train.parquet": data, "README.md": b"# d\n"})
    result = ws.cli(
        "publish", "data", "--repo", "acme/d", "--repo-type", "dataset", "--create",
        "--private", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    repo = hub.repo("acme/d", "dataset")
    assert payload["created_repo"] and payload["commit"] == repo.resolve("main")
    assert repo.private and repo.files()["train.parquet"].source.read_bytes() == data
    assert any("/datasets/acme/d.git/info/lfs/objects/batch" in r.path for r in hub.requests)
