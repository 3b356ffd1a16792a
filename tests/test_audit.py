"""``modelpm audit`` and the policy: crafted malicious pickles never reach a destination.

The pickles are written opcode by opcode (:mod:`modelpm.testing.pickles`) and never
unpickled; they are served by the test hub like any weights file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import Workspace, make_workspace

from modelpm.audit.code import auto_map
from modelpm.audit.scanner import PickleScan, scan_pickle
from modelpm.testing import TestHub
from modelpm.testing import pickles as crafted
from modelpm.workflow import auditing

EVIL = crafted.torch_zip({"data.pkl": crafted.call("posix", "system", "echo pwned")})
BENIGN = crafted.torch_zip({"data.pkl": crafted.benign_state_dict()})
CODE_CONFIG = json.dumps(
    {
        "model_type": "x",
        "auto_map": {
            "AutoConfig": "configuration_x.XConfig",
            "AutoModel": "acme/shared-code--modeling_x.XModel",
        },
    }
).encode()
UNSAFE_SCAN = {
    "status": "unsafe",
    "avScan": {"status": "safe", "virusNames": None},
    "pickleImportScan": {
        "status": "dangerous",
        "pickleImports": [{"module": "posix", "name": "system", "safety": "dangerous"}],
    },
}


@pytest.mark.parametrize(
    ("data", "name", "dangerous"),
    [
        (EVIL, "pytorch_model.bin", ("posix.system",)),
        (crafted.call("builtins", "exec", "x"), "model.pkl", ("builtins.exec",)),
        (crafted.memo_global("subprocess", "Popen", "id"), "x.pt", ("subprocess.Popen",)),
        (
            crafted.concatenated(
                crafted.benign_state_dict(), crafted.call("runpy", "_run_code", "x")
            ),
            "legacy.bin",
            ("runpy._run_code",),
        ),
        (BENIGN, "pytorch_model.bin", ()),
        (crafted.benign_state_dict(), "state.pkl", ()),
    ],
    ids=["torch-zip", "exec", "memo-stack-global", "legacy-second-pickle", "benign-zip", "benign"],
)
def test_the_scanner_finds_dangerous_calls(
    tmp_path: Path, data: bytes, name: str, dangerous: tuple[str, ...]
) -> None:
    path = tmp_path / "object"
    path.write_bytes(data)
    scan = scan_pickle(path, name)
    assert scan.dangerous == dangerous
    assert scan.error is None
    assert scan.scanner.startswith("picklescan ")


def test_bytes_that_are_no_pickle_import_nothing(tmp_path: Path) -> None:
    path = tmp_path / "object"
    path.write_bytes(bytes(range(256)) * 4)  # e.g. OpenVINO or GGML weights named *.bin
    scan = scan_pickle(path, "weights.bin")
    assert (scan.imports, scan.dangerous) == ((), ())


def test_auto_map_entries_name_their_repo() -> None:
    refs = auto_map("config.json", CODE_CONFIG)
    assert [(r.key, r.repo, r.module_file) for r in refs] == [
        ("AutoConfig", None, "configuration_x.py"),
        ("AutoModel", "acme/shared-code", "modeling_x.py"),
    ]
    tokenizer = json.dumps({"auto_map": {"AutoTokenizer": ["tok.Slow", None]}}).encode()
    assert [r.reference for r in auto_map("tokenizer_config.json", tokenizer)] == ["tok.Slow"]
    assert auto_map("config.json", b"not json") == []


@pytest.fixture
def ws(tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    workspace = make_workspace(tmp_path, hub, monkeypatch)
    evil = hub.create_repo("acme/evil")
    evil.commit({"config.json": b"{}", "pytorch_model.bin": EVIL})
    evil.security["pytorch_model.bin"] = UNSAFE_SCAN
    hub.create_repo("acme/good").commit({"config.json": b"{}", "pytorch_model.bin": BENIGN})
    hub.create_repo("acme/code").commit(
        {"config.json": CODE_CONFIG, "configuration_x.py": b"class XConfig: ...\n"}
    )
    return workspace


def test_sync_never_places_a_pickle_that_calls_os_system(ws: Workspace) -> None:
    ws.write('[models.evil]\nrepo = "acme/evil"\n[models.good]\nrepo = "acme/good"\n')
    result = ws.cli("sync")
    assert result.exit_code == 1
    assert result.error == (
        "error: evil/pytorch_model.bin would call posix.system when loaded; not placed\n"
        "hint: run `modelpm audit evil`; if you trust it, set allow-unsafe-pickle = true in "
        "[models.evil]"
    )
    assert not (ws.root / "models/evil/pytorch_model.bin").exists()
    assert (ws.root / "models/good/pytorch_model.bin").read_bytes() == BENIGN
    # Now the object is in the store: the next sync refuses it before placing anything.
    again = ws.cli("sync")
    assert again.exit_code == 1
    assert again.error.startswith(
        "error: evil/pytorch_model.bin would call posix.system when loaded; not placed"
    )
    assert not (ws.root / "models/evil/pytorch_model.bin").exists()
    audit = ws.cli("audit")
    assert audit.exit_code == 1
    assert (
        "  pytorch_model.bin: pickle importing posix.system; DANGEROUS: posix.system "
        "(hub scan: unsafe)"
    ) in audit.stdout
    assert "good: acme/good @ " in audit.stdout
    assert "collections.OrderedDict" in audit.stdout


@pytest.mark.parametrize(
    "manifest",
    [
        '[models.evil]\nrepo = "acme/evil"\nallow-unsafe-pickle = true\n',
        '[settings]\nallow-unsafe-pickle = true\n[models.evil]\nrepo = "acme/evil"\n',
    ],
    ids=["per-model", "settings"],
)
def test_allow_unsafe_pickle_takes_it(ws: Workspace, manifest: str) -> None:
    ws.write(manifest)
    result = ws.cli("sync")
    assert result.exit_code == 0, result.stderr
    assert (ws.root / "models/evil/pytorch_model.bin").read_bytes() == EVIL
    audit = ws.cli("audit", "--json")
    assert audit.exit_code == 0
    payload = json.loads(audit.stdout)
    assert payload["passed"] is True
    (finding,) = payload["models"][0]["files"]
    assert finding["dangerous"] == ["posix.system"]
    assert finding["hub_status"] == "unsafe"  # the Hub's own scan, recorded when locked


def test_each_object_is_scanned_once(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = scan_pickle

    def counting(path: Path, repo_path: str) -> PickleScan:
        calls.append(repo_path)
        return real(path, repo_path)

    monkeypatch.setattr(auditing, "scan_pickle", counting)
    ws.write('[models.a]\nrepo = "acme/good"\n[models.b]\nrepo = "acme/good"\ndest = "b"\n')
    assert ws.cli("sync").exit_code == 0
    assert ws.cli("audit").exit_code == 0
    assert ws.cli("audit", "a").exit_code == 0
    assert calls == ["pytorch_model.bin"]  # two models, three runs, one object: one scan
    records = list((ws.store / "audit").rglob("*.json"))
    assert len(records) == 1


def test_remote_code_policy_and_unpinned_code(ws: Workspace) -> None:
    ws.write('[settings]\nallow-remote-code = false\n[models.code]\nrepo = "acme/code"\n')
    refused = ws.cli("sync")
    assert refused.exit_code == 1
    assert refused.error.startswith(
        "error: code ships or names code (configuration_x.py, configuration_x.XConfig, "
        "acme/shared-code--modeling_x.XModel); not placed"
    )
    assert not (ws.root / "models/code").exists()
    ws.write('[models.code]\nrepo = "acme/code"\n')
    assert ws.cli("sync").exit_code == 0
    audit = ws.cli("audit")
    assert audit.exit_code == 0
    assert "  configuration_x.py: Python code" in audit.stdout
    assert (
        "  config.json: auto_map AutoModel → acme/shared-code--modeling_x.XModel "
        "(from acme/shared-code, not pinned)"
    ) in audit.stdout
    assert (
        "pin it with `modelpm add acme/shared-code --include '*.py' --include '*.json'`"
    ) in audit.stdout


def test_export_refuses_what_sync_refuses(ws: Workspace, tmp_path: Path) -> None:
    ws.write('[models.evil]\nrepo = "acme/evil"\n')
    assert ws.cli("lock").exit_code == 0
    result = ws.cli("export", "hf-cache", str(tmp_path / "cache"))
    assert result.exit_code == 1
    assert "evil/pytorch_model.bin would call posix.system when loaded; not placed" in result.error
    assert not (tmp_path / "cache").exists()
