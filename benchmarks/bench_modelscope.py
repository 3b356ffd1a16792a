"""Benchmark: a ModelScope sync against the official ``modelscope`` client, side by side.

    python benchmarks/bench_modelscope.py            # ~1.35 GB repo, median of 3
    python benchmarks/bench_modelscope.py --quick    # small repo, 1 run: checks the script

The same repo as ``bench_sync.py`` (a 1 GiB and a 256 MiB .safetensors, a 3 MB
tokenizer.json, 20 small JSON files), served on the test hub's ModelScope face and, for
the mirror scenario, on its Hub face too, in a separate process. Every contender is a
fresh process: modelpm (``source = "modelscope"``) and ``modelscope.snapshot_download``
(1.40, which verifies every file's sha256 as modelpm does), interleaved run by run. The
last scenario locks from the Hub and syncs that lock from the ModelScope mirror
(``MODELPM_SOURCES=modelscope``): the bytes the Hub served are counted. Needs the test
extra (``pip install -e ".[test]"``). Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from bench_sync import (
    THROTTLE,
    Run,
    build_repo,
    interleave,
    median,
    print_table,
    run,
    serving,
    spread,
)

from modelpm.testing import Fault, RemoteTestHub

REPO = "acme/bench"
MS_REPO = "mirror/bench"


class MsBench:
    def __init__(self, work: Path, endpoints: dict[str, str], hub: RemoteTestHub) -> None:
        self.work = work
        self.ms_endpoint = endpoints["modelscope_endpoint"]
        self.hub = hub
        self.env = {
            **os.environ,
            "HF_ENDPOINT": endpoints["endpoint"],
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HOME": str(work / "hf-home"),
            "MODELSCOPE_ENDPOINT": self.ms_endpoint,
            "MODELSCOPE_HOME": str(work / "ms-home"),
            "MODELSCOPE_CACHE": str(work / "ms-cache"),
            "TQDM_DISABLE": "1",
        }
        for name in ("HF_TOKEN", "MODELSCOPE_API_TOKEN", "MODELPM_SOURCES"):
            self.env.pop(name, None)
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)  # both run from compiled bytecode

    def fresh(self, name: str) -> Path:
        path = self.work / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def modelpm(self, manifest: str, extra: dict[str, str] | None = None) -> Run:
        store = self.fresh("store")
        project = self.fresh("project")
        (project / "models.toml").write_text(manifest)
        env = {**self.env, "MODELPM_HOME": str(store), **(extra or {})}
        return run([sys.executable, "-m", "modelpm", "sync", "--quiet"], env, self.hub, project)

    def modelpm_cold(self) -> Run:
        return self.modelpm(f'[models.bench]\nsource = "modelscope"\nrepo = "{MS_REPO}"\n')

    def modelpm_noop(self) -> Run:
        env = {**self.env, "MODELPM_HOME": str(self.work / "store")}
        project = self.work / "project"
        return run([sys.executable, "-m", "modelpm", "sync", "--quiet"], env, self.hub, project)

    def official(self, fresh: bool = True) -> Run:
        target = self.fresh("official") if fresh else self.work / "official"
        code = (
            "from modelscope import snapshot_download\n"
            f"snapshot_download({MS_REPO!r}, local_dir={str(target / 'out')!r}, "
            f"endpoint={self.ms_endpoint!r})\n"
        )
        return run([sys.executable, "-c", code], self.env, self.hub)

    def from_mirror(self) -> tuple[Run, int]:
        """Lock from the Hub, then sync that lock from the ModelScope mirror; the Hub's bytes."""
        manifest = f'[models.bench]\nrepo = "{REPO}"\nmirrors = ["modelscope:{MS_REPO}"]\n'
        project = self.fresh("project")
        (project / "models.toml").write_text(manifest)
        env = {**self.env, "MODELPM_HOME": str(self.fresh("store"))}
        run([sys.executable, "-m", "modelpm", "lock", "--quiet"], env, self.hub, project)
        env["MODELPM_SOURCES"] = "modelscope"
        self.hub.reset_stats()
        command = [sys.executable, "-m", "modelpm", "sync", "--locked", "--quiet"]
        timed = run(command, env, self.hub, project)
        requests = self.hub.stats()["requests"]
        from_hub = sum(r["body_bytes"] for r in requests if r["origin"] in ("hub", "cdn"))
        return timed, from_hub


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("bench-work-ms"))
    parser.add_argument("--quick", action="store_true", help="tiny repo, one run")
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    work = args.work.resolve()
    folder = work / "repo"
    total = build_repo(folder, args.quick)
    with serving("--repo", f"{REPO}={folder}", "--ms-repo", f"{MS_REPO}={folder}") as endpoints:
        hub = RemoteTestHub(endpoints["endpoint"])
        bench = MsBench(work, endpoints, hub)
        print(f"repo: {total / 1e9:.2f} GB; runs per figure: {runs}", file=sys.stderr)
        rows: list[tuple[str, str, str]] = []

        cold, official = interleave(runs, bench.modelpm_cold, bench.official)
        rows.append(
            (
                "cold sync from ModelScope, no throttle",
                f"modelpm {spread(cold)} vs official modelscope {spread(official)} "
                "(both verify every byte)",
                f"{median(cold) / median(official):.2f}×",
            )
        )
        noop = [bench.modelpm_noop() for _ in range(runs)]
        again = [bench.official(fresh=False) for _ in range(runs)]
        rows.append(
            (
                "re-sync of a synced folder",
                f"modelpm {median(noop):.2f} s, {max(r.requests for r in noop)} requests vs "
                f"official {median(again):.2f} s, {max(r.requests for r in again)} requests",
                f"{median(noop) / median(again):.2f}×",
            )
        )
        mirrored, from_hub = bench.from_mirror()
        rows.append(
            (
                "Hub lock synced from the ModelScope mirror",
                f"modelpm {mirrored.seconds:.2f} s; {from_hub} bytes from the Hub",
                f"{from_hub} B from the Hub",
            )
        )
        hub.add_fault(Fault("throttle", rate=THROTTLE, times=None))
        throttled, slow = interleave(
            1 if args.quick else min(runs, 2), bench.modelpm_cold, bench.official
        )
        rows.append(
            (
                "cold sync, 50 MB/s per connection",
                f"modelpm {spread(throttled)} vs official modelscope {spread(slow)}",
                f"{median(throttled) / median(slow):.2f}×",
            )
        )
        hub.clear_faults()
        print_table(("scenario", "measured", "modelpm / official"), rows)


if __name__ == "__main__":
    main()
