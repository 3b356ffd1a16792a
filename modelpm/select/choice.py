"""The ``weights`` and ``variant`` a model table asks for, parsed (a value, no rules).

    weights = "auto"          what the PyTorch loaders would read (the default)
            | "safetensors"   the safetensors weights; an error if there are none
            | "pytorch"       the pickled ``*.bin`` weights; an error if there are none
            | "all"           every file (what modelpm did before ``weights`` existed)
            | "gguf:QUANT"    one quantisation of a GGUF repo, e.g. "gguf:Q4_K_M"
    variant = "fp16"          ``*.fp16.safetensors``-style files, in every component

Kept apart from the rules (:mod:`modelpm.select.weights`) so that reading a
manifest, all a no-op ``sync`` does, loads no selection logic. Invariant: a
:class:`Weights` is canonical (a quant is upper case), so equal choices
fingerprint equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

WeightsKind = Literal["auto", "safetensors", "pytorch", "all", "gguf"]
WEIGHTS_KINDS: Final[tuple[str, ...]] = ("auto", "safetensors", "pytorch", "all", "gguf:QUANT")
_QUANT = re.compile(r"^(UD-)?[A-Z0-9][A-Z0-9_]*$")
VARIANT = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True)
class Weights:
    kind: WeightsKind = "auto"
    quant: str | None = None  # for "gguf" only

    @classmethod
    def parse(cls, text: str) -> Weights:
        """The choice ``text`` names; ValueError says what is wrong."""
        if text in ("auto", "safetensors", "pytorch", "all"):
            return cls(text)  # type: ignore[arg-type]  # narrowed by the membership test
        kind, colon, quant = text.partition(":")
        if kind == "gguf" and colon:
            quant = quant.strip().upper()
            if _QUANT.match(quant):
                return cls("gguf", quant)
            raise ValueError(f"{text!r} names no quantisation (write it like 'gguf:Q4_K_M')")
        raise ValueError(f"{text!r} is not one of {', '.join(WEIGHTS_KINDS)}")

    def __str__(self) -> str:
        return f"gguf:{self.quant}" if self.kind == "gguf" else self.kind


AUTO: Final = Weights("auto")
ALL: Final = Weights("all")
