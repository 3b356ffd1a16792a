"""Benchmark: a simulated cluster whose nodes share a remote store, on one machine.

    python benchmarks/bench_cluster.py            # 8 nodes, the 1.35 GB repo of bench_sync.py
    python benchmarks/bench_cluster.py --quick    # 3 nodes, a small repo: checks the script

Each node is its own process with its own store and project folder (the same
models.toml and models.lock, as a cluster's nodes have from git). The hub is
modelpm's test hub in its own process; the bucket is a real SeaweedFS
(``weed``, from the test extras) on 127.0.0.1. Scenarios, in one run: every
node from the hub (no remote store: the baseline); a cold bucket that one node
fills (``sync --push``) before the others sync; a cold bucket that every node
pushes to at once; a warm bucket; then the hub throttled to 50 MB/s per
connection (and, to show a hub that is the bottleneck, 1 MB/s), from the hub
and from the bucket; and ``store push`` of the whole repo. Prints one Markdown
table. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench_sync import REPO, THROTTLE, build_repo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from s3server import ADMIN, REGION, SeaweedS3

from modelpm.testing import Fault, RemoteTestHub


@dataclass
class Wave:
    """Nodes started together: each one's wall time, the whole wave's, the hub's bytes."""

    seconds: list[float]
    wall: float
    hub_bytes: int


class Cluster:
    def __init__(self, work: Path, endpoint: str, hub: RemoteTestHub, s3: SeaweedS3) -> None:
        self.work = work
        self.hub = hub
        self.s3 = s3
        self.buckets = 0
        self.env = {
            **os.environ,
            "HF_ENDPOINT": endpoint,
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "AWS_ENDPOINT_URL": s3.endpoint,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": ADMIN.access_key_id,
            "AWS_SECRET_ACCESS_KEY": ADMIN.secret_access_key,
        }
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)  # run from compiled bytecode
        template = self.fresh("template")
        (template / "models.toml").write_text(f'[models.bench]\nrepo = "{REPO}"\n')
        subprocess.run(
            [sys.executable, "-m", "modelpm", "lock", "--quiet"],
            cwd=template,
            env={**self.env, "MODELPM_HOME": str(self.work / "template-store")},
            check=True,
        )
        self.template = template

    def fresh(self, name: str) -> Path:
        path = self.work / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def new_bucket(self) -> str:
        self.buckets += 1
        name = f"cluster-{os.getpid()}-{self.buckets}"
        self.s3.create_bucket(name)
        return f"s3://{name}/modelpm"

    def node(self, index: int) -> tuple[Path, Path]:
        """A node's fresh project (models.toml and models.lock) and empty store."""
        project = self.fresh(f"node-{index}/project")
        for name in ("models.toml", "models.lock"):
            shutil.copy(self.template / name, project / name)
        return project, self.fresh(f"node-{index}/store")

    def wave(self, nodes: range, remote: str | None, *args: str) -> Wave:
        """``modelpm ARGS`` on each node at once (fresh stores); wait for all."""
        self.hub.reset_stats()
        seconds = [0.0] * len(nodes)
        failures: list[str] = []
        prepared = [self.node(index) for index in nodes]

        def one(slot: int, project: Path, store: Path) -> None:
            env = {**self.env, "MODELPM_HOME": str(store)}
            if remote is not None:
                env["MODELPM_REMOTE"] = remote
            began = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "modelpm", *args, "--quiet"],
                cwd=project,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            seconds[slot] = time.perf_counter() - began
            if done.returncode != 0 or done.stderr.strip():
                failures.append(f"node {slot}: exit {done.returncode}: {done.stderr.strip()}")

        began = time.perf_counter()
        threads = [
            threading.Thread(target=one, args=(slot, project, store))
            for slot, (project, store) in enumerate(prepared)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - began
        if failures:
            raise SystemExit("\n".join(failures))
        return Wave(seconds, wall, int(self.hub.stats()["bytes_sent"]))


def per_node(waves: list[Wave]) -> str:
    times = [second for wave in waves for second in wave.seconds]
    return f"{statistics.median(times):.1f} s (max {max(times):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=8)
    parser.add_argument("--work", type=Path, default=Path("bench-work"))
    parser.add_argument("--quick", action="store_true", help="small repo, 3 nodes")
    parser.add_argument(
        "--slow-rate",
        type=float,
        default=1.0,
        help="MB/s per connection of a congested hub, a second throttled case (0: skip)",
    )
    args = parser.parse_args()
    nodes = 3 if args.quick else args.nodes
    work = args.work.resolve()
    repo_folder = work / "repo"
    total = build_repo(repo_folder, args.quick)
    server = subprocess.Popen(
        [sys.executable, "-m", "modelpm.testing", "serve", "--repo", f"{REPO}={repo_folder}"],
        stdout=subprocess.PIPE,
        text=True,
    )
    s3 = SeaweedS3(work / "cluster-s3")
    shutil.rmtree(s3.root, ignore_errors=True)
    s3.start()
    try:
        assert server.stdout is not None
        endpoint = json.loads(server.stdout.readline())["endpoint"]
        hub = RemoteTestHub(endpoint)
        cluster = Cluster(work, endpoint, hub, s3)
        print(f"repo: {total / 1e9:.2f} GB; {nodes} nodes", file=sys.stderr)
        rows: list[tuple[str, str, str, str]] = []

        def row(name: str, waves: list[Wave]) -> None:
            served = sum(wave.hub_bytes for wave in waves)
            wall = sum(wave.wall for wave in waves)
            rows.append(
                (name, f"{served / total:.2f}× the model", per_node(waves), f"{wall:.1f} s")
            )

        everyone = range(nodes)
        row("every node from the hub (no remote store)", [cluster.wave(everyone, None, "sync")])
        bucket = cluster.new_bucket()
        first = cluster.wave(range(1), bucket, "sync", "--push")
        rest = cluster.wave(range(1, nodes), bucket, "sync")
        row("cold bucket: one node syncs and pushes, then the others", [first, rest])
        rows.append(("… of which the other nodes, from the bucket", "", per_node([rest]), ""))
        row(
            "cold bucket: every node syncs and pushes at once",
            [cluster.wave(everyone, cluster.new_bucket(), "sync", "--push")],
        )
        row("warm bucket: every node at once", [cluster.wave(everyone, bucket, "sync")])
        hub.add_fault(Fault("throttle", rate=THROTTLE, times=None))
        row(
            "hub at 50 MB/s per connection: every node from the hub",
            [cluster.wave(everyone, None, "sync")],
        )
        row("hub at 50 MB/s per connection: warm bucket", [cluster.wave(everyone, bucket, "sync")])
        hub.clear_faults()
        if args.slow_rate:
            rate = f"{args.slow_rate:g} MB/s"
            hub.add_fault(Fault("throttle", rate=int(args.slow_rate * 1e6), times=None))
            row(
                f"hub at {rate} per connection: every node from the hub",
                [cluster.wave(everyone, None, "sync")],
            )
            row(
                f"hub at {rate} per connection: warm bucket",
                [cluster.wave(everyone, bucket, "sync")],
            )
            hub.clear_faults()

        # store push of the whole repo from one synced node to an empty bucket.
        empty = cluster.new_bucket()
        cluster.wave(range(1), None, "sync")
        env = {
            **cluster.env,
            "MODELPM_HOME": str(work / "node-0/store"),
            "MODELPM_REMOTE": empty,
        }

        def push() -> float:
            began = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "modelpm", "store", "push", "--quiet"],
                cwd=work / "node-0/project",
                env=env,
                check=True,
            )
            return time.perf_counter() - began

        push_seconds, again = push(), push()
        rows.append(
            (
                "`store push` of the whole repo, empty bucket (again: nothing to upload)",
                "0",
                f"{push_seconds:.1f} s, {total / push_seconds / 1e6:.0f} MB/s "
                f"(again: {again:.2f} s)",
                f"{push_seconds:.1f} s",
            )
        )
        print("| scenario | bytes served by the hub | wall time per node | wall time, all |")
        print("|---|---|---|---|")
        for line in rows:
            print("| " + " | ".join(line) + " |")
    finally:
        s3.stop()
        server.terminate()
        server.wait(timeout=10)
        if server.stdout:
            server.stdout.close()


if __name__ == "__main__":
    main()
