"""Progress events: how the engine tells a front end what it is doing.

The engine never prints. It calls a :class:`Reporter`; the CLI renders the
calls with rich (a terminal) or as periodic lines (CI), a library user gets
:class:`NullReporter` unless they pass their own. Calls may come from worker
threads, so implementations must be thread-safe.
"""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    def begin(self, total_files: int, total_bytes: int) -> None:
        """Downloads are about to start: how much is missing."""

    def file_started(self, label: str, size: int) -> None: ...

    def advance(self, label: str, count: int) -> None:
        """``count`` more bytes of ``label`` arrived (negative: bytes discarded for a retry)."""

    def file_done(self, label: str) -> None: ...

    def note(self, text: str) -> None:
        """A one-line warning or remark for the user (a retry, a replaced file)."""

    def end(self) -> None: ...


class NullReporter:
    """Says nothing."""

    def begin(self, total_files: int, total_bytes: int) -> None:
        pass

    def file_started(self, label: str, size: int) -> None:
        pass

    def advance(self, label: str, count: int) -> None:
        pass

    def file_done(self, label: str) -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def end(self) -> None:
        pass
