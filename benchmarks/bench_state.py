"""Benchmark: three ways to keep the project state (``.modelpm/state*``), side by side.

    python benchmarks/bench_state.py                # 50,000 files, median of 5
    python benchmarks/bench_state.py --files 1000 --runs 1

The state records, per placed file, its digest, size, mtime, inode and change time
(:mod:`modelpm.project.state`). A sync records files as it places them, and a kill -9
must leave a state that is still true. Three candidates, each in a fresh folder:

- **JSON in one piece** (what modelpm wrote before): the whole state rendered and
  replaced atomically. An incremental record means rewriting all of it, so here it is
  written once, at the end: its best case, and the one a kill -9 loses entirely.
- **JSON lines**: a journal that gets one compact line per record, appended and flushed
  in batches; the reader takes the last line of each file and drops a torn last line; it
  is compacted (rewritten atomically) when at least half its lines are stale.
- **SQLite** (standard library, WAL, ``synchronous=NORMAL``): one row per file, a
  transaction per batch of 64.

Measured: recording every file one batch at a time as a sync would, reading the whole
state back (what planning needs), re-recording one file in a synced project (a later
sync of one model), the bytes on disk, and the Python heap at its peak during each.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

Entry = tuple[str, str, int, int, int, int]  # name, digest, size, mtime, inode, ctime
BATCH = 64


def entries(count: int) -> Iterator[Entry]:
    for index in range(count):
        yield (
            f"data/many/part-{index // 500:03d}/row-{index:06d}.json",
            f"sha256-{index:064x}",
            100 + index % 4000,
            1_790_000_000_000_000_000 + index,
            10_000_000 + index,
            1_790_000_000_000_000_000 + index,
        )


class Format(Protocol):
    def record(self, batch: list[Entry]) -> None: ...
    def close(self) -> None: ...
    def read(self) -> dict[str, Entry]: ...


class OnePiece:
    def __init__(self, folder: Path) -> None:
        self.path = folder / "state.json"
        self.files: dict[str, Entry] = {}

    def record(self, batch: list[Entry]) -> None:
        self.files.update((entry[0], entry) for entry in batch)

    def close(self) -> None:
        payload = {
            name: {"digest": e[1], "size": e[2], "mtime_ns": e[3], "inode": e[4], "ctime_ns": e[5]}
            for name, e in sorted(self.files.items())
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"version": 2, "files": payload}, indent=1, sort_keys=True))
        os.replace(tmp, self.path)

    def read(self) -> dict[str, Entry]:
        data = json.loads(self.path.read_bytes())["files"]
        return {
            name: (name, e["digest"], e["size"], e["mtime_ns"], e["inode"], e["ctime_ns"])
            for name, e in data.items()
        }


class JsonLines:
    def __init__(self, folder: Path) -> None:
        self.path = folder / "state.jsonl"
        self.out = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (kept open on purpose)

    def record(self, batch: list[Entry]) -> None:
        self.out.write("".join(json.dumps(entry, separators=(",", ":")) + "\n" for entry in batch))
        self.out.flush()

    def close(self) -> None:
        self.out.close()

    def read(self) -> dict[str, Entry]:
        text = self.path.read_text(encoding="utf-8")
        whole = text[: text.rfind("\n") + 1]  # a torn last line is dropped
        rows: list[list[object]] = json.loads("[" + whole.replace("\n", ",")[:-1] + "]")
        return {str(row[0]): tuple(row) for row in rows}  # type: ignore[misc]


class Sqlite:
    def __init__(self, folder: Path) -> None:
        self.path = folder / "state.sqlite"
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS files (name TEXT PRIMARY KEY, digest TEXT, size INT,"
            " mtime INT, inode INT, ctime INT) WITHOUT ROWID"
        )

    def record(self, batch: list[Entry]) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?)", batch)

    def close(self) -> None:
        self.db.close()

    def read(self) -> dict[str, Entry]:
        db = sqlite3.connect(self.path)
        try:
            return {row[0]: row for row in db.execute("SELECT * FROM files")}
        finally:
            db.close()


FORMATS: dict[str, Callable[[Path], Format]] = {
    "JSON in one piece": OnePiece,
    "JSON lines": JsonLines,
    "SQLite": Sqlite,
}


def measure(make: Callable[[Path], Format], count: int) -> tuple[float, float, float, int, float]:
    """Seconds to record all, to read all, to re-record one; bytes on disk; peak heap MB
    (from a second pass under tracemalloc, which slows what it watches)."""
    *times, size = _pass(make, count, traced=False)
    peak = _pass(make, count, traced=True)[-1]
    return times[0], times[1], times[2], int(size), peak


def _pass(make: Callable[[Path], Format], count: int, traced: bool) -> tuple[float, ...]:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        if traced:
            tracemalloc.start()
        start = time.perf_counter()
        state = make(folder)
        batch: list[Entry] = []
        for entry in entries(count):
            batch.append(entry)
            if len(batch) == BATCH:
                state.record(batch)
                batch = []
        if batch:
            state.record(batch)
        state.close()
        record_all = time.perf_counter() - start
        start = time.perf_counter()
        found = state.read()
        read_all = time.perf_counter() - start
        assert len(found) == count
        start = time.perf_counter()
        again = make(folder)
        if isinstance(again, OnePiece):
            again.files = found
        again.record([next(entries(1))])
        again.close()
        one = time.perf_counter() - start
        if traced:
            peak = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
            return (peak,)
        size = sum(path.stat().st_size for path in folder.iterdir())
        return record_all, read_all, one, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{args.files:,} files, median of {args.runs} (range)\n")
    print(
        "| format | record all, in batches of 64 | read all | re-record one | on disk | peak heap |"
    )
    print("|---|---|---|---|---|---|")
    for name, make in FORMATS.items():
        runs = [measure(make, args.files) for _ in range(args.runs)]
        cells = []
        for column in range(3):
            values = [run[column] for run in runs]
            cells.append(f"{statistics.median(values):.3f} s ({min(values):.3f}–{max(values):.3f})")
        size = statistics.median(run[3] for run in runs) / 1e6
        peak = statistics.median(run[4] for run in runs)
        print(f"| {name} | {' | '.join(cells)} | {size:.1f} MB | {peak:.1f} MB |")


if __name__ == "__main__":
    main()
