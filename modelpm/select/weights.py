"""``weights``: which of a repo's weight files a model takes, by the layout the repo has.

    listing ──► layout ──► rule ──► Decision (left out + reasons, notes) ──► guard
                model_index.json       diffusers            (per component)
                modules.json           sentence_transformers (per module folder)
                weights = "gguf:Q"     gguf                 (one quant)
                weights at the root    transformers         (one folder)
                *.gguf only            gguf                 (auto: the only quant)
                anything else          everything kept, with a note

Pure: the listing's paths and sizes, and ``read`` for the few small files a rule
needs (shard indexes, ``model_index.json``, ``modules.json``), which the caller
fetches verified. Deterministic: the same listing and choice give the same
selection. Invariants: non-weight files (configs, tokenizers, READMEs, licences)
are never left out; ``all`` leaves out nothing; and the guard never lets a
selection drop every weights file a repo has (it keeps everything and says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from modelpm.select.choice import Weights
from modelpm.select.diffusers import INDEX, choose_pipeline
from modelpm.select.formats import WeightFormat, split, weight_file
from modelpm.select.gguf import choose_gguf, gguf_files
from modelpm.select.rules import Decision, Listing, NoFit, Reader
from modelpm.select.sentence_transformers import MODULES, choose_modules
from modelpm.select.transformers import choose_folder, take_folder

_WEIGHTY = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".onnx", ".gguf")
_ORDER: dict[str, tuple[WeightFormat, ...]] = {
    "auto": ("safetensors", "pytorch"),
    "safetensors": ("safetensors",),
    "pytorch": ("pytorch",),
}


@dataclass(frozen=True)
class WeightsSelection:
    """The paths a choice keeps, those it leaves out (path, reason), and notes."""

    kept: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()


def select_weights(
    files: Sequence[tuple[str, int]], weights: Weights, variant: str | None, read: Reader
) -> WeightsSelection:
    """Apply ``weights``/``variant`` to ``files`` (path, size); :class:`NoFit` if they misfit."""
    paths = [path for path, _size in files]
    if weights.kind == "all":
        return WeightsSelection(tuple(paths))
    listing = Listing(frozenset(paths), dict(files), read)
    return guarded(paths, _decide(listing, weights, variant))


def guarded(paths: Sequence[str], decision: Decision) -> WeightsSelection:
    """``decision`` applied to ``paths``, unless it would leave no weights file at all."""
    kept = tuple(path for path in paths if path not in decision.drop)
    if _weights_in(paths) and not _weights_in(kept):
        note = "no weights would be left: kept every file"
        return WeightsSelection(tuple(paths), (), (*decision.notes, note))
    skipped = tuple((path, decision.drop[path]) for path in paths if path in decision.drop)
    return WeightsSelection(kept, skipped, tuple(decision.notes))


def _decide(listing: Listing, weights: Weights, variant: str | None) -> Decision:
    if weights.kind == "gguf":
        return choose_gguf(listing, weights)
    order = _ORDER[weights.kind]
    wanted = weights.kind
    if INDEX in listing.paths:
        return choose_pipeline(listing, order, variant, wanted)
    if MODULES in listing.paths:
        return choose_modules(listing, order, variant, wanted)
    root = choose_folder(listing, "", order, variant)
    if root.status != "none":
        decision = Decision()
        take_folder(decision, root, wanted, variant)
        return decision
    if gguf_files(listing):
        if weights.kind != "auto":
            raise NoFit(
                f"weights = {str(weights)!r} but this is a GGUF repo",
                hint='set weights = "gguf:<QUANT>" (or "auto" if it has one quant)',
            )
        return choose_gguf(listing, weights)
    if weights.kind != "auto" or variant is not None:
        raise NoFit(
            "modelpm does not recognise where this repo keeps its weights",
            hint='set weights = "all" and choose files with include/exclude',
        )
    if not any(path.lower().endswith(_WEIGHTY) for path in listing.paths):
        return Decision()  # no weights at all (a tokenizer, a config): nothing to choose
    decision = Decision()
    decision.notes.append(
        "layout not recognised (no transformers, diffusers, sentence-transformers or GGUF "
        "weights where the loaders look): kept every file"
    )
    return decision


def _weights_in(paths: Sequence[str]) -> bool:
    for path in paths:
        item = weight_file(path)
        if (item is not None and not item.index) or split(path)[1].lower().endswith(".gguf"):
            return True
    return False
