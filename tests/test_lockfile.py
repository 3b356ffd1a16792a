"""models.lock: deterministic render, strict parse, golden file."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelpm.errors import LockfileError
from modelpm.lockfile import (
    Lock,
    LockedFile,
    LockedModel,
    parse_lock,
    read_lock,
    render_lock,
    write_lock,
)
from modelpm.values import Commit, Digest

GOLDEN = Path(__file__).parent / "golden"

SHA = "a" * 64
GIT = "b" * 40


def sample_lock() -> Lock:
    return Lock().with_models(
        [
            LockedModel(
                name="zeta",
                source="hf",
                repo="acme/zeta",
                repo_type="dataset",
                revision="v1.0",
                commit=Commit("c" * 40),
                fingerprint="sha256:" + "d" * 32,
                files=(LockedFile("data/train.parquet", 1234, Digest("sha256", SHA)),),
            ),
            LockedModel(
                name="alpha",
                source="hf",
                repo="acme/alpha",
                repo_type="model",
                revision="feature/x",
                commit=Commit("e" * 40),
                fingerprint="sha256:" + "f" * 32,
                files=(
                    LockedFile("z.json", 2, Digest("git-sha1", GIT)),
                    LockedFile('we"ird ü.txt', 0, Digest("git-sha1", GIT)),
                ),
            ),
        ]
    )


def test_render_matches_golden_file() -> None:
    assert render_lock(sample_lock()) == (GOLDEN / "sample.lock").read_text(encoding="utf-8")


def test_a_version_1_lock_reads_as_source_hf() -> None:
    old = parse_lock((GOLDEN / "sample.v1.lock").read_text(encoding="utf-8"))
    assert old.version == 1
    assert all(model.source == "hf" for model in old.models)
    assert old.same_content(sample_lock())
    # Rendering always writes the current format, with the same pins.
    assert render_lock(old) == (GOLDEN / "sample.lock").read_text(encoding="utf-8")


def test_a_lock_that_pins_the_same_is_not_rewritten_whatever_its_format(tmp_path: Path) -> None:
    path = tmp_path / "models.lock"
    v1_text = (GOLDEN / "sample.v1.lock").read_text(encoding="utf-8")
    path.write_text(v1_text, encoding="utf-8")
    on_disk = read_lock(path)
    assert not write_lock(path, sample_lock(), on_disk)
    assert path.read_text(encoding="utf-8") == v1_text
    changed = sample_lock().without("zeta")
    assert write_lock(path, changed, on_disk)
    assert path.read_text(encoding="utf-8").splitlines()[1] == "version = 2"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version = 1\n[[model]]\nsource = 'hf'\n", "unknown field 'source'"),
        ("version = 2\n[[model]]\nname = 'a'\n", "missing field 'source'"),
    ],
)
def test_each_version_has_exactly_its_fields(text: str, expected: str) -> None:
    full = render_lock(sample_lock())
    if text.startswith("version = 1"):
        full = (GOLDEN / "sample.v1.lock").read_text(encoding="utf-8")
        full = full.replace('name = "alpha"\n', 'name = "alpha"\nsource = "hf"\n')
    else:
        full = full.replace('source = "hf"\n', "", 1)
    with pytest.raises(LockfileError, match=expected):
        parse_lock(full)


def test_an_unknown_source_is_refused() -> None:
    text = render_lock(sample_lock()).replace('source = "hf"', 'source = "elsewhere"', 1)
    with pytest.raises(LockfileError, match="'source' must be one of hf"):
        parse_lock(text)


def test_round_trip_is_identity() -> None:
    text = render_lock(sample_lock())
    assert parse_lock(text) == sample_lock()
    assert render_lock(parse_lock(text)) == text


def test_render_is_independent_of_input_order() -> None:
    lock = sample_lock()
    reversed_lock = Lock(models=tuple(reversed(lock.models)))
    assert render_lock(reversed_lock) == render_lock(lock)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda t: t.replace("version = 2", "version = 3"), "newer than this modelpm"),
        (lambda t: t.replace("version = 2", ""), "missing or invalid 'version'"),
        (lambda t: t.replace('commit = "' + "c" * 40, 'commit = "' + "C" * 40), "40 lowercase hex"),
        (lambda t: t.replace('sha256 = "' + SHA, 'sha256 = "' + SHA[:10]), "64 lowercase hex"),
        (lambda t: t.replace('repo-type = "dataset"\n', ""), "missing field 'repo-type'"),
        (lambda t: t.replace("size = 1234", "size = -1"), "invalid 'size'"),
        (lambda t: t.replace('path = "z.json"', 'path = "../z.json"'), "'..' part"),
        (lambda t: t.replace('path = "z.json"', 'path = "/etc/z"'), "is absolute"),
        (lambda t: t.replace('path = "z.json"', 'path = "we\\"ird ü.txt"'), "listed twice"),
        (lambda t: t.replace("git-sha1 = ", "md5 = ", 1), "exactly one of"),
        (lambda t: t + "\n[[model]]\nname = 3\n", "missing field"),
        (lambda t: t[: len(t) // 2], "invalid TOML"),
    ],
)
def test_corrupted_locks_are_refused_with_a_clear_message(mutate: object, expected: str) -> None:
    text = mutate(render_lock(sample_lock()))  # type: ignore[operator]
    with pytest.raises(LockfileError) as caught:
        parse_lock(text)
    assert expected in caught.value.message
    assert caught.value.exit_code == 2


def test_duplicate_model_names_are_refused() -> None:
    text = render_lock(sample_lock())
    block = text[text.index("[[model]]") :]
    with pytest.raises(LockfileError, match="appears twice"):
        parse_lock(text + "\n" + block)
