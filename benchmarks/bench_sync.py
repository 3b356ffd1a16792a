"""Benchmark: modelpm against the official client and aria2c, side by side, on loopback.

    python benchmarks/bench_sync.py            # full run, ~1.3 GB repo, median of 3
    python benchmarks/bench_sync.py --quick    # small repo, 1 run: checks the script works

Builds a repo like a real model (a 1 GiB and a 256 MiB .safetensors, a 3 MB
tokenizer.json, 20 small JSON files) in a work folder, serves it with
modelpm's test hub in a separate process (``python -m modelpm.testing serve``),
and runs every contender as a fresh process, each figure the median of
``--runs`` runs. Prints one Markdown table. aria2c is included when it is on
PATH (``apt-get install aria2``). Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelpm.testing import Fault, RemoteTestHub

MiB = 1024 * 1024
REPO = "acme/bench"
THROTTLE = 50_000_000  # bytes per second, per connection


@dataclass
class Run:
    seconds: float
    max_rss_mb: float
    requests: int
    bytes_sent: int


def build_repo(folder: Path, quick: bool) -> int:
    """Write the benchmark repo once (kept between runs); return its total size."""
    sizes = {
        "model-00001-of-00002.safetensors": (16 if quick else 1024) * MiB,
        "model-00002-of-00002.safetensors": (4 if quick else 256) * MiB,
        "tokenizer.json": 3 * 1000 * 1000,
    }
    sizes.update({f"config-{i:02d}.json": 600 + 37 * i for i in range(20)})
    folder.mkdir(parents=True, exist_ok=True)
    # The index that names the shards, as in every sharded repo: without it the loaders
    # (and weights = "auto") would not know the two files are one model.
    index = json.dumps(
        {
            "weight_map": {
                "a.weight": "model-00001-of-00002.safetensors",
                "b.weight": "model-00002-of-00002.safetensors",
            }
        }
    )
    (folder / "model.safetensors.index.json").write_text(index)
    for name, size in sizes.items():
        path = folder / name
        if path.exists() and path.stat().st_size == size:
            continue
        with path.open("wb") as handle:
            left = size
            while left:
                chunk = min(left, 16 * MiB)
                handle.write(os.urandom(chunk))
                left -= chunk
    return sum(sizes.values()) + len(index)


def run(
    command: list[str], env: dict[str, str], hub: RemoteTestHub, cwd: Path | None = None
) -> Run:
    hub.reset_stats()
    began = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - began
    stderr = process.stderr.read().decode() if process.stderr else ""
    if process.stderr:
        process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[:3]} failed:\n{stderr}")
    stats = hub.stats()
    return Run(elapsed, usage.ru_maxrss / 1024, stats["request_count"], stats["bytes_sent"])


def client_env(work: Path, endpoint: str) -> dict[str, str]:
    """The environment every contender runs in: the test hub, no token, caches in ``work``."""
    env = {
        **os.environ,
        "HF_ENDPOINT": endpoint,
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_HOME": str(work / "hf-home"),
    }
    env.pop("HF_TOKEN", None)
    # Both contenders run from compiled bytecode, as an installed package does (pip
    # compiles at install time); a source checkout with this set would recompile
    # modelpm on every run and time the compiler.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


class Bench:
    def __init__(self, work: Path, endpoint: str, hub: RemoteTestHub) -> None:
        self.work = work
        self.endpoint = endpoint
        self.hub = hub
        self.env = client_env(work, endpoint)

    def fresh(self, name: str) -> Path:
        path = self.work / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def modelpm_project(self, name: str, store: Path) -> tuple[Path, dict[str, str]]:
        project = self.fresh(name)
        (project / "models.toml").write_text(f'[models.bench]\nrepo = "{REPO}"\n')
        return project, {**self.env, "MODELPM_HOME": str(store)}

    def modelpm_cold(self) -> Run:
        store = self.fresh("store")
        project, env = self.modelpm_project("project", store)
        return run([sys.executable, "-m", "modelpm", "sync", "--quiet"], env, self.hub, project)

    def modelpm_noop(self) -> Run:
        project = self.work / "project"
        env = {**self.env, "MODELPM_HOME": str(self.work / "store")}
        return run([sys.executable, "-m", "modelpm", "sync", "--quiet"], env, self.hub, project)

    def official(self, fresh: bool = True) -> Run:
        target = self.fresh("official") if fresh else self.work / "official"
        code = (
            "from huggingface_hub import snapshot_download\n"
            f"snapshot_download({REPO!r}, local_dir={str(target / 'out')!r}, "
            f"cache_dir={str(target / 'cache')!r}, endpoint={self.endpoint!r})\n"
        )
        return run([sys.executable, "-c", code], self.env, self.hub)

    def aria2c(self, files: list[str]) -> Run:
        target = self.fresh("aria2c")
        listing = target / "input.txt"
        listing.write_text(
            "".join(f"{self.endpoint}/{REPO}/resolve/main/{name}\n  out={name}\n" for name in files)
        )
        command = [
            "aria2c",
            "-x16",
            "-s16",
            "-j8",
            "-k1M",
            "--file-allocation=none",
            "--console-log-level=error",
            "--summary-interval=0",
            "--quiet=true",
            "-d",
            str(target / "out"),
            "-i",
            str(listing),
        ]
        return run(command, self.env, self.hub)

    def kill_at(self, fraction: float, total: int) -> tuple[float, int]:
        """kill -9 a throttled sync at ``fraction`` of the bytes; return (killed at, re-sent)."""
        store = self.fresh("kill-store")
        project, env = self.modelpm_project("kill-project", store)
        self.hub.reset_stats()
        process = subprocess.Popen(
            [sys.executable, "-m", "modelpm", "sync", "--quiet"],
            env=env,
            cwd=project,
            stderr=subprocess.DEVNULL,
        )
        sent = 0
        while process.poll() is None:
            sent = self.hub.stats()["bytes_sent"]
            if sent >= fraction * total:
                os.kill(process.pid, signal.SIGKILL)
                break
            time.sleep(0.02)
        process.wait()
        again = run([sys.executable, "-m", "modelpm", "sync", "--quiet"], env, self.hub, project)
        return sent / total, again.bytes_sent

    def second_project(self) -> tuple[Run, bool]:
        store = self.work / "store"
        project, env = self.modelpm_project("project-2", store)
        shutil.copy(self.work / "project" / "models.lock", project / "models.lock")
        result = run([sys.executable, "-m", "modelpm", "sync", "--quiet"], env, self.hub, project)
        first = next((self.work / "project" / "models" / "bench").glob("*.safetensors"))
        second = project / "models" / "bench" / first.name
        return result, first.stat().st_ino == second.stat().st_ino


def machine_limit(folder: Path, env: dict[str, str]) -> tuple[float, float]:
    """The floor under any client that verifies every byte: SHA-256 of the repo's bytes on
    one core (read from the page cache), and a process start (``modelpm --version``, the
    interpreter and modelpm's command line), each the best of three."""
    hashing = []
    for _ in range(3):
        start = time.perf_counter()
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                with path.open("rb") as handle:
                    hashlib.file_digest(handle, "sha256")
        hashing.append(time.perf_counter() - start)
    starts = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "modelpm", "--version"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        starts.append(time.perf_counter() - start)
    return min(hashing), min(starts)


def median(runs: list[Run], key: str = "seconds") -> float:
    return float(statistics.median(getattr(r, key) for r in runs))


def spread(runs: list[Run]) -> str:
    """Median seconds, and the range when there are several runs."""
    if len(runs) == 1:
        return f"{runs[0].seconds:.2f} s"
    low, high = min(r.seconds for r in runs), max(r.seconds for r in runs)
    return f"{median(runs):.2f} s ({low:.2f}–{high:.2f})"


def interleave(
    runs: int, first: Callable[[], Run], second: Callable[[], Run]
) -> tuple[list[Run], list[Run]]:
    """``runs`` runs of each, alternating: first, second, first, second, …"""
    ones: list[Run] = []
    twos: list[Run] = []
    for _ in range(runs):
        ones.append(first())
        twos.append(second())
    return ones, twos


@contextmanager
def serving(*args: str) -> Iterator[dict[str, Any]]:
    """A test hub in its own process (``python -m modelpm.testing serve ARGS``): its endpoints."""
    server = subprocess.Popen(
        [sys.executable, "-m", "modelpm.testing", "serve", *args], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        yield json.loads(server.stdout.readline())
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout:
            server.stdout.close()


def print_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """One Markdown table on stdout."""
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("bench-work"))
    parser.add_argument("--quick", action="store_true", help="tiny repo, one run")
    parser.add_argument(
        "--skip-throttled-official",
        action="store_true",
        help="the official client takes ~20 s a run under the throttle",
    )
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    work = args.work.resolve()
    repo_folder = work / "repo"
    total = build_repo(repo_folder, args.quick)
    files = sorted(path.name for path in repo_folder.iterdir())
    with serving("--repo", f"{REPO}={repo_folder}") as endpoints:
        endpoint = endpoints["endpoint"]
        hub = RemoteTestHub(endpoint)
        bench = Bench(work, endpoint, hub)
        has_aria2c = shutil.which("aria2c") is not None
        rows: list[tuple[str, str, str, str]] = []
        print(
            f"repo: {len(files)} files, {total / 1e9:.2f} GB; runs per figure: {runs}",
            file=sys.stderr,
        )

        # Interleaved, so that drift in the machine (a VM's memory, the page cache) falls on
        # both sides alike rather than on whichever ran first.
        cold, official = interleave(runs, bench.modelpm_cold, bench.official)
        ratio = median(cold) / median(official)
        rows.append(
            (
                "cold sync, no throttle",
                f"modelpm {spread(cold)} vs official {spread(official)} "
                f"(modelpm verifies every byte)",
                f"{ratio:.2f}×",
                "≤ 0.55×",
            )
        )
        hashing, start = machine_limit(repo_folder, bench.env)
        limit = hashing + start
        rows.append(
            (
                "cold sync against the machine's limit",
                f"SHA-256 of every byte on one core {hashing:.2f} s + a process start "
                f"{start:.2f} s = {limit:.2f} s; modelpm {median(cold):.2f} s",
                f"{median(cold) / limit:.2f}× the limit",
                "≤ 1.5×",
            )
        )
        rss = max(r.max_rss_mb for r in cold)

        noop = [bench.modelpm_noop() for _ in range(runs)]
        official_again = [bench.official(fresh=False) for _ in range(runs)]
        rows.append(
            (
                "no-op re-sync",
                f"modelpm {median(noop):.2f} s, {max(r.requests for r in noop)} requests vs "
                f"official {median(official_again):.2f} s, "
                f"{max(r.requests for r in official_again)} requests",
                f"{median(noop) / median(official_again):.2f}×",
                "0 requests; ≤ 0.5×",
            )
        )

        second, linked = bench.second_project()
        rows.append(
            (
                "second project, same store",
                f"{second.bytes_sent} bytes downloaded; {'hard-linked' if linked else 'copied'}",
                f"{second.seconds:.2f} s",
                "0 bytes, linked",
            )
        )

        hub.add_fault(Fault("throttle", rate=THROTTLE, times=None))
        if has_aria2c:
            throttled, aria = interleave(runs, bench.modelpm_cold, lambda: bench.aria2c(files))
        else:
            throttled = [bench.modelpm_cold() for _ in range(runs)]
        line = f"modelpm {spread(throttled)}"
        result = ""
        if not args.skip_throttled_official:
            slow = [bench.official() for _ in range(1 if args.quick else min(runs, 2))]
            line += f" vs official {median(slow):.2f} s"
            result = f"{median(throttled) / median(slow):.2f}× official"
        if has_aria2c:
            line += f" vs aria2c -x16 -s16 {spread(aria)}"
            result += f"; {median(throttled) / median(aria):.2f}× aria2c"
        else:
            line += " (aria2c not installed)"
        rows.append(
            (
                "cold sync, 50 MB/s per connection",
                line,
                result.strip("; "),
                "≤ 0.12× official; ≤ 1.0× aria2c",
            )
        )

        killed_at, resent = bench.kill_at(0.6, total)
        rows.append(
            (
                "kill -9 during a throttled sync, then sync",
                f"killed at {killed_at:.0%} of the bytes; "
                f"the next sync re-sent {resent / 1e6:.0f} MB",
                f"{resent / total:.0%} of the bytes",
                "≤ 60%",
            )
        )
        hub.clear_faults()
        rows.append(
            (
                "peak RSS of modelpm during the cold sync",
                f"{rss:.0f} MB",
                f"{rss:.0f} MB",
                "≤ 200 MB",
            )
        )

        print_table(("scenario", "measured", "result", "target"), rows)


if __name__ == "__main__":
    main()
