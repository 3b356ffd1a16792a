"""Benchmark: how modelpm's costs grow with the number of files and models, side by side.

    python benchmarks/bench_scale.py                      # 1k and 10k files, 200 models
    python benchmarks/bench_scale.py --files 1000,10000,50000 --runs 3
    python benchmarks/bench_scale.py --quick              # checks the script works

For each size, a dataset of that many small files (100 B – 4 KB, in folders of 500) is
served by the test hub in its own process; the cold sync of modelpm and the official
client's ``snapshot_download`` run interleaved as fresh processes, and the figures are
medians. Then modelpm's no-op sync, ``status`` and ``verify`` on the synced project, its
peak RSS, and what the run leaves on disk. Last, ``modelpm lock`` of ``--models`` small
models with ``--latency`` seconds added to every API answer (a hub far away), against
what an official-client script does to pin them (``model_info`` then ``list_repo_tree``
per model, one after another). Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sync import Bench, Run, client_env, interleave, median, print_table, run, serving, spread

from modelpm.testing import Fault, RemoteTestHub

DATASET = "acme/many"


def build_dataset(folder: Path, files: int) -> None:
    """``files`` small files in folders of 500 (kept between runs when complete)."""
    marker = folder / ".complete"
    if marker.exists():
        return
    rng = random.Random(files)
    for index in range(files):
        path = folder / f"part-{index // 500:03d}" / f"row-{index:06d}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(rng.randint(100, 4000)))
    marker.write_text("")


def build_models(folder: Path, count: int) -> list[str]:
    """``count`` tiny model repos (a config and a weights file each); their repo ids."""
    repos = []
    for index in range(count):
        repo = folder / f"m{index:03d}"
        repo.mkdir(parents=True, exist_ok=True)
        (repo / "config.json").write_text(f'{{"index": {index}}}')
        (repo / "model.safetensors").write_bytes(bytes([index % 256]) * 64)
        repos.append(f"acme/m{index:03d}")
    return repos


class Scale(Bench):
    """The dataset's contenders: one project and store, the official client beside."""

    def __init__(self, work: Path, endpoint: str, hub: RemoteTestHub) -> None:
        super().__init__(work, endpoint, hub)
        self.env = {**self.env, "MODELPM_HOME": str(work / "store")}
        self.project = work / "project"

    def modelpm(self, *args: str) -> Run:
        quiet = ["--quiet"] if args[0] == "sync" else []
        command = [sys.executable, "-m", "modelpm", *args, *quiet]
        return run(command, self.env, self.hub, self.project)

    def modelpm_cold(self) -> Run:
        self.fresh("store")
        self.fresh("project")
        (self.project / "models.toml").write_text(
            f'[models.many]\nrepo = "{DATASET}"\nrepo-type = "dataset"\n'
        )
        return self.modelpm("sync")

    def official_cold(self) -> Run:
        target = self.fresh("official")
        code = (
            "from huggingface_hub import snapshot_download\n"
            f"snapshot_download({DATASET!r}, repo_type='dataset', "
            f"local_dir={str(target / 'out')!r}, cache_dir={str(target / 'cache')!r}, "
            f"endpoint={self.endpoint!r})\n"
        )
        return run([sys.executable, "-c", code], self.env, self.hub)

    def left_on_disk(self) -> str:
        state = sum(path.stat().st_size for path in (self.project / ".modelpm").glob("state*"))
        lock = self.project / "models.lock"
        locks = self.work / "store" / "locks"
        lock_files = sum(1 for _ in locks.rglob("*")) if locks.exists() else 0
        return (
            f"state {state / 1e6:.1f} MB, lock {lock.stat().st_size / 1e6:.1f} MB, "
            f"{lock_files} lock files in the store"
        )


# The floor under `verify`: read and hash every file, nothing else, on every core (one
# process per core, each taking every n-th file). Printed beside verify.
HASH_ALL = """
import hashlib, os, sys
from concurrent.futures import ProcessPoolExecutor
def part(args):
    root, index, count = args
    names = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)
    for name in names[index::count]:
        with open(name, "rb") as handle:
            hashlib.file_digest(handle, "sha256")
count = os.cpu_count() or 1
with ProcessPoolExecutor(count) as pool:
    list(pool.map(part, [(sys.argv[1], index, count) for index in range(count)]))
"""


def hash_floor(folder: Path, env: dict[str, str], hub: RemoteTestHub) -> Run:
    return run([sys.executable, "-c", HASH_ALL, str(folder)], env, hub)


def lock_models(
    work: Path, endpoint: str, hub: RemoteTestHub, repos: list[str], runs: int
) -> tuple[list[Run], list[Run]]:
    env = {**client_env(work, endpoint), "MODELPM_HOME": str(work / "lock-store")}
    project = work / "lock-project"
    project.mkdir(exist_ok=True)
    (project / "models.toml").write_text(
        "".join(f'[models.m{index:03d}]\nrepo = "{repo}"\n\n' for index, repo in enumerate(repos))
    )

    def ours() -> Run:
        (project / "models.lock").unlink(missing_ok=True)
        return run([sys.executable, "-m", "modelpm", "lock", "--quiet"], env, hub, project)

    code = (
        "from huggingface_hub import HfApi\n"
        f"api = HfApi(endpoint={endpoint!r})\n"
        f"for repo in {repos!r}:\n"
        "    sha = api.model_info(repo, revision='main').sha\n"
        "    files = list(api.list_repo_tree(repo, revision=sha, recursive=True))\n"
    )
    return interleave(runs, ours, lambda: run([sys.executable, "-c", code], env, hub))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", default="1000,10000", help="dataset sizes, comma-separated")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--models", default="50,200", help="model counts, comma-separated")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per API answer")
    parser.add_argument("--work", type=Path, default=Path("bench-work-scale"))
    parser.add_argument("--quick", action="store_true", help="200 files, 20 models, one run")
    args = parser.parse_args()
    sizes = [200] if args.quick else [int(size) for size in args.files.split(",")]
    model_counts = [20] if args.quick else [int(count) for count in args.models.split(",")]
    work = args.work.resolve()
    rows: list[tuple[str, ...]] = []
    colds: list[tuple[int, float, float]] = []
    for size in sizes:
        folder = work / f"dataset-{size}"
        build_dataset(folder, size)
        with serving("--repo", f"dataset:{DATASET}={folder}") as endpoints:
            hub = RemoteTestHub(endpoints["endpoint"])
            scale = Scale(work, endpoints["endpoint"], hub)
            ours, theirs = interleave(args.runs, scale.modelpm_cold, scale.official_cold)
            colds.append((size, median(ours), median(theirs)))
            noop, status, verify, floor = (
                [scale.modelpm("sync") for _ in range(max(args.runs, 3))],
                [scale.modelpm("status") for _ in range(max(args.runs, 3))],
                [scale.modelpm("verify") for _ in range(args.runs)],
                [
                    hash_floor(scale.project / "models" / "many", scale.env, hub)
                    for _ in range(args.runs)
                ],
            )
            rss = max(r.max_rss_mb for r in ours), max(r.max_rss_mb for r in theirs)
            rows.append(
                (
                    f"{size:,} files",
                    f"{median(ours):.1f} s / {median(theirs):.1f} s",
                    f"{median(ours) / median(theirs):.2f}×",
                    f"{rss[0]:.0f} / {rss[1]:.0f} MB",
                    f"{median(noop):.2f} / {median(status):.2f} / {median(verify):.2f} s",
                    f"{median(floor):.2f} s ({median(verify) / median(floor):.1f}×)",
                    scale.left_on_disk(),
                )
            )
    print_table(
        (
            "dataset",
            "cold sync modelpm / official",
            "ratio",
            "peak RSS modelpm / official",
            "no-op sync / status / verify",
            "read and hash only, all cores (verify's ratio)",
            "left on disk",
        ),
        rows,
    )
    if len(colds) >= 2:
        (small, ours_small, theirs_small), (large, ours_large, theirs_large) = colds[-2], colds[-1]
        growth = math.log(large / small)
        print(
            f"\ngrowth exponent {small:,} → {large:,} files: modelpm "
            f"{math.log(ours_large / ours_small) / growth:.2f}, official "
            f"{math.log(theirs_large / theirs_small) / growth:.2f}"
        )

    lock_rows: list[tuple[str, ...]] = []
    for count in model_counts:
        repos = build_models(work / "models", count)
        specs = [f"{repo}={work / 'models' / repo.split('/')[1]}" for repo in repos]
        with serving(*(arg for spec in specs for arg in ("--repo", spec))) as endpoints:
            hub = RemoteTestHub(endpoints["endpoint"])
            hub.add_fault(Fault("latency", origin="hub", seconds=args.latency, times=None))
            ours_lock, theirs_lock = lock_models(
                work, endpoints["endpoint"], hub, repos, max(args.runs, 3)
            )
        lock_rows.append(
            (
                f"{count} models, {args.latency * 1000:.0f} ms per API answer",
                f"{spread(ours_lock)}, {ours_lock[0].requests} requests",
                f"{spread(theirs_lock)}, {theirs_lock[0].requests} requests",
                f"{median(ours_lock) / median(theirs_lock):.2f}×",
            )
        )
    print()
    print_table(("lock", "modelpm lock", "official client, model by model", "ratio"), lock_rows)


if __name__ == "__main__":
    main()
