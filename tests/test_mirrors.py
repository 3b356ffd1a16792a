"""One lock, many byte sources: per-model ``mirrors`` and the machine's order of sources.

The lock pins what the bytes are; a mirror (another repo, another owner, another commit
id, possibly on ModelScope) may serve them. Mirrors never enter the lock; the machine's
order (``MODELPM_SOURCES``, the user config file) decides who is asked first; every
file is matched against the mirror's listing before a byte is asked, falls back per
file, and is verified on arrival whoever sent it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import Workspace, make_workspace, random_bytes

from modelpm.testing import Fault, TestHub

MiB = 1024 * 1024
FILES = {
    "config.json": b'{"model_type": "bert"}\n',
    "vocab.txt": b"[PAD]\n[UNK]\n\xe4\xb8\xad\n",
    "model.safetensors": random_bytes(4 * MiB + 3, 11),
    "pytorch_model.bin": random_bytes(2 * MiB, 12),
}
MANIFEST = """\
[models.bert-zh]
repo = "google-bert/bert-base-chinese"
weights = "all"
"""
MIRRORED = MANIFEST + 'mirrors = ["modelscope:tiansz/bert-base-chinese"]\n'


def publish(hub: TestHub, files: dict[str, bytes] = FILES) -> None:
    hub.create_repo("google-bert/bert-base-chinese").commit(files)
    hub.create_repo("tiansz/bert-base-chinese", site="modelscope").commit(files, message="mirrored")


@pytest.fixture
def ws(tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    workspace = make_workspace(tmp_path, hub, monkeypatch)
    publish(hub)
    workspace.write(MIRRORED)
    return workspace


def hf_bytes(hub: TestHub) -> int:
    return sum(
        r.body_bytes for r in hub.requests if r.origin in ("hub", "cdn") and r.method == "GET"
    )


def ms_requests(hub: TestHub) -> int:
    return len([r for r in hub.requests if r.origin in ("modelscope", "ms-cdn")])


def file_bytes(hub: TestHub, origins: tuple[str, ...]) -> int:
    """Body bytes of file answers (listings left out) from ``origins``."""
    return sum(
        r.body_bytes
        for r in hub.requests
        if r.origin in origins
        and ("/resolve/" in r.path or "FilePath=" in r.query or r.path.startswith("/lfs/"))
    )


def test_mirrors_never_enter_the_lock_or_make_it_stale(ws: Workspace) -> None:
    assert ws.cli("lock").exit_code == 0
    with_mirror = (ws.root / "models.lock").read_bytes()
    ws.write(MANIFEST)
    assert ws.cli("lock", "--check").exit_code == 0, "removing a mirror keeps the lock fresh"
    (ws.root / "models.lock").unlink()
    assert ws.cli("lock").exit_code == 0
    assert (ws.root / "models.lock").read_bytes() == with_mirror
    assert b"modelscope" not in with_mirror and b"tiansz" not in with_mirror
    ws.write(MIRRORED)
    assert ws.cli("lock", "--check").exit_code == 0, "adding one keeps it fresh too"


def test_lock_resolves_against_the_models_own_source_whatever_the_order(
    ws: Workspace, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELPM_SOURCES", "modelscope,hf")
    assert ws.cli("lock").exit_code == 0
    assert hub.requests and ms_requests(hub) == 0


def test_by_default_the_own_source_serves_and_the_mirror_is_never_asked(
    ws: Workspace, hub: TestHub
) -> None:
    result = ws.cli("sync")
    assert result.exit_code == 0, result.stderr
    assert ws.files("models/bert-zh") == FILES
    assert ms_requests(hub) == 0
    assert " from hf:google-bert/bert-base-chinese (" in result.stderr


def test_a_machine_in_china_syncs_the_teams_lock_with_zero_bytes_from_the_hub(
    tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = make_workspace(tmp_path, hub, monkeypatch, "team")
    publish(hub)
    team.write(MIRRORED)
    assert team.cli("lock").exit_code == 0
    machine = make_workspace(tmp_path, hub, monkeypatch, "china")
    for name in ("models.toml", "models.lock"):
        shutil.copy(team.root / name, machine.root / name)
    # This machine cannot reach the Hub at all, and prefers ModelScope (its config file).
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    config = tmp_path / "xdg-config" / "modelpm" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('sources = ["modelscope", "hf"]\n')
    hub.reset_stats()
    result = machine.cli("sync", "--locked", "--verbose")
    assert result.exit_code == 0, result.stderr
    assert "failed" not in result.stderr, "the Hub was never even tried"
    assert machine.files("models/bert-zh") == FILES
    assert hf_bytes(hub) == 0 and all(r.origin in ("modelscope", "ms-cdn") for r in hub.requests)
    assert " from modelscope:tiansz/bert-base-chinese (" in result.stderr
    assert machine.cli("verify").exit_code == 0
    assert (machine.root / "models.lock").read_bytes() == (team.root / "models.lock").read_bytes()


def test_files_the_mirror_lacks_or_lists_differently_come_from_the_next_origin(
    tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_workspace(tmp_path, hub, monkeypatch)
    hub.create_repo("google-bert/bert-base-chinese").commit(FILES)
    other = {**FILES, "model.safetensors": random_bytes(4 * MiB + 3, 99)}  # same size
    del other["pytorch_model.bin"]
    hub.create_repo("tiansz/bert-base-chinese", site="modelscope").commit(other)
    ws.write(MIRRORED)
    monkeypatch.setenv("MODELPM_SOURCES", "modelscope")
    result = ws.cli("sync")
    assert result.exit_code == 0, result.stderr
    assert ws.files("models/bert-zh") == FILES
    # Matched against the listing first: not a byte of the wrong weights was asked for.
    assert file_bytes(hub, ("ms-cdn",)) == 0
    assert file_bytes(hub, ("hub", "cdn")) == len(FILES["model.safetensors"]) + 2 * MiB
    assert file_bytes(hub, ("modelscope",)) == len(FILES["config.json"]) + len(FILES["vocab.txt"])
    summary = result.stderr.splitlines()[-1]
    assert "from hf:google-bert/bert-base-chinese (6.3 MB), modelscope:tiansz/" in summary


def test_a_mirror_that_serves_other_bytes_is_reported_and_never_placed(
    ws: Workspace, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELPM_SOURCES", "modelscope,hf")
    hub.add_fault(Fault("corrupt", origin="ms-cdn", path_contains="/lfs/", times=None))
    result = ws.cli("sync")
    assert result.exit_code == 0, result.stderr
    assert ws.files("models/bert-zh") == FILES
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert sorted(warnings) == [
        f"warning: modelscope:tiansz/bert-base-chinese served other bytes than the lock pins "
        f"for bert-zh/{path}; they were discarded"
        for path in ("model.safetensors", "pytorch_model.bin")
    ]
    assert ws.cli("verify").exit_code == 0


def test_a_git_sha1_file_is_checked_on_arrival_from_a_sha256_mirror(
    ws: Workspace, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ModelScope lists sha256 for config.json; the Hub's lock pins its git blob id: the
    # listing cannot tell, so the bytes are fetched and hashed as the lock says.
    monkeypatch.setenv("MODELPM_SOURCES", "modelscope,hf")
    hub.add_fault(Fault("corrupt", origin="modelscope", path_contains="config.json", times=None))
    result = ws.cli("sync", "-v")
    assert result.exit_code == 0, result.stderr
    assert ws.files("models/bert-zh")["config.json"] == FILES["config.json"]
    assert "served other bytes than the lock pins for bert-zh/config.json" in result.stderr
    assert file_bytes(hub, ("hub", "cdn")) == len(FILES["config.json"])


def test_a_mirror_that_fails_mid_file_hands_its_partial_bytes_to_the_next_origin(
    ws: Workspace, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELPM_SOURCES", "modelscope,hf")
    size = len(FILES["model.safetensors"])
    # The storage CDN sends 1 MiB of the weights, then fails every request.
    lfs = hub.repo("tiansz/bert-base-chinese", site="modelscope").files()["model.safetensors"]
    weights = f"/lfs/{lfs.content_sha256}"
    hub.add_fault(Fault("drop", origin="ms-cdn", path_contains=weights, after_bytes=MiB))
    hub.add_fault(Fault("status", origin="ms-cdn", path_contains=weights, skip=1, times=None))
    result = ws.cli("sync")
    assert result.exit_code == 0, result.stderr
    assert ws.files("models/bert-zh") == FILES
    from_hub = file_bytes(hub, ("hub", "cdn"))
    assert from_hub == size - MiB, "the first MiB was kept; the rest came from the Hub"
    assert "modelscope:tiansz/bert-base-chinese (3.1 MB), hf:google-bert/" in result.stderr


def test_among_mirrors_of_one_source_manifest_order_decides(
    tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_workspace(tmp_path, hub, monkeypatch)
    publish(hub)
    partial = {k: v for k, v in FILES.items() if k != "model.safetensors"}
    hub.create_repo("first/copy", site="modelscope").commit(partial)
    ws.write(
        MANIFEST + 'mirrors = ["modelscope:first/copy", "modelscope:tiansz/bert-base-chinese"]\n'
    )
    monkeypatch.setenv("MODELPM_SOURCES", "modelscope")
    result = ws.cli("sync")
    assert result.exit_code == 0, result.stderr
    asked = [r for r in hub.requests if "FilePath=" in r.query]
    by_repo = {r.query.split("FilePath=")[1]: r.path.split("/")[4] for r in asked}
    assert by_repo == {
        "config.json": "first",
        "vocab.txt": "first",
        "pytorch_model.bin": "first",
        "model.safetensors": "tiansz",
    }
    assert file_bytes(hub, ("hub", "cdn")) == 0


def test_a_mirror_that_cannot_be_listed_is_skipped_once_with_a_warning(
    tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_workspace(tmp_path, hub, monkeypatch)
    publish(hub)
    ws.write(MANIFEST + 'mirrors = ["modelscope:nobody/gone", "hf:other-org/copy@v2"]\n')
    hub.create_repo("other-org/copy").commit(FILES)
    hub.repo("other-org/copy").create_tag("v2")
    monkeypatch.setenv("MODELPM_SOURCES", "modelscope,hf")
    result = ws.cli("sync")
    assert result.exit_code == 0, result.stderr
    assert ws.files("models/bert-zh") == FILES
    assert result.stderr.count("warning: mirror modelscope:nobody/gone was skipped: ") == 1
    listings = [r for r in hub.requests if r.origin == "modelscope" and "/commits" in r.path]
    assert len(listings) == 1, "asked once, not once per file"
    # The hf mirror comes after the model's own repo (same source): it was never needed.
    assert not [r for r in hub.requests if "other-org" in r.path]
