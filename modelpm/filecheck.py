"""Checking placed files against their locked hash, on every core.

:func:`file_state` is one file's verdict: ``ok``, ``missing`` or ``modified``. A small
file's cost is system calls and Python, which hold the GIL, so threads do not help (10,000
files: 1.4 s on one thread, 3.0 s on four); :func:`states_of` therefore shares a long list
of files with helper processes, one per further core. The list is cut into chunks that the
calling thread and the helpers take as they get through them, so a helper's start (~0.1 s)
and a slower share cost no one a wait.

A helper is a fresh ``python -S -c`` that imports this module (no fork of a process that
may run threads, no re-run of the caller's main module, no site packages to scan), in a
session of its own (Ctrl-C reaches only modelpm, which kills it). It reads one chunk per
line as JSON on stdin and answers one line of verdicts per chunk. If a helper cannot
start or answers wrongly, its chunk goes back to the calling thread: slower, never a
different verdict.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from modelpm.hashing import hash_fd, small_hexdigest
from modelpm.lockfile.model import LockedFile
from modelpm.paths import check_repo_paths
from modelpm.values import HashAlgorithm

# No link followed at the last step (a link there is not the placed file), and no wait on
# a FIFO someone put in its place (O_NONBLOCK means nothing to a regular file).
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
# Below this many files a helper's start costs more than it saves.
HELPER_MIN_FILES = 4000
# Files per chunk: large enough that a round trip to a helper is a small part of its
# work, small enough that whoever finishes last waits for little.
CHUNK_FILES = 500
# Up to this size a file is read in one call and hashed from the bytes.
SMALL_READ = 4 * 1024 * 1024
_SERVE = "from modelpm.filecheck import serve; serve()"
_VERDICTS = frozenset({"ok", "missing", "modified"})


def file_state(prefix: str, item: LockedFile) -> str:
    """The verdict on ``prefix + item.path``, whose path has passed
    :func:`~modelpm.paths.check_repo_path` (a lock's paths have)."""
    return _state(prefix, item.path, item.size, item.digest.algorithm, item.digest.hexdigest)


def _state(prefix: str, path: str, size: int, algorithm: HashAlgorithm, hexdigest: str) -> str:
    """One open, one fstat, the reads: at 50,000 small files, each extra system call or
    value built per file is a visible share of the whole verify."""
    try:
        fd = os.open(prefix + path, _READ_FLAGS)
    except OSError:
        return "missing"  # not there, not reachable, or a symbolic link
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return "missing"
        if info.st_size != size:
            return "modified"
        if size <= SMALL_READ:
            found = small_hexdigest(fd, algorithm, size)
        else:
            found = hash_fd(fd, algorithm, size).hexdigest
        return "ok" if found == hexdigest else "modified"
    except OSError:
        return "missing"
    finally:
        os.close(fd)


def states_of(prefix: str, items: Sequence[LockedFile], cores: int | None = None) -> list[str]:
    """:func:`file_state` of each item, in order, the work shared with helper processes."""
    check_repo_paths([item.path for item in items])
    cores = cores or os.cpu_count() or 1
    helpers = min(cores - 1, len(items) // HELPER_MIN_FILES)
    states: list[str] = [""] * len(items)
    if helpers <= 0:
        _check_here(prefix, items, 0, len(items), states)
        return states
    chunks = _Chunks(len(items))

    def check_here(start: int, end: int) -> None:
        _check_here(prefix, items, start, end, states)

    processes: list[subprocess.Popen[bytes]] = []
    threads = [
        threading.Thread(
            target=_lend_to_helper, args=(prefix, items, chunks, states, processes), daemon=True
        )
        for _ in range(helpers)
    ]
    try:
        for thread in threads:
            thread.start()
        chunks.work(check_here)
        for thread in threads:
            thread.join()
        chunks.work(check_here)  # what a helper took and could not answer came back
    finally:
        for process in processes:  # Ctrl-C (or any failure here): no helper outlives us
            if process.poll() is None:
                process.kill()
    return states


class _Chunks:
    """The list's chunks, each taken by one worker; a chunk given back is taken again."""

    def __init__(self, count: int) -> None:
        self._count = count
        self._next = 0
        self._returned: list[int] = []
        self._lock = threading.Lock()

    def take(self) -> tuple[int, int] | None:
        with self._lock:
            if self._returned:
                start = self._returned.pop()
            elif self._next < self._count:
                start = self._next
                self._next += CHUNK_FILES
            else:
                return None
        return start, min(start + CHUNK_FILES, self._count)

    def give_back(self, start: int) -> None:
        with self._lock:
            self._returned.append(start)

    def work(self, check: Callable[[int, int], None]) -> None:
        while (chunk := self.take()) is not None:
            check(*chunk)


def _check_here(
    prefix: str, items: Sequence[LockedFile], start: int, end: int, states: list[str]
) -> None:
    states[start:end] = [file_state(prefix, item) for item in items[start:end]]


def _lend_to_helper(
    prefix: str,
    items: Sequence[LockedFile],
    chunks: _Chunks,
    states: list[str],
    processes: list[subprocess.Popen[bytes]],
) -> None:
    """Feed one helper chunks until there are none; on any failure, give its chunk back."""
    # The helper imports modelpm from where this process did, installed or not.
    home = str(Path(__file__).resolve().parent.parent)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [home, os.environ.get("PYTHONPATH")])),
    }
    try:
        process = subprocess.Popen(
            [sys.executable, "-S", "-c", _SERVE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    except OSError:
        return
    processes.append(process)
    with process:  # closes the pipes and reaps the helper, however this ends
        try:
            _serve_chunks(process, prefix, items, chunks, states)
        finally:
            process.kill()


def _serve_chunks(
    process: subprocess.Popen[bytes],
    prefix: str,
    items: Sequence[LockedFile],
    chunks: _Chunks,
    states: list[str],
) -> None:
    """Chunks to the helper until there are none left, or until it fails to answer one
    (that chunk is given back)."""
    assert process.stdin is not None and process.stdout is not None
    try:
        _send(process.stdin, prefix)
    except (OSError, ValueError):
        return
    while (chunk := chunks.take()) is not None:
        start, end = chunk
        rows = [
            (item.path, item.size, item.digest.algorithm, item.digest.hexdigest)
            for item in items[start:end]
        ]
        try:
            _send(process.stdin, rows)
            answer = process.stdout.readline().decode().split()
        except (OSError, ValueError):
            answer = []
        if len(answer) != end - start or not _VERDICTS.issuperset(answer):
            chunks.give_back(start)
            return
        states[start:end] = answer


def _send(pipe: IO[bytes], value: object) -> None:
    pipe.write(json.dumps(value).encode() + b"\n")
    pipe.flush()


def serve() -> None:
    """The helper's side: the prefix on the first line of stdin, then one chunk of rows per
    line; one line of verdicts per chunk on stdout."""
    prefix = json.loads(sys.stdin.readline())
    for line in sys.stdin:
        rows = json.loads(line)
        check_repo_paths([path for path, _size, _algorithm, _hexdigest in rows])
        # An unknown algorithm raises: the helper fails, and the caller checks the chunk.
        verdicts = [_state(prefix, *row) for row in rows]
        sys.stdout.write(" ".join(verdicts) + "\n")
        sys.stdout.flush()
