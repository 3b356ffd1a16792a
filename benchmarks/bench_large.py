"""Benchmark: one 4 GiB file, modelpm against the official client and the machine's limit.

    python benchmarks/bench_large.py               # 4 GiB, median of 2 interleaved runs
    python benchmarks/bench_large.py --gib 1 --runs 1

Builds a repo of a ``config.json`` and one ``model.safetensors`` of ``--gib`` GiB in a work
folder (kept between runs), serves it with the test hub in its own process, and times the
cold sync of modelpm and the official client's ``snapshot_download`` as fresh processes,
interleaved. The machine's limit is what any client that verifies every byte must spend:
SHA-256 over the bytes on one core plus a process start (:func:`bench_sync.machine_limit`).
Needs about three times the file's size on disk. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sync import REPO, Bench, interleave, machine_limit, median, print_table, serving, spread

from modelpm.testing import RemoteTestHub

MiB = 1024 * 1024


def build_large(folder: Path, size: int) -> None:
    """The repo, written once: 64 MiB of random bytes repeated (hashing cannot tell)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text('{"model_type": "bert"}')
    weights = folder / "model.safetensors"
    if weights.exists() and weights.stat().st_size == size:
        return
    block = os.urandom(64 * MiB)
    with weights.open("wb") as handle:
        left = size
        while left:
            handle.write(block[: min(left, len(block))])
            left -= min(left, len(block))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=4.0)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("bench-work-large"))
    args = parser.parse_args()
    work = args.work.resolve()
    size = int(args.gib * 1024 * MiB)
    build_large(work / "repo", size)
    with serving("--repo", f"{REPO}={work / 'repo'}") as endpoints:
        hub = RemoteTestHub(endpoints["endpoint"])
        bench = Bench(work, endpoints["endpoint"], hub)
        cold, official = interleave(args.runs, bench.modelpm_cold, bench.official)
        hashing, start = machine_limit(work / "repo", bench.env)
    limit = hashing + start
    print_table(
        ("one file", "modelpm", "official client", "ratio", "machine's limit", "modelpm / limit"),
        [
            (
                f"{size / 2**30:.1f} GiB",
                spread(cold),
                spread(official),
                f"{median(cold) / median(official):.2f}×",
                f"{limit:.2f} s (SHA-256 {hashing:.2f} s + start {start:.2f} s)",
                f"{median(cold) / limit:.2f}×",
            )
        ],
    )
    print(f"\npeak RSS of modelpm: {max(run.max_rss_mb for run in cold):.0f} MB")


if __name__ == "__main__":
    main()
