"""Hostile and broken input is one clear line, never a traceback, never placed: paths a
listing must not contain, user input that cannot be an endpoint, answers of the wrong
shape (findings 4, 5, 11 and 13 of the adversarial review)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import Workspace, make_workspace

from modelpm.testing import Fault, TestHub

SECRET = "hunter2-password"


@pytest.fixture
def ws(tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    workspace = make_workspace(tmp_path, hub, monkeypatch)
    hub.create_repo("acme/m").commit({"config.json": b"{}", "w.safetensors": b"w" * 2000})
    workspace.write('[models.m]\nrepo = "acme/m"\n')
    return workspace


def one_line_error(result: object, code: int) -> str:
    """The error line of a run that must end in exactly one error and one hint."""
    assert getattr(result, "exit_code") == code, getattr(result, "stderr")  # noqa: B009
    exception = getattr(result, "exception")  # noqa: B009
    assert exception is None or isinstance(exception, SystemExit), repr(exception)
    lines = getattr(result, "error").splitlines()  # noqa: B009
    assert len(lines) == 2 and lines[1].startswith("hint: "), lines
    assert lines[0].startswith("error: ")
    return str(lines[0])


def listing(hub: TestHub, entries: object) -> None:
    """The next tree listing of acme/m is exactly ``entries``, as JSON."""
    hub.add_fault(
        Fault(
            "answer",
            origin="hub",
            path_contains="/tree/",
            status=200,
            body=json.dumps(entries),
            headers={"Content-Type": "application/json"},
        )
    )


def entry(path: str, size: int = 2) -> dict[str, object]:
    return {"type": "file", "oid": "b" * 40, "size": size, "path": path}


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([entry("config.json"), entry(".git/config")], "inside a .git folder"),
        ([entry("config.json"), entry("sub/.GIT/hooks/post-checkout")], "inside a .git folder"),
        ([entry("a"), entry("a/b.json")], "'a' both as a file and as a folder"),
        ([entry("x.json"), entry("x.json")], "'x.json' twice"),
        ([entry("huge.bin", size=10**30)], "invalid size"),
    ],
)
def test_a_listing_modelpm_could_never_place_is_refused_when_locking(
    ws: Workspace, hub: TestHub, entries: list[dict[str, object]], message: str
) -> None:
    listing(hub, entries)
    line = one_line_error(ws.cli("lock"), 1)
    assert message in line, line
    assert not (ws.root / "models.lock").exists()


@pytest.mark.parametrize("dest", [".git", ".git/hooks", ".modelpm", "models/.modelpm/x"])
def test_a_dest_inside_git_or_modelpm_is_refused(ws: Workspace, dest: str) -> None:
    ws.write(f'[models.m]\nrepo = "acme/m"\ndest = "{dest}"\n')
    line = one_line_error(ws.cli("sync"), 2)
    assert "inside a .git or .modelpm folder" in line


def test_a_password_in_the_endpoint_is_refused_and_never_printed(
    ws: Workspace, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_password = hub.endpoint.replace("http://", f"http://user:{SECRET}@")
    monkeypatch.setenv("HF_ENDPOINT", with_password)
    result = ws.cli("lock")
    line = one_line_error(result, 2)
    assert "carries a user name or password" in line
    assert SECRET not in result.stderr + result.stdout
    assert hub.request_count == 0
    monkeypatch.delenv("HF_ENDPOINT")
    ws.write(f'[settings]\nendpoint = "{with_password}"\n[models.m]\nrepo = "acme/m"\n')
    result = ws.cli("lock")
    assert "carries a user name or password" in one_line_error(result, 2)
    assert SECRET not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("HF_ENDPOINT", "notaurl", "is not an http(s) URL"),
        ("HF_ENDPOINT", "http://127.0.0.1:99999", "is not a valid URL"),
        ("HF_ENDPOINT", "http://[::1", "is not a valid URL"),
        ("MODELPM_STALL_TIMEOUT", "0", "more than 0"),
    ],
)
def test_bad_user_input_exits_2_with_one_line(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    for command in ("lock", "sync", "status"):
        assert message in one_line_error(ws.cli(command), 2), command


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        "null",
        "{}",
        '{"id": "acme/m", "sha": 5}',
        '{"id": "acme/m", "sha": "' + "a" * 40 + '", "siblings": 5}',
        '{"id": "acme/m", "sha": "' + "a" * 40 + '", "siblings": [{"nope": 1}]}',
        '{"id": "acme/m", "sha": "' + "a" * 40 + '", "lastModified": 12}',
        '{"id": "acme/m", "sha": "' + "a" * 40 + '", "safetensors": {"total": "x"}}',
        "<html>portal</html>",
    ],
)
def test_a_revision_answer_of_the_wrong_shape_is_one_line(
    ws: Workspace, hub: TestHub, body: str
) -> None:
    hub.add_fault(
        Fault(
            "answer",
            origin="hub",
            path_contains="/api/models/",
            status=200,
            body=body,
            headers={"Content-Type": "application/json"},
            times=None,
        )
    )
    line = one_line_error(ws.cli("lock"), 1)
    assert hub.endpoint in line


@pytest.mark.parametrize(
    "entries",
    [
        [{"type": "file", "path": "a.json", "size": "big", "oid": "b" * 40}],
        [{"type": "file", "path": 7, "size": 1, "oid": "b" * 40}],
        [
            {
                "type": "file",
                "path": "a.json",
                "size": 1,
                "oid": "b" * 40,
                "lastCommit": {"id": "c" * 40, "title": "t", "date": 12},
            }
        ],
        [{"type": "file", "path": "a.json", "size": 1, "oid": "short"}],
        {"not": "a list"},
    ],
)
def test_a_tree_answer_of_the_wrong_shape_is_one_line(
    ws: Workspace, hub: TestHub, entries: object
) -> None:
    listing(hub, entries)
    one_line_error(ws.cli("lock"), 1)
    assert not (ws.root / "models.lock").exists()


def test_a_symbolic_link_loop_at_a_dest_is_one_line_for_every_command(ws: Workspace) -> None:
    assert ws.cli("sync").exit_code == 0
    dest = ws.root / "models/m"
    for path in sorted(dest.rglob("*"), reverse=True):
        path.unlink()
    dest.rmdir()
    dest.symlink_to(dest)  # models/m -> models/m
    for command in ("sync", "status", "verify", "lock"):
        result = ws.cli(command)
        exception = result.exception
        assert exception is None or isinstance(exception, SystemExit), (command, exception)
        assert "Traceback" not in result.stderr
        if result.exit_code:
            assert result.error.startswith("error: "), (command, result.stderr)
    from modelpm.entry import answer_noop_sync

    assert answer_noop_sync(["sync"]) is False  # the fast path hands it to the CLI, unhurt


def test_a_redirect_to_an_impossible_port_is_one_line(ws: Workspace, hub: TestHub) -> None:
    assert ws.cli("lock").exit_code == 0
    hub.add_fault(
        Fault(
            "answer",
            origin="hub",
            path_contains="/resolve/",
            status=302,
            headers={"Location": "http://127.0.0.1:99999/x"},
            times=None,
        )
    )
    hub.add_fault(
        Fault(
            "answer",
            origin="hub",
            path_contains="/resolve/",
            status=302,
            headers={"Location": "http://[::1/x"},
            times=None,
        )
    )
    result = ws.cli("sync")
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.error.startswith("error: ")
