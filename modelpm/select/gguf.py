"""GGUF repos: exactly one quantisation, as llama.cpp's ``-hf repo:QUANT`` takes one.

A quant is read from a file's name (``llama-2-7b.Q4_K_M.gguf``,
``Qwen2.5-7B-Instruct-q4_k_m-00001-of-00002.gguf``, ``UD-Q4_K_XL/…``), case
folded to upper case; a ``.gguf`` whose name carries none is its own quant (its
name without ``.gguf``). Split files of one quant are taken together.
``mmproj*.gguf`` (a vision projector, needed beside any quant) is always kept.

``weights = "gguf:QUANT"`` takes that quant and leaves out the other quants and
every other format's weights; ``auto`` on a repo that is GGUF only takes the one
quant there is, and refuses to guess between several.
"""

from __future__ import annotations

import re

from modelpm.select.choice import Weights
from modelpm.select.formats import duplicate_kind, split, weight_file
from modelpm.select.rules import Decision, Listing, NoFit

_QUANT = re.compile(
    r"(?<![A-Za-z0-9])((?:UD-)?(?:I?Q[1-8](?:_[0-9A-Z]+)*|BF16|F16|F32|FP16|MXFP4(?:_MOE)?|TQ[12]_0))"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"-\d{5}-of-\d{5}$")


def gguf_files(listing: Listing) -> dict[str, str]:
    """Every quant-bearing ``.gguf`` path and its quant (projectors left out)."""
    found: dict[str, str] = {}
    for path in listing.paths:
        folder, name = split(path)
        if not name.lower().endswith(".gguf") or name.lower().startswith("mmproj"):
            continue
        found[path] = quant_of(folder, name)
    return found


def quant_of(folder: str, name: str) -> str:
    stem = _SPLIT.sub("", name[: -len(".gguf")])
    matches = _QUANT.findall(stem) or _QUANT.findall(folder)
    return matches[-1].upper() if matches else stem


def choose_gguf(listing: Listing, weights: Weights) -> Decision:
    """Keep one quant; :class:`NoFit` listing the quants when the choice is not one of them."""
    files = gguf_files(listing)
    quants = sorted(set(files.values()))
    if not quants:
        raise NoFit(
            f"weights = {str(weights)!r} but the repo has no GGUF file",
            hint='set weights = "auto"',
        )
    if weights.kind == "gguf":
        wanted = weights.quant
        if wanted not in quants:
            raise NoFit(
                f"the repo has no GGUF file of quant {wanted} (quants: {', '.join(quants)})",
                hint=f'set weights = "gguf:{_suggest(quants)}", one of the quants listed',
            )
    elif len(quants) == 1:
        wanted = quants[0]
    else:
        raise NoFit(
            f'this GGUF repo has {len(quants)} quants and weights = "auto" takes one '
            f"(quants: {', '.join(quants)})",
            hint=f'choose one, e.g. weights = "gguf:{_suggest(quants)}"',
        )
    decision = Decision()
    for path, quant in files.items():
        if quant != wanted:
            decision.drop[path] = f"GGUF {quant}"
    for path in listing.paths:
        if path in files:
            continue
        if weight_file(path) is not None:
            decision.drop[path] = "not GGUF"
        else:
            kind = duplicate_kind(path, split(path)[0])
            if kind is not None and kind != "GGUF copy":
                decision.drop[path] = kind
    return decision


def _suggest(quants: list[str]) -> str:
    return "Q4_K_M" if "Q4_K_M" in quants else quants[0]
