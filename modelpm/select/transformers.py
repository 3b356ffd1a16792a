"""The weights ``transformers`` loads from one folder, and what it never reads there.

As ``PreTrainedModel.from_pretrained`` looks for them, per role (the model, or a
PEFT adapter beside it) and in the order of the choice (``auto``: safetensors,
then pickled ``.bin``): the single file ``<stem>[.<variant>].<ext>`` first, else
the shard index ``<stem>.<ext>.index[.<variant>].json`` and exactly the shards
its ``weight_map`` names. Everything else of that role in the folder (other
formats, other variants, shards the index does not list) is left out, and so
are the folder's duplicates (ONNX, OpenVINO, Rust, GGUF, ``original/``,
consolidated copies, training state), but only once PyTorch weights were
found there: a folder with only TF or Flax weights keeps them.

:func:`choose_folder` reports what it found as a :class:`FolderChoice`; the
layout rules decide what a status means for them (a missing variant is an
error for one model and a mixed pipeline for diffusers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from modelpm.select.formats import WeightFile, WeightFormat, duplicate_kind, weight_file
from modelpm.select.rules import ALL_HINT, Decision, Listing, NoFit

FolderStatus = Literal["ok", "none", "no-variant", "only-variants", "format-missing", "no-pytorch"]
PYTORCH_FORMATS: tuple[WeightFormat, ...] = ("safetensors", "pytorch")
FORMAT_NAMES: dict[WeightFormat, str] = {
    "safetensors": "safetensors",
    "pytorch": "PyTorch .bin",
    "tf": "TensorFlow",
    "flax": "Flax",
}


@dataclass
class FolderChoice:
    folder: str
    status: FolderStatus = "none"
    decision: Decision = field(default_factory=Decision)
    taken: list[str] = field(default_factory=list)
    found: list[WeightFile] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.folder}/" if self.folder else "the repo root"

    def variants(self) -> list[str]:
        return sorted({item.variant for item in self.found if item.variant})

    def formats(self) -> list[str]:
        return sorted({FORMAT_NAMES[item.format] for item in self.found})


def choose_folder(
    listing: Listing, folder: str, order: Sequence[WeightFormat], variant: str | None
) -> FolderChoice:
    """What to take and leave out among the weights directly in ``folder``."""
    choice = FolderChoice(folder)
    for path in listing.paths:
        item = weight_file(path)
        if item is not None and item.folder == folder:
            choice.found.append(item)
    if not choice.found:
        return choice
    statuses: list[FolderStatus] = []
    for role in sorted({item.role for item in choice.found}):
        files = [item for item in choice.found if item.role == role]
        statuses.append(_choose_role(listing, choice, files, order, variant))
    # The worst status wins: a problem with the adapter is a problem with the folder.
    choice.status = next((status for status in statuses if status != "ok"), "ok")
    if choice.taken:
        for path in listing.paths:
            kind = duplicate_kind(path, folder)
            if kind is not None and path not in choice.taken:
                choice.decision.drop.setdefault(path, kind)
    return choice


def _choose_role(
    listing: Listing,
    choice: FolderChoice,
    files: list[WeightFile],
    order: Sequence[WeightFormat],
    variant: str | None,
) -> FolderStatus:
    for fmt in order:
        mine = [item for item in files if item.format == fmt and item.variant == variant]
        singles = [item.path for item in mine if not item.index and not item.sharded]
        indexes = [item for item in mine if item.index]
        taken = singles or (_shards(listing, indexes[0]) if indexes else [])
        if taken:
            choice.taken.extend(taken)
            for item in files:
                if item.path not in taken:
                    choice.decision.drop[item.path] = _reason(item, fmt, variant)
            return "ok"
    loadable = [item for item in files if item.format in PYTORCH_FORMATS]
    if variant is not None:
        return "no-variant"
    if loadable and all(item.variant for item in loadable):
        return "only-variants"
    if loadable:
        return "format-missing"
    return "no-pytorch"


def _shards(listing: Listing, index: WeightFile) -> list[str]:
    """The index and every shard its ``weight_map`` names (which must all be listed)."""
    data = listing.json(index.path)
    weight_map = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(weight_map, dict) or not all(
        isinstance(name, str) for name in weight_map.values()
    ):
        raise NoFit(f"{index.path} has no valid weight_map", hint=ALL_HINT)
    base = f"{index.folder}/" if index.folder else ""
    shards = sorted({base + name for name in weight_map.values()})
    for shard in shards:
        if ".." in shard.split("/") or shard not in listing.paths:
            raise NoFit(
                f"{index.path} lists {shard!r}, which the repo does not have at this revision",
                hint=ALL_HINT,
            )
    return [index.path, *shards]


def _reason(item: WeightFile, taken: WeightFormat, variant: str | None) -> str:
    if item.format != taken:
        return f"{FORMAT_NAMES[item.format]} copy"
    if item.variant != variant:
        return f"variant {item.variant}" if item.variant else "non-variant copy"
    if item.sharded or item.index:
        return "shard not used (a single file or another index is taken)"
    return "another copy"


def strict_problem(choice: FolderChoice, wanted: str, variant: str | None) -> NoFit | None:
    """The error a folder's status is for a plain model (None: nothing to refuse)."""
    where = choice.where
    if choice.status == "no-variant":
        have = ", ".join(choice.variants()) or "none"
        return NoFit(
            f"no {variant} variant of the weights in {where} (variants there: {have})",
            hint="remove `variant`, or set it to one that exists",
        )
    if choice.status == "only-variants":
        have = ", ".join(choice.variants())
        return NoFit(
            f"{where} has only variant weights ({have}) and the loader reads the plain ones "
            "unless told a variant",
            hint=f'set variant = "{choice.variants()[0]}"',
        )
    if choice.status == "format-missing" and wanted == "auto":
        return NoFit(
            f"no weights in {where} that the loaders would read: it has "
            f"{', '.join(choice.formats())} only as shards, with no index that names them",
            hint='add the shards\' *.index.json upstream, or set weights = "all" to take '
            "every file",
        )
    if choice.status == "format-missing":
        return NoFit(
            f"no {wanted} weights in {where} (it has {', '.join(choice.formats())})",
            hint='set weights = "auto" to take what the loader reads',
        )
    if choice.status == "no-pytorch" and wanted != "auto":
        return NoFit(
            f"no {wanted} weights in {where} (it has {', '.join(choice.formats())})",
            hint='set weights = "all" to take every file',
        )
    return None


def take_folder(decision: Decision, choice: FolderChoice, wanted: str, variant: str | None) -> None:
    """Add one folder's choice to a layout's ``decision``, or raise what it cannot accept."""
    problem = strict_problem(choice, wanted, variant)
    if problem is not None:
        raise problem
    if choice.status == "no-pytorch":
        decision.notes.append(
            f"{choice.where} has no PyTorch weights: kept its {', '.join(choice.formats())}"
        )
    decision.merge(choice.decision)
