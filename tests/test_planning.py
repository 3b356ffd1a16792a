"""Planning, staleness, locking and selection as tables, against the in-memory source.

No HTTP anywhere in this file: the planner is a pure function of the lock, the
recorded state and injected ``stat``/"in the store" answers; staleness is pure;
locking and selection ask an in-memory source, whose call log proves when
nothing was asked at all.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

import modelpm
from modelpm.errors import ManifestError, RevisionNotFoundError
from modelpm.lockfile import Lock
from modelpm.manifest import Manifest, ModelSpec, parse_manifest
from modelpm.plan.planner import plan_sync
from modelpm.plan.tasks import FileTask
from modelpm.project.state import PlacedFile, State
from modelpm.resolve.resolver import lock_project, resolve_model
from modelpm.resolve.staleness import staleness
from modelpm.select.patterns import select
from modelpm.testing.memory import MemorySource
from modelpm.values import Commit, Digest, RepoRef, SourceKind

DIGEST = Digest("git-sha1", "a" * 40)
OTHER = Digest("git-sha1", "b" * 40)
TASK = FileTask(
    "m", "hf", RepoRef("acme/m"), Commit("c" * 40), "w.bin", "models/m/w.bin", 10, DIGEST
)


ON_DISK = os.stat_result((0o100644, 7, 0, 1, 0, 0, 10, 0, 0, 0))
RECORD = PlacedFile(DIGEST, 10, ON_DISK.st_mtime_ns, 7, ON_DISK.st_ctime_ns)


@pytest.mark.parametrize(
    ("on_disk", "record", "in_store", "bucket"),
    [
        # placed by sync and untouched since: nothing to do, not even a hash
        (ON_DISK, RECORD, False, "keep"),
        # the same file, but the state records other bytes: hash it
        (ON_DISK, replace(RECORD, digest=OTHER), False, "check"),
        # touched since it was placed (another inode): hash it before trusting it
        (ON_DISK, replace(RECORD, inode=8), True, "check"),
        # something of the right size that modelpm did not place: hash it
        (ON_DISK, None, False, "check"),
        # nothing there, the store has it: link it
        (None, None, True, "place"),
        # nothing there, the store lacks it: fetch it
        (None, None, False, "fetch"),
        # a file of another size is not the locked file: it is replaced from the store...
        (os.stat_result((0o100644, 7, 0, 1, 0, 0, 3, 0, 0, 0)), None, True, "place"),
        # ...or fetched
        (os.stat_result((0o100644, 7, 0, 1, 0, 0, 3, 0, 0, 0)), RECORD, False, "fetch"),
    ],
)
def test_every_file_lands_in_exactly_one_bucket(
    on_disk: os.stat_result | None, record: PlacedFile | None, in_store: bool, bucket: str
) -> None:
    state = State({TASK.target: record} if record else {})
    plan = plan_sync([TASK], None, state, lambda _t: on_disk, lambda _d, _s: in_store)
    buckets = {name: getattr(plan, name) for name in ("keep", "check", "place", "fetch")}
    assert {name for name, tasks in buckets.items() if tasks} == {bucket}
    assert plan.is_noop == (bucket == "keep")


def test_removal_is_decided_against_every_model_not_only_the_selected() -> None:
    other = replace(TASK, model="n", target="models/n/w.bin")
    state = State({TASK.target: RECORD, other.target: RECORD, "models/gone/x": RECORD})
    plan = plan_sync([TASK, other], ["m"], state, lambda _t: ON_DISK)
    assert plan.keep == (TASK,)
    assert plan.remove == ("models/gone/x",)


MANIFEST = """\
[models.m]
repo = "acme/m"
include = ["*.json", "*.safetensors"]

[models.d]
repo = "acme/d"
repo-type = "dataset"
"""


def manifest(text: str = MANIFEST) -> Manifest:
    return parse_manifest(text, Path("/p/models.toml"))


def hub() -> MemorySource:
    source = MemorySource()
    model = source.create_repo("acme/m")
    model.commit({"config.json": b"{}", "w.safetensors": b"w" * 100, "tf_model.h5": b"t"})
    model.tags["v1"] = model.branches["main"]
    source.create_repo("acme/d", repo_type="dataset").commit({"train.parquet": b"rows"})
    return source


def lookup(source: MemorySource) -> dict[SourceKind, MemorySource]:
    return {"hf": source}


def test_locking_resolves_what_is_new_and_selects_by_pattern() -> None:
    source = hub()
    outcome = lock_project(manifest(), None, lookup(source).__getitem__)
    assert outcome.resolved == ("m", "d") and outcome.kept == ()
    model = outcome.lock.get("m")
    assert model is not None and model.source == "hf"
    assert [item.path for item in model.files] == ["config.json", "w.safetensors"]
    assert model.commit == source.repos[("model", "acme/m")].branches["main"]


def test_an_unchanged_entry_keeps_its_pin_without_a_single_call() -> None:
    source = hub()
    first = lock_project(manifest(), None, lookup(source).__getitem__).lock
    source.repos[("model", "acme/m")].commit({"config.json": b'{"moved": 1}'})
    source.calls.clear()
    reordered = manifest(
        MANIFEST.replace('["*.json", "*.safetensors"]', '["*.safetensors", "*.json"]')
    )
    again = lock_project(reordered, first, lookup(source).__getitem__)
    assert again.kept == ("m", "d") and source.calls == []
    assert again.lock.same_content(first)


@pytest.mark.parametrize(
    ("upgrade", "models", "revision", "resolved"),
    [
        (True, (), "main", ("m", "d")),  # every branch and tag moves
        (False, ("m",), "main", ("m",)),  # only the one asked for
        (True, (), "COMMIT", ("d",)),  # a pinned commit never moves
    ],
)
def test_upgrades_move_only_what_is_asked(
    upgrade: bool, models: tuple[str, ...], revision: str, resolved: tuple[str, ...]
) -> None:
    source = hub()
    commit = source.repos[("model", "acme/m")].branches["main"]
    text = MANIFEST.replace('repo = "acme/m"\n', f'repo = "acme/m"\nrevision = "{revision}"\n')
    text = text.replace("COMMIT", commit)
    first = lock_project(manifest(text), None, lookup(source).__getitem__).lock
    source.repos[("model", "acme/m")].commit({"config.json": b'{"moved": 1}'})
    again = lock_project(
        manifest(text), first, lookup(source).__getitem__, upgrade=upgrade, upgrade_models=models
    )
    assert again.resolved == resolved


def test_upgrading_an_unknown_model_names_it() -> None:
    with pytest.raises(ManifestError, match="no model named 'zzz'"):
        lock_project(manifest(), None, lookup(hub()).__getitem__, upgrade_models=("zzz",))


@pytest.mark.parametrize(
    ("change", "stale"),
    [
        (lambda s: s, ()),
        (lambda s: replace(s, include=("*.safetensors", "*.json")), ()),  # order is no change
        (lambda s: replace(s, dest="elsewhere"), ()),  # where files go is no change
        (lambda s: replace(s, include=("*.json",)), ("m",)),
        (lambda s: replace(s, exclude=("*.h5",)), ("m",)),
        (lambda s: replace(s, revision="v1"), ("m",)),
        (lambda s: replace(s, repo="acme/other"), ("m",)),
        (lambda s: replace(s, repo_type="space"), ("m",)),
    ],
)
def test_staleness_is_judged_on_meaning(change: object, stale: tuple[str, ...]) -> None:
    base = manifest()
    lock = lock_project(base, None, lookup(hub()).__getitem__).lock
    spec = base.model("m")
    edited = replace(base, models=(change(spec), base.model("d")))  # type: ignore[operator]
    result = staleness(edited, lock)
    assert result.changed == stale
    assert result.is_fresh == (not stale)


def test_a_lock_entry_from_another_source_is_stale() -> None:
    base = manifest()
    lock = lock_project(base, None, lookup(hub()).__getitem__).lock
    model = lock.get("m")
    assert model is not None
    elsewhere = replace(model, source="other")  # type: ignore[arg-type]
    assert staleness(base, Lock((*lock.without("m").models, elsewhere))).changed == ("m",)


def test_missing_and_orphaned_entries() -> None:
    base = manifest()
    lock = lock_project(base, None, lookup(hub()).__getitem__).lock
    only_m = replace(base, models=(base.model("m"),))
    assert staleness(only_m, lock).orphaned == ("d",)
    assert staleness(base, lock.without("d")).missing == ("d",)


@pytest.mark.parametrize(
    ("include", "exclude", "expected"),
    [
        (None, (), ["config.json", "tf_model.h5", "w.safetensors"]),
        (("*.json",), (), ["config.json"]),
        (None, ("*.h5",), ["config.json", "w.safetensors"]),
        (("*",), ("*.json", "*.h5"), ["w.safetensors"]),
    ],
)
def test_selection_applies_include_then_exclude(
    include: tuple[str, ...] | None, exclude: tuple[str, ...], expected: list[str]
) -> None:
    spec = ModelSpec("m", "acme/m", include=include, exclude=exclude, dest="models/m")
    model = resolve_model(spec, hub())
    assert [item.path for item in model.files] == expected
    assert select(expected, include, exclude) == expected


def test_patterns_that_select_nothing_say_what_the_repo_has() -> None:
    spec = ModelSpec("m", "acme/m", include=("*.gguf",), dest="models/m")
    with pytest.raises(ManifestError, match=r"select no file .*the repo has 3 files"):
        resolve_model(spec, hub())


def test_an_unknown_revision_is_a_typed_error_naming_it() -> None:
    spec = ModelSpec("m", "acme/m", revision="nope", dest="models/m")
    with pytest.raises(RevisionNotFoundError, match="'nope'"):
        resolve_model(spec, hub())


def test_the_library_syncs_from_an_injected_source_without_http(tmp_path: Path) -> None:
    source = hub()
    root = tmp_path / "p"
    root.mkdir()
    (root / "models.toml").write_text(MANIFEST, encoding="utf-8")
    options = {"project": root, "store": tmp_path / "store", "sources": lookup(source)}
    result = modelpm.sync(**options, transport=source.transport)  # type: ignore[arg-type]
    assert result.report.downloaded == 3
    assert (root / "models/m/w.safetensors").read_bytes() == b"w" * 100
    source.calls.clear()
    again = modelpm.sync(**options, transport=source.transport)  # type: ignore[arg-type]
    assert again.plan.is_noop and source.calls == []
