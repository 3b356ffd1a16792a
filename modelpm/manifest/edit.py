"""Edits of ``models.toml`` that keep every byte the user wrote outside the edit.

``add`` appends one ``[models.<name>]`` table at the end; ``publish --pin``
appends one too, or sets the keys of an existing one in place (tomlkit keeps
every other byte); ``remove`` cuts the lines of one table (its header, its
keys, and the comment block glued right above its header) and nothing else,
so comments that introduce the next table stay with it. Values are rendered
by tomlkit, so quoting is always valid TOML. Each edit is checked by parsing
the result with the strict manifest parser before the file is replaced
atomically.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping, Sequence
from pathlib import Path

from modelpm import tomlcompat
from modelpm.errors import ManifestError
from modelpm.fs.atomic import atomic_write_text
from modelpm.manifest.model import Manifest
from modelpm.manifest.parse import parse_manifest
from modelpm.values import DEFAULT_REVISIONS, DEFAULT_SOURCE, SourceKind

TEMPLATE = """\
# models.toml: the models this project depends on.
# `modelpm add <org>/<repo>` appends a model; `modelpm sync` downloads and verifies them.
# Reference: https://github.com/modelpm/modelpm#the-manifest-modelstoml

[settings]
# Where models go when a model has no `dest` (relative to this file).
dest-root = "models"
# The hub; $HF_ENDPOINT wins over this line when set.
# endpoint = "https://huggingface.co"
# Where models without `source` come from: "hf" (default) or "modelscope".
# source = "hf"

# One table per model; the key is the model's local name. For example:
#
# [models.bert]
# repo = "google-bert/bert-base-uncased"
# revision = "main"                  # branch, tag or 40-hex commit
# weights = "auto"                  # auto | safetensors | pytorch | all | "gguf:Q4_K_M"
# include = ["*.json", "*.txt", "*.safetensors"]   # applied on top of `weights`
# exclude = ["*.h5", "*.msgpack"]
# dest = "models/bert"               # default: <dest-root>/<name>
# mirrors = ["modelscope:tiansz/bert-base-uncased"]   # other repos with the same files
#
# [models.qwen]
# source = "modelscope"              # revision defaults to "master" there
# repo = "Qwen/Qwen2.5-0.5B-Instruct"
"""

_HEADER = re.compile(r"^\s*\[\s*(?P<key>[^\[\]]+?)\s*\]\s*(#.*)?$")
_ARRAY_HEADER = re.compile(r"^\s*\[\[")


def init_manifest(path: Path) -> None:
    if path.exists():
        raise ManifestError(f"{path} already exists", hint="edit it, or use `modelpm add <repo>`")
    atomic_write_text(path, TEMPLATE)


def render_table(
    name: str,
    repo: str,
    *,
    revision: str | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    dest: str | None = None,
    repo_type: str = "model",
    weights: str | None = None,
    variant: str | None = None,
    source: SourceKind = DEFAULT_SOURCE,
    default_source: SourceKind = DEFAULT_SOURCE,
) -> str:
    """The TOML text of one ``[models.<name>]`` table, keys in the documented order;
    ``source`` is written when it is not the project's ``default_source``."""
    import tomlkit  # only `add` renders; the no-op path never loads it

    table = tomlkit.table()
    if source != default_source:
        table.add("source", source)
    table.add("repo", repo)
    if repo_type != "model":
        table.add("repo-type", repo_type)
    if revision and revision != DEFAULT_REVISIONS[source]:
        table.add("revision", revision)
    if include:
        table.add("include", list(include))
    if exclude:
        table.add("exclude", list(exclude))
    if weights:
        table.add("weights", weights)
    if variant:
        table.add("variant", variant)
    if dest:
        table.add("dest", dest)
    document = tomlkit.document()
    models = tomlkit.table(is_super_table=True)
    models.add(name, table)
    document.add("models", models)
    return tomlkit.dumps(document)


def add_model(manifest: Manifest, text: str, table: str) -> tuple[str, Manifest]:
    """Append ``table`` to ``text``; return the new text and its parsed manifest."""
    new_text = text
    if new_text and not new_text.endswith("\n"):
        new_text += "\n"
    if new_text.strip():
        new_text += "\n"
    new_text += table
    return new_text, parse_manifest(new_text, manifest.path)


def remove_model(manifest: Manifest, text: str, name: str) -> tuple[str, Manifest]:
    """Cut the ``[models.<name>]`` table out of ``text``."""
    manifest.model(name)  # raises for an unknown name
    lines = text.splitlines(keepends=True)
    headers = [
        (index, _header_path(line))
        for index, line in enumerate(lines)
        if _HEADER.match(line) or _ARRAY_HEADER.match(line)
    ]
    own = [
        position
        for position, (_index, path) in enumerate(headers)
        if path is not None and path[:2] == ("models", name)
    ]
    if not own:
        raise ManifestError(
            f"{manifest.path.name}: model {name!r} is not written as a [models.{name}] table",
            hint=f"remove its entry from {manifest.path.name} by hand",
        )
    cut: set[int] = set()
    for position in own:
        start = headers[position][0]
        end = headers[position + 1][0] if position + 1 < len(headers) else len(lines)
        # The table ends at its last key line; blank and comment lines after it introduce
        # what follows (the next table, a section), so they stay.
        while end - 1 > start and _is_blank_or_comment(lines[end - 1]):
            end -= 1
        # Comment lines glued to this header describe this table: cut them, unless they
        # open the file (then they describe the file).
        above = start
        while above > 0 and lines[above - 1].lstrip().startswith("#"):
            above -= 1
        if above > 0:
            start = above
        # One blank line separated the table from its neighbours; keep only one, and none
        # at the very top of the file.
        if (
            start > 0
            and not lines[start - 1].strip()
            and (end == len(lines) or not lines[end].strip())
        ):
            start -= 1
        while start == 0 and end < len(lines) and not lines[end].strip():
            end += 1
        cut.update(range(start, end))
    new_text = "".join(line for index, line in enumerate(lines) if index not in cut)
    new_manifest = parse_manifest(new_text, manifest.path)
    if any(spec.name == name for spec in new_manifest.models):
        raise ManifestError(f"{manifest.path.name}: could not remove {name!r} cleanly")
    return new_text, new_manifest


def _is_blank_or_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _header_path(line: str) -> tuple[str, ...] | None:
    """The key path of a ``[table]`` header line, quoting rules included."""
    try:
        node: object = tomlcompat.loads(line.strip() + "\n")
    except tomlcompat.TOMLDecodeError:
        return None
    path: list[str] = []
    while isinstance(node, dict) and len(node) == 1:
        key, node = next(iter(node.items()))
        path.append(key)
    return tuple(path)


def write_manifest(path: Path, text: str) -> None:
    atomic_write_text(path, text)


# -- publish --pin: add the table, or update the keys that say what was published ----------


def pin_model(
    manifest: Manifest,
    text: str,
    name: str,
    *,
    repo: str,
    repo_type: str,
    revision: str,
    include: Sequence[str],
    exclude: Sequence[str],
) -> tuple[str, Manifest]:
    """``[models.<name>]`` naming exactly this repo, revision and selection.

    A new name gets a new table at the end (as ``add``). An existing table keeps its
    place, its comments and every other key (``dest`` first of all); ``repo``,
    ``repo-type``, ``revision``, ``include`` and ``exclude`` are set, or removed where
    the publish used the default (a ``revision = "main"`` already written stays).
    """
    if not any(spec.name == name for spec in manifest.models):
        table = render_table(
            name,
            repo,
            revision=revision,
            include=include,
            exclude=exclude,
            repo_type=repo_type,
            source="hf",
            default_source=manifest.settings.source,
        )
        return add_model(manifest, text, table)
    import tomlkit  # only edits load it

    document = tomlkit.parse(text)
    models = document.get("models")
    entry = models.get(name) if isinstance(models, MutableMapping) else None
    if not isinstance(entry, MutableMapping):
        raise ManifestError(
            f"{manifest.path.name}: model {name!r} is not written as a [models.{name}] table",
            hint=f"edit [models.{name}] by hand, or pin under another name",
        )
    keep_revision = revision != DEFAULT_REVISIONS["hf"] or "revision" in entry
    wanted: dict[str, object] = {
        "repo": repo,
        "repo-type": repo_type if repo_type != "model" else None,
        "revision": revision if keep_revision else None,
        "include": list(include) or None,
        "exclude": list(exclude) or None,
    }
    if "source" in entry or manifest.settings.source != "hf":  # publishing is to the Hub
        wanted["source"] = "hf"
    for key, value in wanted.items():
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    new_text = tomlkit.dumps(document)
    return new_text, parse_manifest(new_text, manifest.path)
