"""How each source's endpoint is configured (read by :mod:`modelpm.config`, nowhere else)."""

from __future__ import annotations

from dataclasses import dataclass

from modelpm.values import SourceKind


@dataclass(frozen=True)
class EndpointRule:
    """Where a source's endpoint comes from: the first set of ``env``, then the manifest's
    ``[settings] <setting>``, then ``default``."""

    env: tuple[str, ...]
    setting: str
    default: str


ENDPOINTS: dict[SourceKind, EndpointRule] = {
    "hf": EndpointRule(env=("HF_ENDPOINT",), setting="endpoint", default="https://huggingface.co"),
}
