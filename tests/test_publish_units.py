"""The pure parts of publishing as tables: which files go up, the four-way plan, the check
of the new commit, the manifest edit of ``--pin``, and storing a user's file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from modelpm.errors import IntegrityError
from modelpm.manifest.edit import pin_model
from modelpm.manifest.parse import parse_manifest
from modelpm.sources.base import RemoteFile
from modelpm.store.ingest import store_copy
from modelpm.store.local import Store
from modelpm.upload.local import LocalFile, hash_local, is_ignored, select_files
from modelpm.upload.plan import check_published, plan_publish
from modelpm.values import Digest


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        ("config.json", False),
        ("sub/model.safetensors", False),
        (".gitattributes", False),
        (".git/HEAD", True),
        ("sub/.git/config", True),
        (".cache/huggingface/download/x.metadata", True),
        (".modelpm/state.json", True),
        ("a/__pycache__/m.pyc", True),
        ("nb/.ipynb_checkpoints/x.ipynb", True),
        ("notes.txt~", True),
        (".config.json.swp", True),
        ("sub/.#lock", True),
        ("#draft#", True),
        (".DS_Store", True),
        ("Thumbs.db", True),
        (".modelpm-tmp-0123456789ab-config.json", True),
        ("swp.json", False),
    ],
)
def test_what_is_never_uploaded(path: str, ignored: bool) -> None:
    assert is_ignored(path) is ignored


def test_select_files_skips_the_store_and_links_leading_out(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.json").write_bytes(b"{}")
    (folder / "sub" / "b.bin").write_bytes(b"b")
    (folder / "store" / "objects").mkdir(parents=True)
    (folder / "store" / "objects" / "x").write_bytes(b"x")
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"no")
    (folder / "leak.txt").symlink_to(secret)
    (folder / "alias.json").symlink_to(folder / "a.json")
    chosen = select_files(folder, None, (), skip=[folder / "store"])
    assert [path for path, _ in chosen] == ["a.json", "alias.json", "sub/b.bin"]
    assert [p for p, _ in select_files(folder, ["*.json"], ["alias*"])] == ["a.json"]


def test_hash_local_computes_both_hashes_in_one_pass(tmp_path: Path) -> None:
    data = b"hello\n"
    (tmp_path / "f").write_bytes(data)
    item = hash_local("f", tmp_path / "f")
    assert item.sha256 == Digest("sha256", hashlib.sha256(data).hexdigest())
    # `git hash-object` of "hello\n"
    assert item.git_sha1 == Digest("git-sha1", "ce013625030ba8dba906f756967f9e9ca394464a")


def local(path: str, data: bytes) -> LocalFile:
    git = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
    return LocalFile(
        path,
        Path(path),
        len(data),
        Digest("sha256", hashlib.sha256(data).hexdigest()),
        Digest("git-sha1", git),
    )


def remote(path: str, data: bytes, *, lfs: bool) -> RemoteFile:
    item = local(path, data)
    return RemoteFile(path, len(data), item.sha256 if lfs else item.git_sha1)


REMOTE = [
    remote(".gitattributes", b"*.bin lfs\n", lfs=False),
    remote("config.json", b"{}", lfs=False),
    remote("w.bin", b"weights", lfs=True),
    remote("old.json", b"old", lfs=False),
    remote("docs/readme.md", b"# x", lfs=False),
]


@pytest.mark.parametrize(
    ("files", "delete", "include", "exclude", "expected", "uploads", "deletions"),
    [
        (
            [local("config.json", b"{}"), local("w.bin", b"weights")],
            False,
            None,
            (),
            {"config.json": "unchanged", "w.bin": "unchanged"},
            [],
            [],
        ),
        (
            [local("config.json", b"{ }"), local("w.bin", b"weights2"), local("new.txt", b"n")],
            False,
            None,
            (),
            {"config.json": "changed", "w.bin": "changed", "new.txt": "new"},
            ["config.json", "new.txt", "w.bin"],
            [],
        ),
        (
            [local("config.json", b"{}")],
            True,
            None,
            (),
            {
                "config.json": "unchanged",
                "w.bin": "deleted",
                "old.json": "deleted",
                "docs/readme.md": "deleted",
            },
            [],
            ["docs/readme.md", "old.json", "w.bin"],
        ),
        (
            [local("config.json", b"{}")],
            True,
            ["*.json"],
            (),
            {"config.json": "unchanged", "old.json": "deleted"},
            [],
            ["old.json"],
        ),
        (
            [local("config.json", b"{}")],
            True,
            None,
            ["docs/"],
            {"config.json": "unchanged", "w.bin": "deleted", "old.json": "deleted"},
            [],
            ["old.json", "w.bin"],
        ),
    ],
    ids=[
        "unchanged",
        "changed-and-new",
        "delete-all-but-gitattributes",
        "delete-in-include",
        "delete-not-excluded",
    ],
)
def test_the_four_way_plan(
    files: list[LocalFile],
    delete: bool,
    include: list[str] | None,
    exclude: list[str],
    expected: dict[str, str],
    uploads: list[str],
    deletions: list[str],
) -> None:
    plan = plan_publish(files, REMOTE, delete=delete, include=include, exclude=exclude)
    assert {item.path: item.action for item in plan.files} == expected
    assert [item.path for item in plan.files] == sorted(expected)
    assert [item.path for item in plan.uploads] == uploads
    assert list(plan.deletions) == deletions
    assert plan.is_empty == (not uploads and not deletions)


def test_check_published_names_each_difference() -> None:
    files = [local("config.json", b"{}"), local("w.bin", b"weights"), local("gone.txt", b"g")]
    plan = plan_publish(
        files, REMOTE, delete=True, include=["*.json", "*.bin", "*.txt"], exclude=()
    )
    assert check_published(plan, REMOTE) == [
        "gone.txt is missing",
        "old.json was not deleted",
    ]
    listing = [remote("config.json", b"{}", lfs=False), remote("w.bin", b"weighty", lfs=True)]
    listing.append(remote("gone.txt", b"G", lfs=False))
    gone, weights = check_published(plan, listing)
    assert gone.startswith("gone.txt is git-sha1:")
    assert weights.startswith("w.bin is sha256:")
    listing[1] = remote("w.bin", b"weights!", lfs=True)
    assert check_published(plan, listing)[1] == "w.bin has 8 bytes, not 7"


BASE = """\
# top comment
[models.ft]   # ours
repo = "acme/ft"
revision = "main"          # explicit
include = ["*.json"]
dest = "weights/ft"
"""


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"revision": "main", "include": (), "exclude": ()},
            BASE.replace('include = ["*.json"]\n', ""),
        ),
        (
            {"revision": "v2", "include": ("*.bin",), "exclude": ("x",)},
            BASE.replace('"main"', '"v2"').replace('["*.json"]', '["*.bin"]') + 'exclude = ["x"]\n',
        ),
    ],
)
def test_pin_model_updates_only_its_keys(kwargs: dict[str, object], expected: str) -> None:
    manifest = parse_manifest(BASE, Path("models.toml"))
    text, parsed = pin_model(
        manifest,
        BASE,
        "ft",
        repo="acme/ft",
        repo_type="model",
        **kwargs,  # type: ignore[arg-type]
    )
    assert text == expected
    assert parsed.model("ft").dest == "weights/ft"


def test_pin_model_appends_a_new_table() -> None:
    manifest = parse_manifest(BASE, Path("models.toml"))
    text, parsed = pin_model(
        manifest,
        BASE,
        "data",
        repo="acme/d",
        repo_type="dataset",
        revision="main",
        include=(),
        exclude=(),
    )
    assert text == BASE + '\n[models.data]\nrepo = "acme/d"\nrepo-type = "dataset"\n'
    assert parsed.model("data").repo_type == "dataset"


def test_store_copy_refuses_a_file_changed_since_it_was_hashed(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    source = tmp_path / "w.bin"
    source.write_bytes(b"published")
    digest = Digest("sha256", hashlib.sha256(b"published").hexdigest())
    assert store_copy(store, source, digest, 9) in ("copy", "reflink")
    assert store.has(digest, 9)
    assert store_copy(store, source, digest, 9) == "present"
    source.write_bytes(b"edited!!!")
    other = Digest("sha256", hashlib.sha256(b"something").hexdigest())
    with pytest.raises(IntegrityError, match="changed after it was published"):
        store_copy(store, source, other, 9)
    assert not store.has(other, 9)
    assert not store.partial_path(other).exists()
    assert source.read_bytes() == b"edited!!!"
