"""Property-based round trips: any lock renders and parses back to itself; any table that
`modelpm add` writes parses back to the same model; a hub listing that repeats a path is refused."""

from __future__ import annotations

import string
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelpm import tomlcompat
from modelpm.errors import HubError, LockfileError
from modelpm.lockfile import Lock, LockedFile, LockedModel, parse_lock, render_lock
from modelpm.lockfile.lines import loads_lock
from modelpm.lockfile.parse import parse_lock_data
from modelpm.manifest import parse_manifest
from modelpm.manifest.edit import render_table
from modelpm.paths import TreeError, check_repo_path, check_repo_paths, check_tree, is_repo_id
from modelpm.sources.hf.listing import remote_files
from modelpm.values import Commit, Digest, RepoRef

hexes = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
part = st.text(
    alphabet=string.ascii_letters + string.digits + " _-.éü+=@", min_size=1, max_size=12
).filter(lambda p: p not in (".", ".."))
repo_paths = st.lists(part, min_size=1, max_size=3).map("/".join)
digests = st.one_of(
    hexes.map(lambda h: Digest("sha256", h)),
    hexes.map(lambda h: Digest("git-sha1", h[:40])),
)


def placeable(chosen: dict[str, tuple[int, Digest]]) -> dict[str, tuple[int, Digest]]:
    """Drop each path that is also a folder of another (such a lock is refused: it could
    never sync)."""
    return {
        path: value
        for path, value in chosen.items()
        if not any(other.startswith(path + "/") for other in chosen)
    }


files: st.SearchStrategy[dict[str, tuple[int, Digest]]] = st.dictionaries(
    repo_paths, st.tuples(st.integers(0, 2**45), digests), max_size=6
).map(placeable)
names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,15}", fullmatch=True)
repo_ids = st.from_regex(
    r"([A-Za-z0-9][A-Za-z0-9_.-]{0,8}[A-Za-z0-9]/)?[A-Za-z0-9][A-Za-z0-9_.-]{0,8}[A-Za-z0-9]",
    fullmatch=True,
).filter(is_repo_id)
free_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=20
)


@st.composite
def locks(draw: st.DrawFn) -> Lock:
    models = []
    for name in draw(st.sets(names, max_size=4)):
        chosen = draw(files)
        models.append(
            LockedModel(
                name=name,
                source="hf",
                repo=draw(repo_ids),
                repo_type=draw(st.sampled_from(["model", "dataset", "space"])),
                revision=draw(free_text),
                commit=Commit(draw(hexes)[:40]),
                fingerprint="sha256:" + draw(hexes)[:32],
                files=tuple(
                    LockedFile(path, size, digest) for path, (size, digest) in chosen.items()
                ),
            )
        )
    return Lock().with_models(models)


@given(locks())
@settings(max_examples=150)
def test_any_lock_round_trips_byte_for_byte(lock: Lock) -> None:
    text = render_lock(lock)
    assert parse_lock(text) == lock
    assert render_lock(parse_lock(text)) == text


def as_version_1(text: str) -> str:
    """What modelpm before lock format 2 wrote for the same pins: no source lines."""
    lines = [line for line in text.splitlines(keepends=True) if line != 'source = "hf"\n']
    return "".join(lines).replace("version = 2\n", "version = 1\n", 1)


@given(locks())
@settings(max_examples=150)
def test_any_version_1_lock_reads_as_the_same_pins_from_hf(lock: Lock) -> None:
    old = parse_lock(as_version_1(render_lock(lock)))
    assert old.version == 1
    assert old.same_content(lock)
    assert render_lock(old) == render_lock(lock)


patterns = st.lists(
    st.text(alphabet=string.ascii_letters + "*?/._-[]", min_size=1, max_size=10).filter(str.strip),
    max_size=3,
)


@given(
    name=names,
    org=st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9_-]{0,8}[A-Za-z0-9])?", fullmatch=True),
    revision=st.one_of(
        st.none(), st.text(alphabet=string.ascii_letters + "/._-", min_size=1, max_size=12)
    ),
    include=patterns,
    exclude=patterns,
    repo_type=st.sampled_from(["model", "dataset", "space"]),
)
def test_tables_written_by_add_parse_back_to_the_same_model(
    name: str,
    org: str,
    revision: str | None,
    include: list[str],
    exclude: list[str],
    repo_type: str,
) -> None:
    repo = f"{org}/model"
    text = render_table(
        name, repo, revision=revision, include=include, exclude=exclude, repo_type=repo_type
    )
    (spec,) = parse_manifest(text, Path("models.toml")).models
    assert (spec.name, spec.repo, spec.repo_type) == (name, repo, repo_type)
    assert spec.revision == (revision or "main")
    assert spec.include == (tuple(include) if include else None)
    assert spec.exclude == tuple(exclude)


def test_a_listing_that_repeats_a_path_is_refused() -> None:
    entry = SimpleNamespace(path="a.json", size=2, blob_id="b" * 40, lfs=None)
    with pytest.raises(HubError, match=r"listed 'a\.json' twice"):
        remote_files([entry, entry], RepoRef("acme/x"), "c" * 40, "http://127.0.0.1:9")


def test_sizes_that_disagree_are_refused() -> None:
    lfs = SimpleNamespace(size=10, sha256="a" * 64)
    entry = SimpleNamespace(path="w.bin", size=11, blob_id="b" * 40, lfs=lfs)
    with pytest.raises(HubError, match="two different sizes"):
        remote_files([entry], RepoRef("acme/x"), "c" * 40, "http://127.0.0.1:9")


def plainly_safe(path: str) -> bool:
    """The repo-path rules written out one by one, as the reference for the fast checker."""
    parts = path.split("/")
    return (
        bool(path)
        and not any(ord(char) < 32 or ord(char) == 127 for char in path)
        and "\\" not in path
        and not path.startswith("/")
        and not (len(path) > 1 and path[1] == ":")
        and not any(part in ("", ".", "..") for part in parts)
        and not any(part.lower() == ".git" for part in parts)
        and len(path.encode()) <= 4096
        and all(len(part.encode()) <= 255 for part in parts)
    )


PATH_PIECES = st.sampled_from(["a", "b.json", ".", "..", "", ".git", ".GIT", ".gitx", "é" * 130])
path_texts = st.one_of(
    st.lists(PATH_PIECES, min_size=1, max_size=6).map("/".join),
    st.text(alphabet=string.printable + "\x00\x7fé/", max_size=40),
)


@settings(max_examples=500, deadline=None)
@given(path_texts)
def test_the_path_checker_accepts_exactly_what_the_rules_allow(path: str) -> None:
    try:
        check_repo_path(path)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == plainly_safe(path), path


def both_readings(text: str) -> tuple[object, object]:
    """What tomllib and the lock's line reader make of ``text`` (an error's class, if any)."""
    readings: list[object] = []
    for reader in (tomlcompat.loads, loads_lock):
        try:
            readings.append(reader(text))
        except tomlcompat.TOMLDecodeError:
            readings.append(tomlcompat.TOMLDecodeError)
    return readings[0], readings[1]


@given(locks())
@settings(max_examples=150)
def test_the_line_reader_reads_any_rendered_lock_as_tomllib_does(lock: Lock) -> None:
    official, ours = both_readings(render_lock(lock))
    assert ours == official


# Lines a hand edit might leave among the rendered ones: each must read as TOML reads it.
ODD_LINES = [
    '  { path = "a\\u0062", size = 1, sha256 = "' + "a" * 64 + '" },',
    '  { path = "x", size = 1_000, git-sha1 = "' + "b" * 40 + '" },',
    '  { path = "x", size = 1, sha256 = "' + "A" * 64 + '" }, # note',
    '  { path = "tab\tin", size = 1, sha256 = "' + "a" * 64 + '" },',
    "  # a comment",
    "",
    "]",
    "files = [",
    "[[model]]",
    'files = "modelpm-lifted-0"',
    '"""',
    "  { path = 'single', size = 2, sha256 = '" + "c" * 64 + "' },",
]


@given(locks(), st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(ODD_LINES)), max_size=3))
@settings(max_examples=300)
def test_the_line_reader_reads_any_edited_lock_as_tomllib_does(
    lock: Lock, edits: list[tuple[int, str]]
) -> None:
    lines = render_lock(lock).split("\n")
    for at, line in edits:
        lines.insert(at % (len(lines) + 1), line)
    official, ours = both_readings("\n".join(lines))
    assert ours == official


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(path_texts, repo_paths), max_size=8))
def test_the_bulk_path_checker_says_what_the_path_checker_says_of_the_first_bad_path(
    paths: list[str],
) -> None:
    expected = None
    for path in paths:
        try:
            check_repo_path(path)
        except ValueError as exc:
            expected = str(exc)
            break
    try:
        check_repo_paths(paths)
        found = None
    except ValueError as exc:
        found = str(exc)
    assert found == expected


# Lines in the rendered shape whose values a lock must refuse: the fast reader vouches for
# their shape only, and must still fail as the careful reader does.
REFUSED_LINES = [
    '  { path = "../up", size = 1, sha256 = "' + "a" * 64 + '" },',
    '  { path = "a/.git/config", size = 1, sha256 = "' + "a" * 64 + '" },',
    '  { path = "a/.GIT", size = 1, sha256 = "' + "a" * 64 + '" },',
    '  { path = "/etc/passwd", size = 1, git-sha1 = "' + "b" * 40 + '" },',
    '  { path = "c:/x", size = 1, git-sha1 = "' + "b" * 40 + '" },',
    '  { path = "a//b", size = 1, git-sha1 = "' + "b" * 40 + '" },',
    '  { path = "big", size = 999999999999999, sha256 = "' + "a" * 64 + '" },',
    '  { path = "short", size = 1, sha256 = "' + "a" * 40 + '" },',
    '  { path = "long", size = 1, git-sha1 = "' + "b" * 64 + '" },',
    '  { path = "' + "x" * 256 + '", size = 1, sha256 = "' + "a" * 64 + '" },',
    '  { path = "dup", size = 1, sha256 = "' + "a" * 64 + '" },',
    '  { path = "dup", size = 2, sha256 = "' + "a" * 64 + '" },',
    '  { path = "dup/under", size = 2, sha256 = "' + "a" * 64 + '" },',
]


def careful_parse(text: str) -> Lock:
    """The lock as ``tomllib`` and the checks of each file one by one read it."""
    try:
        data = tomlcompat.loads(text)
    except tomlcompat.TOMLDecodeError as exc:
        raise LockfileError(f"models.lock: invalid TOML: {exc}") from None
    return parse_lock_data(data, {})


def outcome(reader: Callable[[str], Lock], text: str) -> object:
    try:
        return reader(text)
    except LockfileError as exc:
        return str(exc)


@given(
    locks(),
    st.lists(
        st.tuples(st.integers(0, 10_000), st.sampled_from(ODD_LINES + REFUSED_LINES)), max_size=3
    ),
)
@settings(max_examples=300)
def test_the_fast_lock_reader_gives_the_careful_readers_lock_or_error(
    lock: Lock, edits: list[tuple[int, str]]
) -> None:
    lines = render_lock(lock).split("\n")
    for at, line in edits:
        lines.insert(at % (len(lines) + 1), line)
    text = "\n".join(lines)
    assert outcome(parse_lock, text) == outcome(careful_parse, text)


def plain_tree_error(paths: list[str]) -> str | None:
    """The tree rule written out: the first path listed twice, else the first (in sorted
    order) that is also a folder of another path."""
    for index, path in enumerate(paths):
        if path in paths[:index]:
            return f"{path!r} twice"
    folders = [path for path in sorted(set(paths)) if any(o.startswith(path + "/") for o in paths)]
    return f"{folders[0]!r} both as a file and as a folder" if folders else None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "b", "a.b"]), min_size=1, max_size=3).map("/".join)))
def test_the_tree_check_refuses_exactly_what_the_rule_refuses(paths: list[str]) -> None:
    try:
        check_tree(paths)
        found = None
    except TreeError as exc:
        found = str(exc)
    assert found == plain_tree_error(paths)
