"""How each source's endpoint is configured (read by :mod:`modelpm.config`, nowhere else).

hf          $HF_ENDPOINT                                  > [settings] endpoint
            > https://huggingface.co
modelscope  $MODELSCOPE_ENDPOINT > $MODELSCOPE_DOMAIN     > [settings] modelscope-endpoint
            (deprecated; a bare host gets https://)       > https://modelscope.cn
"""

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
    token_env: str  # where the source's token goes (named in errors; read by its token module)
    bare_host: bool = False  # a value without a scheme gets https://, as the official client does

    def normalise(self, value: str) -> str:
        """``value`` as an endpoint: no trailing slash, a scheme if ``bare_host``."""
        value = value.strip()
        if self.bare_host and not value.lower().startswith(("http://", "https://")):
            value = f"https://{value}"
        return value.rstrip("/")


ENDPOINTS: dict[SourceKind, EndpointRule] = {
    "hf": EndpointRule(
        env=("HF_ENDPOINT",),
        setting="endpoint",
        default="https://huggingface.co",
        token_env="HF_TOKEN",  # noqa: S106 - the variable's name, not a secret
    ),
    "modelscope": EndpointRule(
        env=("MODELSCOPE_ENDPOINT", "MODELSCOPE_DOMAIN"),
        setting="modelscope-endpoint",
        default="https://modelscope.cn",
        token_env="MODELSCOPE_API_TOKEN",  # noqa: S106 - a name, not a secret
        bare_host=True,
    ),
}
