"""The manifest's source keys: ``source`` and ``mirrors`` of a model, ``[settings] source``
and ``[settings] modelscope-endpoint``.

    [settings]
    source = "modelscope"                          # models without `source`; default "hf"
    modelscope-endpoint = "https://modelscope.cn"  # $MODELSCOPE_ENDPOINT wins

    [models.bert-zh]
    repo = "google-bert/bert-base-chinese"         # source: [settings] source
    mirrors = ["modelscope:tiansz/bert-base-chinese", "hf:other-org/copy@v2"]

Rules, each an error naming the file, the model and the key: a source is one of
:data:`~modelpm.values.SOURCE_KINDS`; a ModelScope repo id is ``owner/name`` and is a
model or a dataset; a mirror is ``SOURCE:REPO[@REVISION]``, listed once, and never the
model itself. The default revision follows the source (``main``, ``master``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelpm.errors import ManifestError
from modelpm.manifest.model import Mirror
from modelpm.paths import is_repo_id
from modelpm.urls import endpoint_problem, shown
from modelpm.values import SOURCE_KINDS, RepoType, SourceKind, is_source_kind


def parse_source(value: object, ctx: str, key: str = "source") -> SourceKind:
    if not isinstance(value, str) or not is_source_kind(value):
        raise ManifestError(
            f"{ctx} {key}: {value!r} is not a source",
            hint=f"sources are {', '.join(SOURCE_KINDS)}",
        )
    return value


def parse_endpoint(value: str, ctx: str, key: str) -> str:
    """A ``[settings]`` endpoint of a source (``key`` is its setting), as an endpoint."""
    from modelpm.sources.endpoints import ENDPOINTS

    rule = next(rule for rule in ENDPOINTS.values() if rule.setting == key)
    problem = endpoint_problem(value)
    if problem is not None:
        raise ManifestError(
            f"{ctx}: {key} {shown(value)!r} {problem}",
            hint=f'write it like "{rule.default}"; a token goes in {rule.token_env}',
        )
    return value.rstrip("/")


def check_repo(repo: str, source: SourceKind, repo_type: RepoType, ctx: str) -> None:
    """The source's own rules for a repo id and type (the Hub's rules hold for both)."""
    if source != "modelscope":
        return
    if "/" not in repo:
        raise ManifestError(
            f"{ctx} repo: {repo!r} is not a ModelScope repo id",
            hint='ModelScope ids are "<owner>/<name>", e.g. "Qwen/Qwen2.5-0.5B-Instruct"',
        )
    if repo_type == "space":
        raise ManifestError(
            f"{ctx} repo-type: ModelScope has models and datasets, not spaces",
            hint='use repo-type = "model" or "dataset"',
        )


def parse_mirrors(
    table: Mapping[str, Any], own: Mirror, repo_type: RepoType, ctx: str
) -> tuple[Mirror, ...]:
    """The model's ``mirrors``, in manifest order; ``own`` is the model itself."""
    value = table.get("mirrors")
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ManifestError(
            f"{ctx} mirrors: expected a list of strings",
            hint='write mirrors = ["modelscope:<owner>/<name>", "hf:<org>/<name>@<revision>"]',
        )
    mirrors: list[Mirror] = []
    for item in value:
        mirror = _mirror(item, ctx)
        check_repo(mirror.repo, mirror.source, repo_type, f"{ctx} mirrors: {item!r}:")
        if mirror in mirrors or (mirror.source, mirror.repo) == (own.source, own.repo):
            raise ManifestError(
                f"{ctx} mirrors: {item!r} is listed twice or is the model itself",
                hint="list each other repo once",
            )
        mirrors.append(mirror)
    return tuple(mirrors)


def _mirror(text: str, ctx: str) -> Mirror:
    source, colon, rest = text.partition(":")
    repo, at, revision = rest.partition("@")
    if not colon or not is_source_kind(source) or not is_repo_id(repo):
        raise ManifestError(
            f"{ctx} mirrors: {text!r} is not SOURCE:REPO[@REVISION]",
            hint='e.g. "modelscope:tiansz/bert-base-chinese"; sources are '
            + ", ".join(SOURCE_KINDS),
        )
    if at and (not revision.strip() or revision != revision.strip()):
        raise ManifestError(f"{ctx} mirrors: {text!r} has an empty revision after '@'")
    return Mirror(source, repo, revision or None)
