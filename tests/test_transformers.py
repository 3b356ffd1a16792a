"""With transformers and torch (the ``conformance`` extra): real models, real loading code.

1. ``push_to_hub`` of a tiny randomly initialised BERT reaches the test hub (create_repo,
   README metadata check, LFS upload, commit), and ``snapshot_download`` + ``from_pretrained``
   give back the same weights: the official stack trusts the hub's upload API.
2. The README's loop for real: ``save_pretrained`` → ``modelpm.publish(…, pin=…)`` → a
   second project with its own store copies only models.toml and models.lock →
   ``modelpm.sync(locked=True)`` → ``from_pretrained`` loads exactly the trained weights.

Each runs in a subprocess (``HF_ENDPOINT`` and ``HF_HUB_DISABLE_XET`` must be set before
``huggingface_hub`` is imported, and torch is heavy); the test hub runs here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelpm.testing import TestHub

pytest.importorskip("transformers")
pytestmark = pytest.mark.transformers

TINY = """
import torch
from transformers import BertConfig, BertModel

torch.manual_seed(0)
config = BertConfig(
    vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
    intermediate_size=37,
)
model = BertModel(config)


def same_weights(other):
    mine, theirs = model.state_dict(), other.state_dict()
    return mine.keys() == theirs.keys() and all(torch.equal(mine[k], theirs[k]) for k in mine)
"""

PUSH = (
    TINY
    + """
from huggingface_hub import snapshot_download

model.push_to_hub("acme/tiny-bert", token="hf_transformers")
path = snapshot_download("acme/tiny-bert", local_dir="downloaded", token="hf_transformers")
assert same_weights(BertModel.from_pretrained(path)), "other weights came back"
print("push_to_hub round trip: same weights")
"""
)

LOOP = (
    TINY
    + """
import os
import shutil
from pathlib import Path

import modelpm

model.save_pretrained("a/out/tiny-bert")
Path("a/models.toml").write_text("# project A\\n")
result = modelpm.publish(
    "a/out/tiny-bert", repo="acme/tiny-bert-ft", create=True, tag="v1", pin="tiny-bert",
    project="a",
)
assert result.committed and result.pin is not None
Path("b").mkdir()
for name in ("models.toml", "models.lock"):
    shutil.copy(Path("a") / name, Path("b") / name)
os.environ["MODELPM_HOME"] = os.path.abspath("store-b")
modelpm.sync(project="b", locked=True)
loaded = BertModel.from_pretrained(modelpm.path("tiny-bert", project="b"))
assert same_weights(loaded), "machine B got other weights"
print("save_pretrained -> publish --pin -> sync --locked: same weights")
"""
)


def run(script: str, hub: TestHub, tmp_path: Path, token: str) -> str:
    hub.add_token(token, user="acme")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HF_", "HUGGING_FACE_", "MODELPM_"))
    }
    env.update(
        HF_ENDPOINT=hub.endpoint,
        HF_HUB_DISABLE_XET="1",  # the test hub speaks no Xet
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        HF_HOME=str(tmp_path / "hf-home"),
        HF_TOKEN=token,
        MODELPM_HOME=str(tmp_path / "store-a"),
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_push_to_hub_of_a_tiny_model_round_trips(hub: TestHub, tmp_path: Path) -> None:
    out = run(PUSH, hub, tmp_path, "hf_transformers")
    assert "same weights" in out
    files = hub.repo("acme/tiny-bert").files()
    assert {"config.json", "model.safetensors", "README.md"} <= set(files)
    assert files["model.safetensors"].lfs


def test_save_pretrained_publish_pin_then_sync_locked_elsewhere(
    hub: TestHub, tmp_path: Path
) -> None:
    out = run(LOOP, hub, tmp_path, "hf_loop")
    assert "same weights" in out
    repo = hub.repo("acme/tiny-bert-ft")
    assert repo.resolve("v1") == repo.resolve("main")
    lock = (tmp_path / "a" / "models.lock").read_text()
    assert repo.resolve("v1") in lock
