"""``weights`` end to end on the test hub: what lock, add and sync take, print and write.

The listings are small stand-ins for real repos (a BERT with five formats, a
sharded model with its index), served over HTTP, so the small files a rule reads
really go through the transfer engine and into the store.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from support import Workspace, make_workspace, random_bytes

from modelpm.lockfile import read_lock
from modelpm.testing import TestHub

FIVE_FORMATS = {
    "config.json": b'{"model_type": "bert"}\n',
    "tokenizer.json": b'{"vocab": {}}\n',
    "README.md": b"# bert\n",
    "model.safetensors": random_bytes(300_000, 1),
    "pytorch_model.bin": random_bytes(300_001, 2),
    "tf_model.h5": random_bytes(300_002, 3),
    "flax_model.msgpack": random_bytes(300_003, 4),
    "rust_model.ot": random_bytes(300_004, 5),
    "onnx/model.onnx": random_bytes(300_005, 6),
}
SHARDS = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
INDEX = json.dumps({"weight_map": {"a": SHARDS[0], "b": SHARDS[1]}}).encode()


def legacy_fingerprint(repo: str, revision: str = "main", repo_type: str = "model") -> str:
    """The fingerprint as modelpm computed it before `weights` existed (its formula, copied)."""
    canonical: dict[str, object] = {
        "repo": repo,
        "repo-type": repo_type,
        "revision": revision,
        "include": None,
        "exclude": [],
    }
    digest = hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()
    return f"sha256:{digest[:32]}"


@pytest.fixture
def ws(tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    workspace = make_workspace(tmp_path, hub, monkeypatch)
    hub.create_repo("acme/bert").commit(FIVE_FORMATS)
    hub.create_repo("acme/llm").commit(
        {
            "config.json": b"{}",
            "model.safetensors.index.json": INDEX,
            SHARDS[0]: random_bytes(200_000, 7),
            SHARDS[1]: random_bytes(200_000, 8),
            "model-00003-of-00003.safetensors": random_bytes(200_000, 9),  # not in the index
            "consolidated.safetensors": random_bytes(400_000, 10),
        }
    )
    squad = hub.create_repo("acme/squad", repo_type="dataset")
    squad.commit({"train.parquet": random_bytes(1000, 11), "model.onnx": random_bytes(10, 12)})
    return workspace


def test_lock_takes_what_the_loader_reads_and_says_what_it_skipped(ws: Workspace) -> None:
    ws.write('[models.bert]\nrepo = "acme/bert"\n')
    result = ws.cli("lock")
    assert result.exit_code == 0, result.stderr
    assert "locked bert: acme/bert @ main" in result.stderr
    assert (
        "  skipped flax_model.msgpack, onnx/model.onnx, pytorch_model.bin, rust_model.ot, "
        "tf_model.h5: 1.5 MB"
    ) in result.stderr
    lock = read_lock(ws.root / "models.lock")
    assert lock is not None
    assert [f.path for f in lock.models[0].files] == [
        "README.md",
        "config.json",
        "model.safetensors",
        "tokenizer.json",
    ]
    first = (ws.root / "models.lock").read_bytes()
    (ws.root / "models.lock").unlink()
    assert ws.cli("lock").exit_code == 0
    assert (ws.root / "models.lock").read_bytes() == first  # deterministic
    synced = ws.cli("sync")
    assert synced.exit_code == 0, synced.stderr
    assert sorted(ws.files("models/bert")) == [
        "README.md",
        "config.json",
        "model.safetensors",
        "tokenizer.json",
    ]


def test_the_shard_index_is_read_through_the_store_and_lists_the_shards(
    ws: Workspace, hub: TestHub
) -> None:
    ws.write('[models.llm]\nrepo = "acme/llm"\n')
    result = ws.cli("lock")
    assert result.exit_code == 0, result.stderr
    assert "skipped consolidated.safetensors, model-00003-of-00003.safetensors" in result.stderr
    lock = read_lock(ws.root / "models.lock")
    assert lock is not None
    index = next(f for f in lock.models[0].files if f.path == "model.safetensors.index.json")
    # Fetched and verified into the store, where the sync that follows finds it.
    objects = [p for p in (ws.store / "objects").rglob("*") if p.is_file()]
    assert [p.name for p in objects] == [index.digest.hexdigest]
    assert objects[0].read_bytes() == INDEX
    hub.reset_stats()
    assert ws.cli("sync").exit_code == 0
    fetched = {r.path.rsplit("/", 1)[-1] for r in hub.requests if "/resolve/" in r.path}
    assert "model.safetensors.index.json" not in fetched
    assert sorted(ws.files("models/llm")) == [
        "config.json",
        *SHARDS,
        "model.safetensors.index.json",
    ]


def test_an_entry_locked_before_weights_is_stale_with_its_own_message(ws: Workspace) -> None:
    ws.write('[models.bert]\nrepo = "acme/bert"\nweights = "all"\n')
    assert ws.cli("lock").exit_code == 0
    text = (ws.root / "models.lock").read_text()
    # What a modelpm from before `weights` wrote: every file, the old fingerprint.
    assert f'fingerprint = "{legacy_fingerprint("acme/bert")}"' in text
    assert text.count("path = ") == len(FIVE_FORMATS)
    ws.write('[models.bert]\nrepo = "acme/bert"\n')  # the table as it always was
    locked = ws.cli("sync", "--locked")
    assert locked.exit_code == 1
    assert locked.error == (
        "error: models.lock is out of date: bert: made by an older modelpm that fetched every "
        'file: run `modelpm lock` to apply weights = "auto", or set weights = "all" to keep '
        "every file\n"
        "hint: run `modelpm lock` and commit models.lock, or drop --locked"
    )
    assert (ws.root / "models.lock").read_text() == text
    check = ws.cli("lock", "--check")
    assert check.exit_code == 1 and "made by an older modelpm" in check.stderr
    plain = ws.cli("sync")
    assert plain.exit_code == 0, plain.stderr
    assert "locked bert" in plain.stderr and "skipped flax_model.msgpack" in plain.stderr
    assert sorted(ws.files("models/bert")) == [
        "README.md",
        "config.json",
        "model.safetensors",
        "tokenizer.json",
    ]


def test_weights_all_keeps_an_old_entry_and_datasets_are_never_filtered(ws: Workspace) -> None:
    old_lock = (
        "# This file is generated by modelpm; do not edit it by hand.\nversion = 2\n"
        '\n[[model]]\nname = "squad"\nsource = "hf"\nrepo = "acme/squad"\n'
        'repo-type = "dataset"\nrevision = "main"\n'
    )
    ws.write('[models.squad]\nrepo = "acme/squad"\nrepo-type = "dataset"\n')
    assert ws.cli("lock").exit_code == 0
    text = (ws.root / "models.lock").read_text()
    assert text.startswith(old_lock)
    assert f'fingerprint = "{legacy_fingerprint("acme/squad", repo_type="dataset")}"' in text
    assert "model.onnx" in text  # a dataset's files are its files
    bad = ws.cli("lock")
    assert bad.exit_code == 0 and "models.lock is up to date" in bad.stderr
    ws.write('[models.squad]\nrepo = "acme/squad"\nrepo-type = "dataset"\nweights = "auto"\n')
    refused = ws.cli("lock")
    assert refused.exit_code == 2
    assert refused.error.startswith("error: models.toml: [models.squad] weights: only models")


def test_dry_runs_print_the_plan_and_write_nothing(ws: Workspace) -> None:
    ws.write('[models.llm]\nrepo = "acme/llm"\n[models.bert]\nrepo = "acme/bert"\n')
    dry = ws.cli("lock", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "would lock llm: acme/llm @ main" in dry.stderr
    assert "skipped consolidated.safetensors" in dry.stderr
    assert dry.stderr.rstrip().endswith("dry run: nothing written")
    assert not (ws.root / "models.lock").exists()
    assert not ws.store.exists()  # the index went to a temporary store
    plan = ws.cli("sync", "--dry-run")
    assert plan.exit_code == 0, plan.stderr
    assert "would fetch 8 files (700.1 KB)" in plan.stderr
    assert "  fetch models/llm/model-00001-of-00002.safetensors (200.0 KB)" in plan.stderr
    assert "rust_model.ot" in plan.stderr  # named among the skipped files, never fetched
    assert "fetch models/bert/rust_model.ot" not in plan.stderr
    assert not (ws.root / "models.lock").exists() and not (ws.root / ".modelpm").exists()
    assert not ws.store.exists()
    assert ws.cli("sync").exit_code == 0
    again = ws.cli("sync", "--dry-run")
    assert again.exit_code == 0 and "would keep 8" in again.stderr


def test_add_with_weights_writes_the_key_and_prints_the_saving(ws: Workspace) -> None:
    ws.write("")
    added = ws.cli("add", "acme/bert", "--weights", "pytorch", "--no-sync")
    assert added.exit_code == 0, added.stderr
    assert 'weights = "pytorch"' in (ws.root / "models.toml").read_text()
    assert "skipped flax_model.msgpack, model.safetensors, onnx/model.onnx" in added.stderr
    lock = read_lock(ws.root / "models.lock")
    assert lock is not None and "pytorch_model.bin" in [f.path for f in lock.models[0].files]
    wrong = ws.cli("add", "acme/llm", "--weights", "gguf:Q4_K_M", "--no-sync")
    assert wrong.exit_code == 2
    assert wrong.error == (
        "error: models.toml: [models.llm] weights = \"gguf:Q4_K_M\": weights = 'gguf:Q4_K_M' "
        "but the repo has no GGUF file (acme/llm @ main)\n"
        'hint: set weights = "auto"'
    )
    assert "acme/llm" not in (ws.root / "models.toml").read_text()


@pytest.mark.parametrize(
    ("table", "error"),
    [
        ('weights = "fp32"', "weights: 'fp32' is not one of auto, safetensors, pytorch, all"),
        ('weights = "all"\nvariant = "fp16"', "variant: weights = 'all' takes no variant"),
        ('variant = "fp 16"', "variant: 'fp 16' is not a variant name"),
        ("allow-unsafe-pickle = 1", "allow-unsafe-pickle: expected true or false, got an integer"),
    ],
)
def test_bad_weights_keys_are_manifest_errors(ws: Workspace, table: str, error: str) -> None:
    ws.write(f'[models.bert]\nrepo = "acme/bert"\n{table}\n')
    result = ws.cli("lock")
    assert result.exit_code == 2
    assert error in result.error
