"""Terminal rendering of transfers: a :class:`~modelpm.progress.Reporter` for the CLI.

On a terminal, a rich progress display (total bytes, speed, ETA, and a bar
per large file in flight); without one (CI, pipes), one plain line every few
seconds; with ``--quiet``, nothing but errors. Reporter calls arrive from
download threads, so every method takes the lock.
"""

from __future__ import annotations

import threading
import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from modelpm.cli.common import human_size, plural
from modelpm.place.report import SyncReport

LARGE_FILE = 32 * 1024 * 1024
PLAIN_INTERVAL = 5.0


def served_by(served: dict[str, int]) -> str:
    """ " from hf:org/a (1.0 MB), modelscope:o/b (2.0 MB)", largest first ("" if unknown)."""
    ranked = sorted(((count, name) for name, count in served.items() if count), reverse=True)
    if not ranked:
        return ""
    return " from " + ", ".join(f"{name} ({human_size(count)})" for count, name in ranked)


class ProgressReporter:
    """A :class:`modelpm.progress.Reporter` that draws on ``console``."""

    def __init__(
        self,
        console: Console,
        *,
        quiet: bool = False,
        verbose: bool = False,
        action: tuple[str, str] = ("downloading", "fetched"),  # "uploading", "uploaded"
    ) -> None:
        self.console = console
        self.action = action
        self.quiet = quiet
        self.verbose = verbose
        self.lock = threading.Lock()
        self.live = console.is_terminal and not quiet
        self.progress: Progress | None = None
        self.total_task: TaskID | None = None
        self.file_tasks: dict[str, TaskID] = {}
        self.total_bytes = 0
        self.done_bytes = 0
        self.total_files = 0
        self.done_files = 0
        self.started = time.monotonic()
        self.last_line = 0.0

    def begin(self, total_files: int, total_bytes: int) -> None:
        with self.lock:
            self.total_files, self.total_bytes = total_files, total_bytes
            self.started = time.monotonic()
            if self.quiet:
                return
            if self.live:
                self.progress = Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    DownloadColumn(),
                    TransferSpeedColumn(),
                    TimeRemainingColumn(),
                    console=self.console,
                    transient=True,
                )
                self.progress.start()
                self.total_task = self.progress.add_task(f"{total_files} files", total=total_bytes)
            else:
                self.console.print(
                    f"{self.action[0]} {plural(total_files, 'file')}, {human_size(total_bytes)}"
                )
                self.last_line = time.monotonic()

    def file_started(self, label: str, size: int) -> None:
        with self.lock:
            if self.progress is not None and size >= LARGE_FILE:
                self.file_tasks[label] = self.progress.add_task(f"  {label}", total=size)

    def advance(self, label: str, count: int) -> None:
        with self.lock:
            self.done_bytes += count
            if self.progress is not None:
                assert self.total_task is not None
                self.progress.update(self.total_task, advance=count)
                task = self.file_tasks.get(label)
                if task is not None:
                    self.progress.update(task, advance=count)
            elif not self.quiet and self.total_bytes:
                now = time.monotonic()
                if now - self.last_line >= PLAIN_INTERVAL:
                    self.last_line = now
                    self._plain_line(now)

    def _plain_line(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-6)
        rate = self.done_bytes / elapsed
        percent = 100 * self.done_bytes / self.total_bytes
        left = (self.total_bytes - self.done_bytes) / rate if rate else 0
        self.console.print(
            f"{percent:5.1f}%  {human_size(self.done_bytes)} of {human_size(self.total_bytes)}"
            f"  {human_size(rate)}/s  {self.done_files}/{self.total_files} files"
            f"  about {left:.0f}s left"
        )

    def file_done(self, label: str) -> None:
        with self.lock:
            self.done_files += 1
            task = self.file_tasks.pop(label, None)
            if self.progress is not None:
                if task is not None:
                    self.progress.remove_task(task)
                assert self.total_task is not None
                self.progress.update(
                    self.total_task, description=f"{self.done_files}/{self.total_files} files"
                )
            elif self.verbose:
                self.console.print(f"{self.action[1]} {label}", markup=False)

    def note(self, text: str) -> None:
        with self.lock:
            if self.verbose and not self.quiet:
                self.console.print(f"note: {text}", markup=False)

    def end(self) -> None:
        self.close()

    def close(self) -> None:
        with self.lock:
            if self.progress is not None:
                self.progress.stop()
                self.progress = None

    def summary(self, report: SyncReport) -> None:
        if self.quiet:
            return
        elapsed = time.monotonic() - self.started
        parts = []
        if report.downloaded:
            parts.append(
                f"downloaded {plural(report.downloaded, 'file')} "
                f"({human_size(report.downloaded_bytes)}) "
                f"in {elapsed:.1f}s{served_by(report.served)}"
            )
        if report.linked:
            parts.append(f"linked {report.linked}")
        if report.copied:
            parts.append(f"copied {report.copied}")
        if report.kept:
            parts.append(f"{report.kept} already in place")
        if report.removed:
            parts.append(f"removed {report.removed}")
        self.console.print("; ".join(parts) or "nothing to do")
