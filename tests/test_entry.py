"""The command's entry point: a no-op `sync` answered before the CLI framework loads, and
the same answers as the full CLI everywhere else."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from support import Workspace, make_workspace

import modelpm
from modelpm.cli.main import app
from modelpm.entry import (
    STATUS_FLAGS,
    STATUS_OPTIONS,
    SYNC_FLAGS,
    SYNC_FOR_THE_CLI,
    SYNC_OPTIONS,
    VERIFY_FLAGS,
    VERIFY_OPTIONS,
    answer_noop_sync,
    answer_synced_status,
    answer_verify,
)
from modelpm.testing import TestHub
from modelpm.workflow.reading import status
from modelpm.workflow.syncing import in_sync


@pytest.fixture
def ws(tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    workspace = make_workspace(tmp_path, hub, monkeypatch)
    hub.create_repo("acme/m").commit({"config.json": b"{}", "w.safetensors": b"w" * 5000})
    workspace.write('[models.m]\nrepo = "acme/m"\n')
    return workspace


def test_a_synced_project_is_answered_without_the_cli_or_the_network(
    ws: Workspace, hub: TestHub, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ws.cli("sync").exit_code == 0
    hub.reset_stats()
    for argv in (
        ["sync"],
        ["sync", "m", "--locked"],
        ["sync", "--project", str(ws.root), "-q"],
        ["sync", "--jobs=3", "--connections", "2", "--frozen", "--offline"],
    ):
        assert answer_noop_sync(argv), argv
    assert hub.request_count == 0
    assert capsys.readouterr().err.splitlines()[0] == "everything is in place (2 files)"


# What each fast path must leave to the CLI, on a synced project.
FOR_THE_CLI = [
    ["sync", "--help"],
    ["sync", "--jobs", "0"],
    ["sync", "-j=2"],
    ["sync", "--bogus"],
    ["sync", "--project"],
    ["sync", "nope"],
    ["status", "--help"],
    ["status", "m"],
    ["status", "--project"],
    ["status", "-j"],
    ["verify", "--help"],
    ["verify", "-j", "0"],
    ["verify", "-j", "2", "--jobs", "3"],
    ["verify", "--bogus"],
    ["verify", "nope"],
    [],
]


@pytest.mark.parametrize("argv", FOR_THE_CLI)
def test_anything_else_goes_to_the_cli(ws: Workspace, argv: list[str]) -> None:
    assert ws.cli("sync").exit_code == 0
    assert not answer_noop_sync(argv)
    assert not answer_synced_status(argv)
    assert answer_verify(argv) is None


def test_work_to_do_goes_to_the_cli(ws: Workspace) -> None:
    assert not answer_noop_sync(["sync"])  # never synced
    assert ws.cli("sync").exit_code == 0
    (ws.root / "models/m/config.json").unlink()
    assert not answer_noop_sync(["sync"])
    ws.write('[models.m]\nrepo = "acme/m"\ninclude = ["*.json"]\n')
    assert not answer_noop_sync(["sync", "--locked"])  # stale: the CLI reports it


def declared_options(command: str) -> set[str]:
    params = typer.main.get_command(app).commands[command].params  # type: ignore[attr-defined]
    return {
        name
        for param in params
        if param.param_type_name == "option"
        for name in (*param.opts, *param.secondary_opts)
    } - {"--help", "-h"}


def test_the_fast_paths_know_exactly_the_options_of_sync_and_status() -> None:
    assert declared_options("sync") == SYNC_FLAGS | SYNC_OPTIONS | SYNC_FOR_THE_CLI
    assert not answer_noop_sync(["sync", *SYNC_FOR_THE_CLI])
    assert declared_options("status") == STATUS_FLAGS | STATUS_OPTIONS
    assert declared_options("verify") == VERIFY_FLAGS | VERIFY_OPTIONS


def test_an_empty_project_syncs_to_nothing(ws: Workspace) -> None:
    (ws.root / "models.toml").unlink()
    assert ws.cli("init").exit_code == 0
    result = ws.cli("sync")
    assert result.exit_code == 0, result.stderr
    assert "nothing to sync" in result.stderr


def installed(ws: Workspace, hub: TestHub, *args: str) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` run in the project, as the installed command would be."""
    env = {**os.environ, "HF_ENDPOINT": hub.endpoint, "MODELPM_HOME": str(ws.store)}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ws.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_installed_command_answers_a_noop_sync(ws: Workspace, hub: TestHub) -> None:
    assert ws.cli("sync").exit_code == 0
    hub.reset_stats()
    done = installed(ws, hub, "-m", "modelpm", "sync")
    assert (done.returncode, done.stderr) == (0, "everything is in place (2 files)\n")
    assert hub.request_count == 0


def test_every_public_function_survives_importing_every_module() -> None:
    # A module named like a public function (modelpm.sync, modelpm.verify) would replace
    # it as an attribute of the package the moment it is imported.
    for module in pkgutil.walk_packages(modelpm.__path__, "modelpm."):
        if module.name != "modelpm.__main__":
            importlib.import_module(module.name)
    for name in modelpm.__all__:
        if name[0].islower() and name != "__version__":
            assert callable(getattr(modelpm, name)), name


def lock_never_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the lock was parsed")

    monkeypatch.setattr("modelpm.lockfile.io.parse_lock", refuse)


def test_after_a_whole_sync_a_noop_is_proved_from_the_state_alone(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ws.cli("sync").exit_code == 0
    lock_never_parsed(monkeypatch)
    assert in_sync(project=ws.root) == 2
    assert in_sync(project=ws.root, frozen=True) == 2


@pytest.mark.parametrize(
    "change",
    ["sync one model", "edit the manifest", "edit the lock", "edit a file", "new modelpm"],
)
def test_anything_that_could_change_the_answer_goes_the_whole_way(
    ws: Workspace, hub: TestHub, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    hub.create_repo("acme/n").commit({"n.json": b"1"})
    ws.write('[models.m]\nrepo = "acme/m"\n\n[models.n]\nrepo = "acme/n"\n')
    assert ws.cli("sync").exit_code == 0
    expected: int | None = 3
    if change == "sync one model":
        (ws.root / "models" / "n" / "n.json").unlink()
        assert ws.cli("sync", "n").exit_code == 0  # a partial sync vouches for no whole
    elif change == "edit the manifest":
        ws.write('[models.m]\nrepo = "acme/m"\n\n[models.n]\nrepo = "acme/n"\ndest = "x"\n')
        expected = None  # the lock is stale now
    elif change == "edit the lock":
        lock = ws.root / "models.lock"
        lock.write_text(lock.read_text() + "\n")  # the same pins, other bytes
    elif change == "edit a file":
        (ws.root / "models" / "m" / "config.json").write_bytes(b"{}")  # same bytes, new inode time
        expected = None
    else:
        monkeypatch.setattr("modelpm.version.VERSION", "99.0.0")
    parsed: list[bool] = []
    real = modelpm.lockfile.io.parse_lock

    def counting(*args: object, **kwargs: object) -> object:
        parsed.append(True)
        return real(*args, **kwargs)

    monkeypatch.setattr("modelpm.lockfile.io.parse_lock", counting)
    assert in_sync(project=ws.root) == expected
    assert parsed, "the whole way: the lock was read"


def test_status_after_a_whole_sync_is_read_from_the_state_with_the_same_rows(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ws.cli("sync").exit_code == 0
    with monkeypatch.context() as whole_way:
        whole_way.setattr("modelpm.workflow.reading.whole_and_untouched", lambda _project: None)
        expected = status(project=ws.root)
    assert [row.state for row in expected] == ["synced"]
    with monkeypatch.context() as fast:
        lock_never_parsed(fast)
        assert status(project=ws.root) == expected
    (ws.root / "models" / "m" / "config.json").write_bytes(b"{}")  # same bytes, new inode
    assert [row.state for row in status(project=ws.root)] == ["partly-synced"]


def test_a_synced_projects_status_is_printed_without_the_cli_as_the_cli_prints_it(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ws.cli("sync").exit_code == 0
    for argv in (
        ["status"],
        ["status", "--json"],
        ["status", "--project", str(ws.root)],
        ["status", f"--project={ws.root}", "--json"],
    ):
        printed = ws.cli(*argv)
        assert printed.exit_code == 0
        capsys.readouterr()
        assert answer_synced_status(argv), argv
        assert capsys.readouterr().out == printed.stdout, argv
    assert "synced" in printed.stdout


def test_status_of_a_project_not_wholly_synced_goes_to_the_cli(ws: Workspace) -> None:
    assert not answer_synced_status(["status"])  # never synced
    assert ws.cli("sync").exit_code == 0
    (ws.root / "models" / "m" / "config.json").write_bytes(b"{}")  # same bytes, new inode
    assert not answer_synced_status(["status"])


@pytest.mark.parametrize("command", ["status", "verify"])
def test_the_installed_command_answers_status_and_verify_without_loading_typer(
    ws: Workspace, hub: TestHub, command: str
) -> None:
    assert ws.cli("sync").exit_code == 0
    expected = ws.cli(command)
    # What the command loaded, said as it exits (sys.exit runs the handlers registered).
    script = (
        "import atexit, sys; "
        "atexit.register(lambda: print(sorted({m.split('.')[0] for m in sys.modules} "
        "& {'typer', 'pydantic'}), file=sys.stderr)); "
        f"sys.argv = ['modelpm', '{command}']; from modelpm.entry import main; main()"
    )
    done = installed(ws, hub, "-c", script)
    assert (done.returncode, done.stdout, done.stderr) == (
        expected.exit_code,
        expected.stdout,
        expected.stderr + "[]\n",
    )


VERIFY_SPELLINGS = [
    ["verify"],
    ["verify", "m", "--json"],
    ["verify", "-j", "2", "--project", "{root}"],
    ["verify", "--jobs=1", "m"],
]


@pytest.mark.parametrize("files", ["intact", "edited"])
def test_verify_is_answered_without_the_cli_as_the_cli_answers_it(
    ws: Workspace, capsys: pytest.CaptureFixture[str], files: str
) -> None:
    assert ws.cli("sync").exit_code == 0
    if files == "edited":
        (ws.root / "models" / "m" / "config.json").write_bytes(b"[]")
        (ws.root / "models" / "m" / "notes.txt").write_bytes(b"mine")
    for spelling in VERIFY_SPELLINGS:
        argv = [arg.format(root=ws.root) for arg in spelling]
        printed = ws.cli(*argv)
        capsys.readouterr()
        code = answer_verify(argv)
        answered = capsys.readouterr()
        assert (code, answered.out, answered.err) == (
            printed.exit_code,
            printed.stdout,
            printed.stderr,
        ), argv
    assert printed.exit_code == (0 if files == "intact" else 1)


def test_a_verify_that_fails_before_hashing_goes_to_the_cli(ws: Workspace) -> None:
    assert answer_verify(["verify"]) is None  # no lock yet: the CLI says so


def test_ctrl_c_during_a_verify_without_the_cli_is_reported_as_the_cli_reports_it(
    ws: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ws.cli("sync").exit_code == 0

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("modelpm.workflow.reading.check_model", interrupted)
    printed = ws.cli("verify")
    capsys.readouterr()
    assert answer_verify(["verify"]) == printed.exit_code == 130
    assert capsys.readouterr().err == printed.stderr
    assert printed.stderr.startswith("error: interrupted; nothing was lost\n")


def test_version_is_printed_with_and_without_the_cli() -> None:
    from modelpm.version import VERSION

    fast = subprocess.run(
        [sys.executable, "-m", "modelpm", "--version"], capture_output=True, text=True, check=True
    )
    assert fast.stdout == f"modelpm {VERSION}\n"
    result = typer.testing.CliRunner().invoke(app, ["--version"])
    assert (result.exit_code, result.stdout) == (0, f"modelpm {VERSION}\n")
