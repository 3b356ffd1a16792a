"""Offline publish round trip: save → ``modelpm publish --pin`` → another machine syncs it.

    python examples/publish_roundtrip.py

No real hub is contacted. The script starts modelpm's test hub (with a token that may
write), writes a folder as ``save_pretrained`` would (config, tokenizer, safetensors
weights), and runs the real ``modelpm`` command:

1. machine A: ``publish --dry-run``, then ``publish --create --tag v1 --pin tiny-ft``, then
   ``sync --locked``, which makes no request (the published bytes are in the store);
2. machine B (a fresh project folder holding only models.toml and models.lock, and a fresh
   store): ``sync --locked`` downloads exactly the published bytes, compared here byte for
   byte with the saved folder.

The test hub speaks no Xet, so the environment sets ``HF_HUB_DISABLE_XET=1``. Everything
temporary is removed at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from modelpm.testing import TestHub

TOKEN = "hf_example_writer"  # noqa: S105 - a token only the local test hub knows


def save_pretrained(folder: Path) -> None:
    """What a fine-tune leaves behind (stand-in bytes: no framework needed offline)."""
    folder.mkdir(parents=True)
    config = {"architectures": ["BertModel"], "hidden_size": 64, "num_hidden_layers": 2}
    (folder / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    (folder / "tokenizer_config.json").write_text('{"do_lower_case": true}', encoding="utf-8")
    (folder / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\na\nb\n", encoding="utf-8")
    (folder / "model.safetensors").write_bytes(os.urandom(3 * 1024 * 1024))


def modelpm(*args: str, env: dict[str, str], cwd: Path) -> None:
    print(f"\n$ modelpm {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, "-m", "modelpm", *args], env=env, cwd=cwd, check=True)


def tree(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="modelpm-publish-") as tmp, TestHub() as hub:
        hub.add_token(TOKEN, user="acme")
        base = {
            **os.environ,
            "HF_ENDPOINT": hub.endpoint,  # point modelpm at the local hub
            "HF_TOKEN": TOKEN,
            "HF_HUB_DISABLE_XET": "1",  # the test hub speaks no Xet
            "HF_HUB_DISABLE_TELEMETRY": "1",
        }
        machine_a = Path(tmp) / "machine-a"
        save_pretrained(machine_a / "out" / "tiny-ft")
        (machine_a / "models.toml").write_text("# models of project A\n", encoding="utf-8")
        env_a = {**base, "MODELPM_HOME": str(Path(tmp) / "store-a")}
        publish = ["publish", "out/tiny-ft", "--repo", "acme/tiny-ft", "--create"]
        modelpm(*publish, "--dry-run", env=env_a, cwd=machine_a)
        modelpm(*publish, "--tag", "v1", "--pin", "tiny-ft", env=env_a, cwd=machine_a)
        print("\n" + (machine_a / "models.toml").read_text(encoding="utf-8"))
        before = hub.request_count
        modelpm("sync", "--locked", env=env_a, cwd=machine_a)
        print(f"requests made by sync on machine A: {hub.request_count - before}")

        machine_b = Path(tmp) / "machine-b"
        machine_b.mkdir()
        for name in ("models.toml", "models.lock"):  # what git carries to the other machine
            shutil.copy(machine_a / name, machine_b / name)
        env_b = {**base, "MODELPM_HOME": str(Path(tmp) / "store-b")}
        env_b.pop("HF_TOKEN")  # a reader needs no token for a public repo
        modelpm("sync", "--locked", env=env_b, cwd=machine_b)
        got = tree(machine_b / "models" / "tiny-ft")
        saved = tree(machine_a / "out" / "tiny-ft")
        same = all(got[path] == data for path, data in saved.items())
        print(f"\nmachine B holds the {len(saved)} saved files byte for byte: {same}")
        if not same:
            sys.exit(1)


if __name__ == "__main__":
    main()
