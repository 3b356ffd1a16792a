"""Reading ``models.toml`` into a :class:`~modelpm.manifest.model.Manifest`.

Owns the rules of the file and nothing else (no network, no lock format):
every error names the file, the model and the key, exits 2, and says how to
fix it. Style-preserving edits (``add``/``remove``) live in
:mod:`modelpm.manifest.edit`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from modelpm import tomlcompat
from modelpm.errors import ManifestError
from modelpm.manifest.model import (
    DEFAULT_DEST_ROOT,
    Manifest,
    Mirror,
    ModelSpec,
    Settings,
)
from modelpm.manifest.sources import check_repo, parse_endpoint, parse_mirrors, parse_source
from modelpm.paths import is_repo_id
from modelpm.s3url import parse_s3_url
from modelpm.select.choice import AUTO, VARIANT, Weights
from modelpm.values import (
    DEFAULT_REVISIONS,
    DEFAULT_SOURCE,
    LINK_MODES,
    REPO_TYPES,
    is_link_mode,
    is_repo_type,
)

_POLICY_KEYS = ("allow-unsafe-pickle", "allow-remote-code")
_SETTINGS_KEYS = (
    "endpoint",
    "dest-root",
    "store",
    "link",
    "remote",
    "remote-push",
    "source",
    "modelscope-endpoint",
    *_POLICY_KEYS,
)
_MODEL_KEYS = (
    "repo",
    "revision",
    "include",
    "exclude",
    "dest",
    "repo-type",
    "source",
    "mirrors",
    "weights",
    "variant",
    *_POLICY_KEYS,
)
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_TOOL_FOLDERS = frozenset({".git", ".modelpm"})


def load_manifest(path: Path) -> Manifest:
    """Read and validate ``models.toml``; raise :class:`ManifestError` naming file, model, key."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(
            f"{path} does not exist", hint="run `modelpm init` to create one"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"cannot read {path}: {exc}") from None
    return parse_manifest(text, path)


def parse_manifest(text: str, path: Path) -> Manifest:
    """Parse manifest text; ``path`` names the file in errors and anchors relative paths."""
    try:
        data = tomlcompat.loads(text)
    except tomlcompat.TOMLDecodeError as exc:
        raise ManifestError(
            f"{path.name}: invalid TOML: {exc}", hint="fix the syntax at that line"
        ) from None
    where = path.name
    _reject_unknown(data, ("settings", "models"), where)
    settings = _parse_settings(_table(data, "settings", where), where)
    models_table = _table(data, "models", where)
    models = tuple(
        _parse_model(name, _table(models_table, name, f"{where}: [models]"), settings, where)
        for name in models_table
    )
    _check_destinations(models, where)
    return Manifest(path=path.resolve(), settings=settings, models=models)


def _parse_settings(table: Mapping[str, Any], where: str) -> Settings:
    ctx = f"{where}: [settings]"
    _reject_unknown(table, _SETTINGS_KEYS, ctx)
    endpoint = _optional_str(table, "endpoint", ctx)
    if endpoint is not None:
        endpoint = parse_endpoint(endpoint, ctx, "endpoint")
    dest_root = _optional_str(table, "dest-root", ctx) or DEFAULT_DEST_ROOT
    _check_relative(dest_root, f"{ctx} dest-root")
    store = _optional_str(table, "store", ctx)
    link = _optional_str(table, "link", ctx) or "hardlink"
    if not is_link_mode(link):
        raise ManifestError(
            f"{ctx} link: {link!r} is not one of {', '.join(LINK_MODES)}",
            hint="hardlink shares the store's files (no disk); copy gives each project its own",
        )
    pickle, code = (_optional_bool(table, key, ctx) for key in _POLICY_KEYS)
    remote, remote_push = _remote_settings(table, ctx)
    # -- sources (manifest/sources.py) --
    source = parse_source(table.get("source", DEFAULT_SOURCE), ctx)
    ms_endpoint = _optional_str(table, "modelscope-endpoint", ctx)
    if ms_endpoint is not None:
        ms_endpoint = parse_endpoint(ms_endpoint, ctx, "modelscope-endpoint")
    return Settings(
        endpoint=endpoint,
        dest_root=dest_root,
        store=store,
        link=link,
        allow_unsafe_pickle=bool(pickle),
        allow_remote_code=code is not False,
        remote=remote,
        remote_push=remote_push,
        source=source,
        modelscope_endpoint=ms_endpoint,
    )


def _remote_settings(table: Mapping[str, Any], ctx: str) -> tuple[str | None, bool]:
    """``remote`` (an s3:// address) and ``remote-push`` (a boolean)."""
    remote = _optional_str(table, "remote", ctx)
    if remote is not None:
        try:
            remote = str(parse_s3_url(remote))
        except ValueError as exc:
            raise ManifestError(
                f"{ctx} remote: {exc}", hint='write it like "s3://team-models/modelpm"'
            ) from None
    push = table.get("remote-push", False)
    if not isinstance(push, bool):
        raise ManifestError(f"{ctx} remote-push: expected true or false, got {_type_name(push)}")
    return remote, push


def _parse_model(name: str, table: Mapping[str, Any], settings: Settings, where: str) -> ModelSpec:
    ctx = f"{where}: [models.{name}]"
    if not _MODEL_NAME.match(name):
        raise ManifestError(
            f"{ctx}: the model name must start with a letter or digit and use only "
            "letters, digits, '.', '_' and '-'",
        )
    _reject_unknown(table, _MODEL_KEYS, ctx)
    repo = _optional_str(table, "repo", ctx)
    if repo is None:
        raise ManifestError(
            f"{ctx}: missing key 'repo'", hint='add repo = "<org>/<name>" as on the hub'
        )
    if not is_repo_id(repo):
        raise ManifestError(
            f"{ctx} repo: {repo!r} is not a valid repo id",
            hint='use "<org>/<name>" as shown on the hub, e.g. "google-bert/bert-base-uncased"',
        )
    repo_type = _optional_str(table, "repo-type", ctx) or "model"
    if not is_repo_type(repo_type):
        raise ManifestError(f"{ctx} repo-type: {repo_type!r} is not one of {', '.join(REPO_TYPES)}")
    revision = _optional_str(table, "revision", ctx)
    if revision is not None and (not revision.strip() or revision != revision.strip()):
        raise ManifestError(f"{ctx} revision: must be a branch, tag or commit, not {revision!r}")
    include = _patterns(table, "include", ctx)
    exclude = _patterns(table, "exclude", ctx) or ()
    dest = _optional_str(table, "dest", ctx)
    if dest is None:
        dest = f"{settings.dest_root.rstrip('/')}/{name}"
    dest = _check_relative(dest, f"{ctx} dest")
    weights, variant = _weights(table, repo_type, ctx)
    pickle, code = (_optional_bool(table, key, ctx) for key in _POLICY_KEYS)
    # -- sources (manifest/sources.py) --
    source = parse_source(table.get("source", settings.source), ctx)
    check_repo(repo, source, repo_type, ctx)
    mirrors = parse_mirrors(table, Mirror(source, repo, revision), repo_type, ctx)
    return ModelSpec(
        name=name,
        repo=repo,
        repo_type=repo_type,
        revision=revision or DEFAULT_REVISIONS[source],
        include=include,
        exclude=exclude,
        dest=dest,
        weights=weights,
        variant=variant,
        weights_written="weights" in table or "variant" in table,
        allow_unsafe_pickle=pickle,
        allow_remote_code=code,
        source=source,
        mirrors=mirrors,
    )


def _weights(table: Mapping[str, Any], repo_type: str, ctx: str) -> tuple[Weights, str | None]:
    """``weights`` and ``variant``: models only, ``variant`` only where it selects."""
    text = _optional_str(table, "weights", ctx)
    variant = _optional_str(table, "variant", ctx)
    if repo_type != "model" and (text is not None or variant is not None):
        key = "weights" if text is not None else "variant"
        raise ManifestError(
            f"{ctx} {key}: only models choose weights; a {repo_type} takes its files as "
            "include/exclude say",
            hint=f"remove '{key}'",
        )
    try:
        weights = Weights.parse(text) if text is not None else AUTO
    except ValueError as exc:
        raise ManifestError(
            f"{ctx} weights: {exc}",
            hint='use "auto" (the default), "safetensors", "pytorch", "all" or "gguf:Q4_K_M"',
        ) from None
    if variant is not None:
        if not VARIANT.match(variant):
            raise ManifestError(
                f"{ctx} variant: {variant!r} is not a variant name", hint='e.g. variant = "fp16"'
            )
        if weights.kind in ("all", "gguf"):
            raise ManifestError(
                f"{ctx} variant: weights = {str(weights)!r} takes no variant",
                hint="remove 'variant', or use weights = \"auto\"",
            )
    return weights, variant


def _patterns(table: Mapping[str, Any], key: str, ctx: str) -> tuple[str, ...] | None:
    value = table.get(key)
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ManifestError(
            f"{ctx} {key}: expected a list of glob patterns (strings), got {_type_name(value)}"
        )
    if not items:
        raise ManifestError(
            f"{ctx} {key}: the list is empty",
            hint=f"remove '{key}' to {'select' if key == 'include' else 'exclude'} "
            f"{'every file' if key == 'include' else 'nothing'}",
        )
    if any(not item.strip() for item in items):
        raise ManifestError(f"{ctx} {key}: a pattern is empty")
    return tuple(items)


def _check_relative(value: str, ctx: str) -> str:
    """Normalise a project-relative folder and refuse anything that escapes the project."""
    if "\\" in value or "\x00" in value:
        raise ManifestError(f"{ctx}: {value!r} must use '/' as separator")
    pure = PurePosixPath(value)
    if pure.is_absolute() or value.startswith("~"):
        raise ManifestError(
            f"{ctx}: {value!r} is absolute; it must be a folder inside the project",
            hint='write a path relative to models.toml, e.g. "models/bert"',
        )
    parts = [part for part in pure.parts if part != "."]
    if not parts or ".." in parts:
        raise ManifestError(
            f"{ctx}: {value!r} points outside the project",
            hint="write a path relative to models.toml without '..'",
        )
    if any(part.lower() in _TOOL_FOLDERS for part in parts):
        raise ManifestError(
            f"{ctx}: {value!r} is inside a .git or .modelpm folder, which belong to git and "
            "to modelpm",
            hint='choose a folder of its own, e.g. "models/bert"',
        )
    return "/".join(parts)


def _check_destinations(models: tuple[ModelSpec, ...], where: str) -> None:
    seen: dict[str, str] = {}
    for spec in models:
        for other_dest, other_name in seen.items():
            if spec.dest == other_dest:
                raise ManifestError(
                    f"{where}: models {other_name!r} and {spec.name!r} have the same dest "
                    f"{spec.dest!r}",
                    hint="give each model its own folder",
                )
            inner, outer = sorted((spec.dest, other_dest), key=len, reverse=True)
            if inner.startswith(outer + "/"):
                raise ManifestError(
                    f"{where}: the dest of {other_name!r} and {spec.name!r} are nested "
                    f"({outer!r} contains {inner!r})",
                    hint="give each model its own folder, side by side",
                )
        seen[spec.dest] = spec.name


def _table(data: Mapping[str, Any], key: str, ctx: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ManifestError(f"{ctx}: '{key}' must be a table, got {_type_name(value)}")
    return value


def _optional_str(table: Mapping[str, Any], key: str, ctx: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise ManifestError(f"{ctx} {key}: expected a string, got {_type_name(value)}")
    return value


def _optional_bool(table: Mapping[str, Any], key: str, ctx: str) -> bool | None:
    value = table.get(key)
    if value is not None and not isinstance(value, bool):
        raise ManifestError(f"{ctx} {key}: expected true or false, got {_type_name(value)}")
    return value


def _reject_unknown(table: Mapping[str, Any], allowed: tuple[str, ...], ctx: str) -> None:
    for key in table:
        if key not in allowed:
            raise ManifestError(
                f"{ctx}: unknown key {key!r}", hint=f"allowed keys: {', '.join(allowed)}"
            )


def _type_name(value: object) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        list: "a list",
        dict: "a table",
    }
    return names.get(type(value), type(value).__name__)
