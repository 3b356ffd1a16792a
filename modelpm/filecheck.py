"""Checking placed files against their locked hash, on every core.

:func:`file_state` is one file's verdict: ``ok``, ``missing`` or ``modified``. A small
file's cost is system calls and Python, which hold the GIL, so threads do not help (10,000
files: 1.4 s on one thread, 3.0 s on four); :func:`states_of` therefore gives a share of
a long list of files to helper processes, one per further core, and checks the rest on
the calling thread meanwhile. A helper is a fresh ``python -c`` that imports this module
(no fork of a process that may run threads, no re-run of the caller's main module), in a
session of its own (Ctrl-C reaches only modelpm, which kills it), fed the files as JSON on
stdin and answering one verdict per line. If a helper cannot start or answers wrongly,
its share is checked here: slower, never a different verdict.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from modelpm.hashing import hash_fd
from modelpm.lockfile.model import LockedFile
from modelpm.paths import check_repo_path
from modelpm.values import Digest

# No link followed at the last step (a link there is not the placed file), and no wait on
# a FIFO someone put in its place (O_NONBLOCK means nothing to a regular file).
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
# Below this many files a helper's start (~50 ms) costs more than it saves.
HELPER_MIN_FILES = 4000
_SERVE = "from modelpm.filecheck import serve; serve()"


def file_state(prefix: str, item: LockedFile) -> str:
    """One open, one fstat, the reads: at 50,000 small files, each extra system call or
    Path built per file is a visible share of the whole verify."""
    try:
        fd = os.open(prefix + check_repo_path(item.path), _READ_FLAGS)
    except OSError:
        return "missing"  # not there, not reachable, or a symbolic link
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return "missing"
        if info.st_size != item.size:
            return "modified"
        return "ok" if hash_fd(fd, item.digest.algorithm, item.size) == item.digest else "modified"
    except OSError:
        return "missing"
    finally:
        os.close(fd)


def states_of(prefix: str, items: Sequence[LockedFile], cores: int | None = None) -> list[str]:
    """:func:`file_state` of each item, in order, the list shared with helper processes."""
    cores = cores or os.cpu_count() or 1
    helpers = min(cores - 1, len(items) // HELPER_MIN_FILES)
    if helpers <= 0:
        return [file_state(prefix, item) for item in items]
    shares = [items[index :: helpers + 1] for index in range(helpers + 1)]
    answers: list[list[str] | None] = [None] * helpers
    processes: list[subprocess.Popen[bytes]] = []
    threads = [
        threading.Thread(
            target=_ask_helper,
            args=(prefix, shares[index + 1], answers, index, processes),
            daemon=True,
        )
        for index in range(helpers)
    ]
    try:
        for thread in threads:
            thread.start()
        mine = [file_state(prefix, item) for item in shares[0]]
        for thread in threads:
            thread.join()
    finally:
        for process in processes:  # Ctrl-C (or any failure here): no helper outlives us
            if process.poll() is None:
                process.kill()
    found = [mine]
    for index, answer in enumerate(answers):
        share = shares[index + 1]
        found.append(answer if answer is not None else [file_state(prefix, i) for i in share])
    states: list[str] = [""] * len(items)
    for offset, share_states in enumerate(found):
        states[offset :: helpers + 1] = share_states
    return states


def _ask_helper(
    prefix: str,
    share: Sequence[LockedFile],
    answers: list[list[str] | None],
    index: int,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    request = json.dumps(
        {
            "prefix": prefix,
            "files": [[i.path, i.size, i.digest.algorithm, i.digest.hexdigest] for i in share],
        }
    ).encode()
    # The helper imports modelpm from where this process did, installed or not.
    home = str(Path(__file__).resolve().parent.parent)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [home, os.environ.get("PYTHONPATH")])),
    }
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", _SERVE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    except OSError:
        return
    processes.append(process)
    try:
        output, _ = process.communicate(request)
    except (OSError, ValueError):
        return
    lines = output.decode().split("\n") if output else []
    if (
        process.returncode == 0
        and len(lines) == len(share)
        and all(line in ("ok", "missing", "modified") for line in lines)
    ):
        answers[index] = lines


def serve() -> None:
    """The helper's side: the files on stdin, one verdict per line on stdout."""
    request = json.load(sys.stdin)
    prefix = request["prefix"]
    states = [
        file_state(prefix, LockedFile(path, size, Digest.parse(algorithm, hexdigest)))
        for path, size, algorithm, hexdigest in request["files"]
    ]
    sys.stdout.write("\n".join(states))
