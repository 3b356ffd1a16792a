"""Small pure modules: patterns, ranges, repo paths, hashing."""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from huggingface_hub.utils._paths import filter_repo_objects
from hypothesis import given
from hypothesis import strategies as st

from modelpm.config import Overrides, build_config
from modelpm.hashing import digest_bytes, hash_file
from modelpm.paths import check_repo_path, join_inside
from modelpm.select.patterns import is_selected, select
from modelpm.store.ledger import BATCH, Ledger
from modelpm.transfer.options import TransferOptions
from modelpm.transfer.ranges import Ranges, chunk_gaps

PATHS = [
    "config.json",
    "model.safetensors",
    "nested/b.json",
    "nested/deep/c.bin",
    "tf_model.h5",
    "flax_model.msgpack",
    ".gitattributes",
    "onnx/model.onnx",
]


@pytest.mark.parametrize(
    ("include", "exclude"),
    [
        (None, []),
        (["*.json"], []),
        (["nested/"], []),
        (["*.json", "*.safetensors"], ["nested/*"]),
        (None, ["*.h5", "*.msgpack"]),
        (["onnx\\*"], []),
        (["*"], ["*/"]),
    ],
)
def test_patterns_match_the_official_client(include: list[str] | None, exclude: list[str]) -> None:
    official = list(filter_repo_objects(PATHS, allow_patterns=include, ignore_patterns=exclude))
    assert select(PATHS, include, exclude) == official


segment = st.text(alphabet="ab.*?/_-[]!", min_size=1, max_size=6)


@given(
    paths=st.lists(st.text(alphabet="ab./_-", min_size=1, max_size=12), max_size=8),
    include=st.none() | st.lists(segment, min_size=1, max_size=3),
    exclude=st.lists(segment, max_size=3),
)
def test_patterns_agree_with_official_filter_on_random_input(
    paths: list[str], include: list[str] | None, exclude: list[str]
) -> None:
    official = list(filter_repo_objects(paths, allow_patterns=include, ignore_patterns=exclude))
    assert [p for p in paths if is_selected(p, include, exclude)] == official


def test_ranges_merge_and_report_gaps() -> None:
    ranges = Ranges(100)
    ranges.add(10, 20)
    ranges.add(30, 40)
    ranges.add(20, 30)
    assert ranges.done == [[10, 40]]
    assert ranges.missing() == [(0, 10), (40, 100)]
    assert ranges.prefix() == 0
    ranges.add(0, 10)
    assert ranges.prefix() == 40
    ranges.add(35, 100)
    assert ranges.complete and ranges.written == 100


@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 200)), max_size=20))
def test_ranges_cover_exactly_what_was_added(intervals: list[tuple[int, int]]) -> None:
    ranges = Ranges(150)
    covered: set[int] = set()
    for start, end in intervals:
        ranges.add(start, end)
        covered.update(range(max(0, start), min(150, end)))
    assert ranges.written == len(covered)
    missing = {i for start, end in ranges.missing() for i in range(start, end)}
    assert missing == set(range(150)) - covered


def test_chunk_gaps_cuts_in_file_order_and_covers_every_gap() -> None:
    pieces = chunk_gaps([(0, 100), (130, 135), (200, 258)], chunk=25, min_segment=10)
    assert pieces == [(0, 25), (25, 50), (50, 75), (75, 100), (130, 135), (200, 225), (225, 258)]
    # the 8-byte remainder of (200, 258) is below min_segment: it stays with its piece


def test_chunk_gaps_never_cuts_below_the_minimum() -> None:
    assert chunk_gaps([(0, 15)], chunk=4, min_segment=10) == [(0, 15)]
    assert chunk_gaps([], chunk=4, min_segment=1) == []


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "../x",
        "a/../b",
        "/etc/passwd",
        "a//b",
        "a\\b",
        "nul\x00",
        "tab\there",
        "C:/x",
        "./a",
        "a/" + "x" * 300,
    ],
)
def test_hostile_repo_paths_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        check_repo_path(bad)


def test_join_inside_stays_inside(tmp_path: Path) -> None:
    assert join_inside(tmp_path, "a/b c.txt") == tmp_path / "a" / "b c.txt"
    with pytest.raises(ValueError):
        join_inside(tmp_path, "../escape")


def test_git_sha1_matches_git(tmp_path: Path) -> None:
    data = b"hello modelpm\n" * 1000
    path = tmp_path / "f.txt"
    path.write_bytes(data)
    expected = subprocess.run(
        ["git", "hash-object", str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert hash_file(path, "git-sha1").hexdigest == expected
    assert digest_bytes("git-sha1", data).hexdigest == expected
    assert hash_file(path, "sha256").hexdigest == hashlib.sha256(data).hexdigest()


def test_progress_without_a_terminal_prints_a_line_now_and_then(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from rich.console import Console

    from modelpm.cli import progress as render
    from modelpm.place.report import SyncReport

    out = io.StringIO()
    reporter = render.ProgressReporter(Console(file=out, force_terminal=False, width=200))
    monkeypatch.setattr(render, "PLAIN_INTERVAL", 0.0)
    reporter.begin(2, 2_000_000)
    reporter.file_started("m/a.bin", 1_000_000)
    reporter.advance("m/a.bin", 1_000_000)
    reporter.file_done("m/a.bin")
    reporter.summary(SyncReport(downloaded=1, downloaded_bytes=1_000_000, linked=1, kept=3))
    lines = out.getvalue().splitlines()
    assert lines[0] == "downloading 2 files, 2.0 MB"
    assert lines[1].startswith(" 50.0%  1.0 MB of 2.0 MB")
    assert lines[-1].startswith("downloaded 1 file (1.0 MB) in ")
    assert lines[-1].endswith("linked 1; 3 already in place")


def test_quiet_progress_prints_nothing() -> None:
    import io

    from rich.console import Console

    from modelpm.cli import progress as render
    from modelpm.place.report import SyncReport

    out = io.StringIO()
    reporter = render.ProgressReporter(Console(file=out, force_terminal=True), quiet=True)
    reporter.begin(1, 10)
    reporter.advance("x", 10)
    reporter.note("retrying")
    reporter.summary(SyncReport(downloaded=1))
    reporter.close()
    assert out.getvalue() == ""


def test_transfer_knobs_come_from_the_environment_unless_a_flag_says() -> None:
    env = {"MODELPM_CONNECTIONS": "2", "MODELPM_STALL_TIMEOUT": "1.5"}
    root = Path("/p")
    assert build_config(None, root, env=env).transfer.connections == 2
    assert build_config(None, root, Overrides(connections=5), env=env).transfer.connections == 5
    assert build_config(None, root, env=env).transfer.stall_timeout == 1.5
    default = TransferOptions().connections
    assert build_config(None, root, env={}).transfer.connections == default


def ledger_rows(path: Path) -> dict[str, int]:
    import sqlite3

    with contextlib.closing(sqlite3.connect(path)) as db:
        return dict(db.execute("SELECT key, ctime_ns FROM vouched"))


def test_the_ledger_writes_its_changes_in_batches_and_shows_them_before(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    ledger = Ledger(path)
    ledger.put("a", 1)
    ledger.put("gone", 2)
    ledger.flush()
    ledger.put("b", 3)
    ledger.forget("gone")
    assert (ledger.get("a"), ledger.get("b"), ledger.get("gone")) == (1, 3, None)
    assert ledger_rows(path) == {"a": 1, "gone": 2}, "the later changes still wait"
    for index in range(BATCH):
        ledger.put(f"k{index}", index)
    assert ledger_rows(path)["k0"] == 0, "a full batch is written without a flush"
    assert "gone" not in ledger_rows(path)
    assert Ledger(path).get("b") == 3


def test_what_the_ledger_holds_at_exit_is_written(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    script = (
        "from pathlib import Path; from modelpm.store.ledger import Ledger; "
        f"Ledger(Path({str(path)!r})).put('k', 7)"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert ledger_rows(path) == {"k": 7}
