"""The strict reader of ``models.lock``, every format version up to the current one.

Compatibility rules:

- version 1: no ``source`` field; every model is read as ``source = "hf"``;
- version 2: ``source`` is required on every model;
- a newer version is refused with a hint to upgrade modelpm; anything else
  malformed is a :class:`~modelpm.errors.LockfileError` naming the model and field.

A lock read in an older format keeps that ``version``; it is rewritten in the
current format only when its content changes (:mod:`modelpm.lockfile.io`).
"""

from __future__ import annotations

from typing import Any

from modelpm import tomlcompat
from modelpm.errors import LockfileError
from modelpm.lockfile.lines import FileLine, file_tables, lift_file_lines
from modelpm.lockfile.model import LOCK_VERSION, Lock, LockedFile, LockedModel
from modelpm.paths import (
    MAX_FILE_SIZE,
    TreeError,
    check_repo_path,
    check_repo_paths,
    check_size,
    check_tree,
    is_repo_id,
)
from modelpm.values import (
    DEFAULT_SOURCE,
    HASH_LENGTHS,
    REPO_TYPES,
    SOURCE_KINDS,
    Digest,
    is_commit,
    is_repo_type,
    is_source_kind,
)

_HINT = "restore it from version control, or delete it and run `modelpm lock` (re-resolves)"
_FIELDS_V1 = ("name", "repo", "repo-type", "revision", "commit", "fingerprint", "files")
_FIELDS = {1: _FIELDS_V1, 2: ("name", "source", *_FIELDS_V1[1:])}
# Keyed by any text, so a looked-up algorithm need not be one yet.
_DIGEST_LENGTHS: dict[str, int] = {name: length for name, length in HASH_LENGTHS.items()}


def parse_lock(text: str, where: str = "models.lock") -> Lock:
    """Parse and validate lock text; every defect is a :class:`LockfileError`."""
    try:
        data, lifted = lift_file_lines(text)
    except tomlcompat.TOMLDecodeError as exc:
        raise LockfileError(f"{where}: invalid TOML: {exc}", hint=_HINT) from None
    return parse_lock_data(data, lifted, where)


def parse_lock_data(
    data: dict[str, Any], lifted: dict[str, list[FileLine]], where: str = "models.lock"
) -> Lock:
    """The lock in ``data`` as :func:`~modelpm.lockfile.lines.lift_file_lines` read it (or
    as ``tomllib`` did, with nothing ``lifted``): the same lock, or the same error, either way."""
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise LockfileError(f"{where}: missing or invalid 'version'", hint=_HINT)
    if version > LOCK_VERSION:
        raise LockfileError(
            f"{where}: format version {version} is newer than this modelpm understands "
            f"(up to {LOCK_VERSION})",
            hint="upgrade modelpm (pip install -U modelpm)",
        )
    if version < 1:
        raise LockfileError(f"{where}: invalid version {version}", hint=_HINT)
    unknown = set(data) - {"version", "model"}
    if unknown:
        raise LockfileError(f"{where}: unknown key {sorted(unknown)[0]!r}", hint=_HINT)
    raw_models = data.get("model", [])
    if not isinstance(raw_models, list):
        raise LockfileError(f"{where}: 'model' must be an array of tables", hint=_HINT)
    models: list[LockedModel] = []
    names: set[str] = set()
    for index, raw in enumerate(raw_models):
        model = _parse_model(raw, version, f"{where}: model #{index + 1}", lifted)
        if model.name in names:
            raise LockfileError(f"{where}: model {model.name!r} appears twice", hint=_HINT)
        names.add(model.name)
        models.append(model)
    return Lock(models=tuple(models), version=version)


def _parse_model(
    raw: Any, version: int, ctx: str, lifted: dict[str, list[FileLine]]
) -> LockedModel:
    if not isinstance(raw, dict):
        raise LockfileError(f"{ctx}: must be a table", hint=_HINT)
    fields = _FIELDS[version]
    for key in fields:
        if key not in raw:
            raise LockfileError(f"{ctx}: missing field {key!r}", hint=_HINT)
    unknown = set(raw) - set(fields)
    if unknown:
        raise LockfileError(f"{ctx}: unknown field {sorted(unknown)[0]!r}", hint=_HINT)
    strings = {key: raw[key] for key in fields if key != "files"}
    for key, value in strings.items():
        if not isinstance(value, str) or not value:
            raise LockfileError(f"{ctx}: field {key!r} must be a non-empty string", hint=_HINT)
    ctx = f"{ctx} ({strings['name']})"
    source = strings.get("source", DEFAULT_SOURCE)
    if not is_source_kind(source):
        raise LockfileError(f"{ctx}: 'source' must be one of {', '.join(SOURCE_KINDS)}", hint=_HINT)
    if not is_repo_id(strings["repo"]):
        raise LockfileError(f"{ctx}: 'repo' {strings['repo']!r} is not a repo id", hint=_HINT)
    repo_type = strings["repo-type"]
    if not is_repo_type(repo_type):
        raise LockfileError(
            f"{ctx}: 'repo-type' must be one of {', '.join(REPO_TYPES)}", hint=_HINT
        )
    commit = strings["commit"]
    if not is_commit(commit):
        raise LockfileError(f"{ctx}: 'commit' must be 40 lowercase hex digits", hint=_HINT)
    raw_files = raw["files"]
    if isinstance(raw_files, str) and raw_files in lifted:
        files = _rendered_files(lifted[raw_files], ctx)
    elif isinstance(raw_files, list):
        files = [_parse_file(item, ctx) for item in raw_files]
    else:
        raise LockfileError(f"{ctx}: 'files' must be an array", hint=_HINT)
    try:
        check_tree(item.path for item in files)
    except TreeError as exc:
        raise LockfileError(f"{ctx}: file {exc.path!r} is listed {exc.how}", hint=_HINT) from None
    return LockedModel(
        name=strings["name"],
        source=source,
        repo=strings["repo"],
        repo_type=repo_type,
        revision=strings["revision"],
        commit=commit,
        fingerprint=strings["fingerprint"],
        files=tuple(files),
    )


def _rendered_files(lines: list[FileLine], ctx: str) -> list[LockedFile]:
    """The files of an array in the rendered shape, built straight from its lines.

    The line reader has checked the shape (a plain string, decimal digits, a lowercase hex
    digest), so each line is left only its size's bound and its digest's length to check,
    and the paths are checked all at once. An array with any line out of bounds is read
    the careful way instead, so it fails exactly as it would have."""
    if not lines:
        return []
    # Column by column, each a loop in C: this is most of reading a 50,000-file lock.
    paths, size_texts, algorithms, hexdigests = zip(*lines, strict=True)
    sizes = list(map(int, size_texts))
    if max(sizes) > MAX_FILE_SIZE or list(map(len, hexdigests)) != list(
        map(_DIGEST_LENGTHS.__getitem__, algorithms)
    ):
        return [_parse_file(item, ctx) for item in file_tables(lines)]
    try:
        check_repo_paths(paths)
    except ValueError as exc:
        raise LockfileError(f"{ctx}: {exc}", hint=_HINT) from None
    return list(map(LockedFile, paths, sizes, map(Digest.unchecked, algorithms, hexdigests)))


def _parse_file(raw: Any, ctx: str) -> LockedFile:
    if not isinstance(raw, dict):
        raise LockfileError(f"{ctx}: each file must be an inline table", hint=_HINT)
    path, size = raw.get("path"), raw.get("size")
    if not isinstance(path, str) or not path:
        raise LockfileError(f"{ctx}: a file has no 'path'", hint=_HINT)
    try:
        size = check_size(size, path)
    except ValueError:
        raise LockfileError(f"{ctx}: file {path!r} has an invalid 'size'", hint=_HINT) from None
    # Exactly path, size and one digest: three keys, one of them an algorithm (no set is
    # built per file: a lock has 50,000 of these).
    algorithm = (
        next((name for name in HASH_LENGTHS if name in raw), None) if len(raw) == 3 else None
    )
    if algorithm is None:
        raise LockfileError(
            f"{ctx}: file {path!r} must have exactly one of 'sha256' or 'git-sha1'", hint=_HINT
        )
    try:
        digest = Digest(algorithm, raw[algorithm])
    except (ValueError, TypeError) as exc:
        raise LockfileError(f"{ctx}: file {path!r}: {exc}", hint=_HINT) from None
    try:
        check_repo_path(path)
    except ValueError as exc:
        raise LockfileError(f"{ctx}: {exc}", hint=_HINT) from None
    return LockedFile(path=path, size=size, digest=digest)
