"""Offline quick start: modelpm end to end against a Hub-compatible server on 127.0.0.1.

    python examples/quickstart.py

No real hub is contacted. The script starts modelpm's test hub with a small
generated model (a tag, a branch, LFS weights behind a CDN redirect), writes a
models.toml in a temporary project, and runs the real `modelpm` command:
lock, sync, verify, status, then a second sync that has nothing to do. It
stops the server and removes every temporary file when it ends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from modelpm.testing import TestHub

MANIFEST = """\
# models.toml: the models this project uses.
[models.tiny-bert]
repo = "acme/tiny-bert"
revision = "v1.0"                          # a tag; the lock pins its commit
include = ["*.json", "*.txt", "*.safetensors"]
exclude = ["*.h5"]                         # skip TensorFlow weights

[models.tiny-bert-dev]
repo = "acme/tiny-bert"
revision = "feature/distilled"             # a branch with a '/' in its name
include = ["*.json", "*.safetensors"]
dest = "models/dev"
"""


def build_repo(hub: TestHub) -> None:
    repo = hub.create_repo("acme/tiny-bert")
    config = {"architectures": ["BertModel"], "hidden_size": 64, "num_hidden_layers": 2}
    repo.commit(
        {
            "config.json": json.dumps(config, indent=2).encode(),
            "vocab.txt": "\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *"abcdefgh"]).encode(),
            "model.safetensors": os.urandom(3 * 1024 * 1024),
            "tf_model.h5": os.urandom(1024 * 1024),
        },
        message="tiny bert",
    )
    repo.create_tag("v1.0")
    repo.create_branch("feature/distilled")
    repo.commit(
        {"model.safetensors": os.urandom(1024 * 1024)},
        branch="feature/distilled",
        message="distilled weights",
    )


def modelpm(*args: str, env: dict[str, str], cwd: Path) -> None:
    print(f"\n$ modelpm {' '.join(args)}", flush=True)
    command = [sys.executable, "-m", "modelpm", *args]
    subprocess.run(command, env=env, cwd=cwd, check=True)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="modelpm-quickstart-") as tmp, TestHub() as hub:
        build_repo(hub)
        project = Path(tmp) / "project"
        project.mkdir()
        (project / "models.toml").write_text(MANIFEST, encoding="utf-8")
        env = {
            **os.environ,
            "HF_ENDPOINT": hub.endpoint,  # point modelpm at the local hub
            "MODELPM_HOME": str(Path(tmp) / "store"),  # keep the store out of ~
            "HF_HUB_DISABLE_TELEMETRY": "1",
        }
        env.pop("HF_TOKEN", None)
        modelpm("lock", env=env, cwd=project)
        print((project / "models.lock").read_text(encoding="utf-8"))
        modelpm("sync", env=env, cwd=project)
        modelpm("verify", env=env, cwd=project)
        modelpm("status", env=env, cwd=project)
        before = hub.request_count
        modelpm("sync", env=env, cwd=project)
        print(f"\nrequests made by the second sync: {hub.request_count - before}")
        placed = sorted(p.relative_to(project).as_posix() for p in project.rglob("models/**/*"))
        print("files placed:", *placed, sep="\n  ")


if __name__ == "__main__":
    main()
