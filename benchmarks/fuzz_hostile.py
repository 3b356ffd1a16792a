"""More fuzzing than the suite runs: ``python benchmarks/fuzz_hostile.py --examples 500``.

Runs ``tests/test_fuzz.py`` (a hostile test hub against the whole CLI, and a hostile
transport in front of every origin against the transfer engine) with ``--examples``
drawn examples per test instead of the suite's bounded number, and prints Hypothesis's
statistics. Any example that breaks a promise fails with the example printed, so it
can be replayed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300, help="examples per fuzz test")
    args = parser.parse_args()
    env = {**os.environ, "MODELPM_FUZZ_EXAMPLES": str(args.examples)}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:logging",
        "--hypothesis-show-statistics",
        str(ROOT / "tests" / "test_fuzz.py"),
    ]
    return subprocess.run(command, env=env, cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
