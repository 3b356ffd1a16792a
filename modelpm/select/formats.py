"""What a repo file is, by its path: a weights file of some format, a duplicate, or neither.

Pure functions of paths. A *weights file* is one a loader reads as a whole model::

    <folder>/<stem>[.<variant>][-00001-of-00003].<ext>        (stem, format)
    <folder>/<stem>.<ext>.index[.<variant>].json             its shard index
    <folder>/<stem>[.<variant>].<ext>.index.json             (older diffusers index name)

    stem                                          ext            format
    model, diffusion_pytorch_model, adapter_model .safetensors   safetensors
    pytorch_model, diffusion_pytorch_model,       .bin           pytorch
      adapter_model
    tf_model                                      .h5            tf
    flax_model, diffusion_flax_model              .msgpack       flax

A *duplicate* is a copy of a component's weights in a form the PyTorch loaders
never read (:func:`duplicate_kind`): ONNX, OpenVINO, Core ML, TFLite, MLX, Rust
(``*.ot``), GGUF, ``original/`` checkpoints, ``consolidated*`` copies, training
state (``training_args.bin``, ``optimizer.pt``, …) and ``checkpoint-*/`` folders.
Invariant: a path is never both (a weights file is recognised first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

WeightFormat = Literal["safetensors", "pytorch", "tf", "flax"]
Role = Literal["main", "adapter"]

_STEMS: dict[str, tuple[tuple[str, WeightFormat], ...]] = {
    "model": (("safetensors", "safetensors"),),
    "diffusion_pytorch_model": (("safetensors", "safetensors"), ("bin", "pytorch")),
    "adapter_model": (("safetensors", "safetensors"), ("bin", "pytorch")),
    "pytorch_model": (("bin", "pytorch"),),
    "tf_model": (("h5", "tf"),),
    "flax_model": (("msgpack", "flax"),),
    "diffusion_flax_model": (("msgpack", "flax"),),
}
_NAME = re.compile(
    r"^(?P<stem>[a-z_]+?)(?:\.(?P<variant>[A-Za-z0-9_]+))?"
    r"(?:-(?P<shard>\d{5})-of-(?P<total>\d{5}))?\.(?P<ext>safetensors|bin|h5|msgpack)$"
)
_INDEX = re.compile(
    r"^(?P<stem>[a-z_]+?)(?:\.(?P<variant1>[A-Za-z0-9_]+))?\.(?P<ext>safetensors|bin|h5|msgpack)"
    r"\.index(?:\.(?P<variant2>[A-Za-z0-9_]+))?\.json$"
)
_DUPLICATE_FOLDERS = {
    "onnx": "ONNX copy",
    "openvino": "OpenVINO copy",
    "coreml": "Core ML copy",
    "mlx": "MLX copy",
    "tflite": "TFLite copy",
    "original": "original checkpoint",
}
_DUPLICATE_SUFFIXES = {
    ".onnx": "ONNX copy",
    ".onnx_data": "ONNX copy",
    ".onnx.data": "ONNX copy",
    ".tflite": "TFLite copy",
    ".mlmodel": "Core ML copy",
    ".ot": "Rust copy",
    ".gguf": "GGUF copy",
}
_TRAINING = re.compile(
    r"^(training_args\.bin|optimizer\.(pt|bin)|scheduler\.pt|scaler\.pt|rng_state(_\d+)?\.pth)$"
)
_CONSOLIDATED = re.compile(r"^consolidated(\.\d+)?\.(safetensors|pth|pt|bin)$")
_CHECKPOINT_FOLDER = re.compile(r"^(checkpoint-\d+|global_step\d+)$")


@dataclass(frozen=True)
class WeightFile:
    """A weights file (or shard index) of one folder."""

    path: str
    folder: str  # "" for the repo root, else "unet", "1_Pooling", …
    stem: str
    format: WeightFormat
    variant: str | None
    index: bool  # a shard index (JSON) rather than weights
    sharded: bool  # one shard of several

    @property
    def role(self) -> Role:
        return "adapter" if self.stem == "adapter_model" else "main"


def split(path: str) -> tuple[str, str]:
    """``("unet", "config.json")`` for ``unet/config.json``; folder "" at the root."""
    folder, _, name = path.rpartition("/")
    return folder, name


def weight_file(path: str) -> WeightFile | None:
    """The weights file ``path`` is, or None."""
    folder, name = split(path)
    match = _INDEX.match(name)
    if match:
        fmt = _format(match["stem"], match["ext"])
        if fmt is None:
            return None
        variant = match["variant2"] or match["variant1"]
        return WeightFile(path, folder, match["stem"], fmt, variant, True, False)
    match = _NAME.match(name)
    if match is None:
        return None
    fmt = _format(match["stem"], match["ext"])
    if fmt is None:
        return None
    return WeightFile(
        path, folder, match["stem"], fmt, match["variant"], False, match["shard"] is not None
    )


def _format(stem: str, ext: str) -> WeightFormat | None:
    for known_ext, fmt in _STEMS.get(stem, ()):
        if known_ext == ext:
            return fmt
    return None


def duplicate_kind(path: str, component: str) -> str | None:
    """Why ``path`` duplicates the weights of ``component`` (a folder, "" = root), or None.

    Only paths directly in the component, or under one of its known duplicate
    folders (``onnx/``, ``openvino/``, ``original/``, ``checkpoint-500/``, …), count.
    """
    base = component + "/" if component else ""
    if not path.startswith(base):
        return None
    rest = path[len(base) :]
    first, _, below = rest.partition("/")
    if below:
        if first in _DUPLICATE_FOLDERS:
            return _DUPLICATE_FOLDERS[first]
        if _CHECKPOINT_FOLDER.match(first):
            return "training checkpoint"
        return None
    name = rest
    lower = name.lower()
    for suffix, kind in _DUPLICATE_SUFFIXES.items():
        if lower.endswith(suffix):
            return kind
    if lower.startswith("openvino_model."):
        return "OpenVINO copy"
    if _TRAINING.match(name):
        return "training state"
    if _CONSOLIDATED.match(name):
        return "consolidated copy"
    return None
