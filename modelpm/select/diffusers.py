"""Diffusers pipelines: ``model_index.json`` names the components; weights per component.

    model_index.json     {"_class_name": "StableDiffusionPipeline",
                          "unet": ["diffusers", "UNet2DConditionModel"],
                          "vae": ["diffusers", "AutoencoderKL"],
                          "safety_checker": [null, null], …}
    unet/diffusion_pytorch_model[.fp16].safetensors      one component's weights
    v1-5-pruned-emaonly.safetensors                      a single-file copy at the root

Each component folder gets the transformers rule (:func:`choose_folder`) with the
same preference and the same variant, so a pipeline is never mixed: a variant
missing in one component, or a component that has only variant weights while the
others have plain ones, is refused with the components named. Single-file
checkpoints at the root (``*.safetensors``, ``*.ckpt``, ``*.bin``, ``*.pt``,
``*.pth``), which ``DiffusionPipeline.from_pretrained`` never reads, are left out
once the components supplied weights.
"""

from __future__ import annotations

from collections.abc import Sequence

from modelpm.select.formats import WeightFormat, duplicate_kind
from modelpm.select.rules import Decision, Listing, NoFit
from modelpm.select.transformers import FolderChoice, choose_folder, take_folder

INDEX = "model_index.json"
_SINGLE_FILE = (".safetensors", ".ckpt", ".bin", ".pt", ".pth")


def components(listing: Listing) -> list[str]:
    data = listing.json(INDEX)
    if not isinstance(data, dict):
        raise NoFit(f"{INDEX} is not a JSON object")
    return sorted(
        name
        for name, value in data.items()
        if not name.startswith("_")
        and isinstance(value, list)
        and len(value) == 2
        and value[0] is not None
        and "/" not in name
    )


def choose_pipeline(
    listing: Listing, order: Sequence[WeightFormat], variant: str | None, wanted: str
) -> Decision:
    choices = [choose_folder(listing, name, order, variant) for name in components(listing)]
    weighted = [choice for choice in choices if choice.status != "none"]
    _refuse_mixed(weighted, variant)
    decision = Decision()
    for choice in weighted:
        take_folder(decision, choice, wanted, variant)
    if any(choice.taken for choice in weighted):
        for path in listing.paths:
            if "/" not in path and path.lower().endswith(_SINGLE_FILE):
                decision.drop.setdefault(path, "single-file copy of the pipeline")
            kind = duplicate_kind(path, "")
            if kind is not None:
                decision.drop.setdefault(path, kind)
    return decision


def _refuse_mixed(choices: list[FolderChoice], variant: str | None) -> None:
    lacking = [choice.folder for choice in choices if choice.status == "no-variant"]
    if lacking:
        raise NoFit(
            f"variant {variant!r} is missing in {', '.join(lacking)}: a pipeline with mixed "
            "variants is refused",
            hint="remove `variant`, or choose one that every component has",
        )
    only = [choice for choice in choices if choice.status == "only-variants"]
    if not only:
        return
    plain = [choice.folder for choice in choices if choice.status == "ok"]
    names = ", ".join(f"{choice.folder} ({', '.join(choice.variants())})" for choice in only)
    if plain:
        raise NoFit(
            f"mixed variants: {names} only variant weights, {', '.join(plain)} plain ones",
            hint='take the pipeline\'s files by hand: weights = "all" with include/exclude',
        )
    raise NoFit(
        f"every component has only variant weights: {names}",
        hint=f'set variant = "{only[0].variants()[0]}"',
    )
