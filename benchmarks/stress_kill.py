"""Stress: kill -9 `modelpm sync` at random moments, many times, and check every invariant.

    python benchmarks/stress_kill.py --trials 200

After every kill: each file visible in the destination matches the lock
(`modelpm verify` reports only "missing", never "modified"), every store
object hashes to its name, and a rerun completes with `verify` passing, no
temp file in the destination and no record left in the store's partial/.
Runs against the loopback test hub with a throttled CDN; each trial starts
with the store's objects gone, so kills land mid-transfer. Prints a summary.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from modelpm.hashing import hash_file
from modelpm.testing import Fault, TestHub
from modelpm.values import Digest

MiB = 1024 * 1024


def modelpm(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelpm", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def check_store(store: Path) -> int:
    count = 0
    for path in (store / "objects").rglob("*") if (store / "objects").exists() else []:
        if path.is_file():
            digest = Digest.parse(path.parent.parent.name, path.name)
            if hash_file(path, digest.algorithm) != digest:
                raise SystemExit(f"corrupt store object {path}")
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="modelpm-stress-") as tmp, TestHub() as hub:
        root = Path(tmp)
        hub.create_repo("acme/w").commit(
            {
                "a.safetensors": os.urandom(24 * MiB),
                "b.safetensors": os.urandom(5 * MiB),
                **{f"cfg/{i}.json": os.urandom(200) for i in range(10)},
            }
        )
        hub.add_fault(Fault("throttle", origin="cdn", rate=16 * MiB, times=None))
        project = root / "project"
        project.mkdir()
        (project / "models.toml").write_text('[models.w]\nrepo = "acme/w"\n')
        env = {**os.environ, "HF_ENDPOINT": hub.endpoint, "MODELPM_HOME": str(root / "store")}
        store = root / "store"
        killed = finished = 0
        began = time.monotonic()
        for trial in range(args.trials):
            # Every trial starts with the objects gone and the partials kept: each kill
            # meets a sync with work to do, and each rerun resumes what the kill left.
            shutil.rmtree(store / "objects", ignore_errors=True)
            shutil.rmtree(project / "models", ignore_errors=True)
            hub.add_fault(Fault("throttle", origin="cdn", rate=16 * MiB, times=None))
            hub.reset_stats()
            process = subprocess.Popen(
                [sys.executable, "-m", "modelpm", "sync", "--quiet"],
                env=env,
                cwd=project,
                stderr=subprocess.DEVNULL,
            )
            if trial % 4:  # mostly while bytes flow; now and then at any moment
                while hub.bytes_sent == 0 and process.poll() is None:
                    time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 1.5))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                killed += 1
            else:
                finished += 1
            process.wait()
            report = modelpm(["verify"], env, project).stderr.splitlines()
            bad = [line for line in report if line.startswith("modified ")]
            if bad:
                raise SystemExit(f"trial {trial}: unverified bytes visible: {bad}")
            check_store(store)
            hub.clear_faults()
            rerun = modelpm(["sync"], env, project)
            if rerun.returncode != 0 or modelpm(["verify"], env, project).returncode != 0:
                raise SystemExit(f"trial {trial}: the rerun failed:\n{rerun.stderr}")
            strays = list((project / "models").rglob(".modelpm-tmp-*"))
            strays += list((store / "partial").glob("*"))
            if strays:
                raise SystemExit(f"trial {trial}: left behind: {strays}")
        objects = check_store(store)
        print(
            f"{args.trials} trials ({killed} killed mid-run, {finished} finished first) in "
            f"{time.monotonic() - began:.0f}s: no unverified file visible, {objects} store "
            "objects all verified, every rerun completed and verified, nothing left behind"
        )


if __name__ == "__main__":
    main()
