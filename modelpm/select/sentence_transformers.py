"""Sentence-transformers models: ``modules.json`` names the module folders.

    modules.json      [{"idx": 0, "name": "0", "path": "",
                        "type": "sentence_transformers.models.Transformer"},
                       {"idx": 1, "name": "1", "path": "1_Pooling", "type": "…Pooling"}, …]
    model.safetensors, pytorch_model.bin, onnx/, openvino/    the Transformer module (root)
    2_Dense/model.safetensors                                 a Dense module's weights

Every module folder (and the root) gets the transformers rule: one format, one
variant; the ONNX and OpenVINO folders, which only the non-default backends
read, are left out with the other duplicates. Non-weight files of every module
are kept.
"""

from __future__ import annotations

from collections.abc import Sequence

from modelpm.select.formats import WeightFormat
from modelpm.select.rules import Decision, Listing, NoFit
from modelpm.select.transformers import choose_folder, take_folder

MODULES = "modules.json"


def module_folders(listing: Listing) -> list[str]:
    data = listing.json(MODULES)
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise NoFit(f"{MODULES} is not a list of modules")
    folders = {""}
    for item in data:
        path = item.get("path", "")
        if isinstance(path, str) and ".." not in path.split("/"):
            folders.add(path.strip("/"))
    return sorted(folders)


def choose_modules(
    listing: Listing, order: Sequence[WeightFormat], variant: str | None, wanted: str
) -> Decision:
    decision = Decision()
    for folder in module_folders(listing):
        choice = choose_folder(listing, folder, order, variant)
        if choice.status != "none":
            take_folder(decision, choice, wanted, variant)
    return decision
