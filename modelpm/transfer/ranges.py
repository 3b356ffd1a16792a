"""Byte-range arithmetic for partial downloads (pure, no I/O).

A :class:`Ranges` holds the half-open intervals of a file known to be
written, merged and sorted, so "what is missing" and "how long is the
contiguous prefix" (what can be hashed in order) are cheap questions.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Ranges:
    """Written intervals ``[start, end)`` of a file of ``size`` bytes, merged and sorted."""

    size: int
    done: list[list[int]] = field(default_factory=list)

    def add(self, start: int, end: int) -> None:
        start, end = max(0, start), min(self.size, end)
        if end <= start:
            return
        kept: list[list[int]] = []
        for lo, hi in self.done:
            if hi < start or end < lo:
                kept.append([lo, hi])
            else:  # touching or overlapping: absorb
                start, end = min(lo, start), max(hi, end)
        kept.append([start, end])
        kept.sort()
        self.done = kept

    def missing(self) -> list[tuple[int, int]]:
        gaps: list[tuple[int, int]] = []
        cursor = 0
        for lo, hi in self.done:
            if lo > cursor:
                gaps.append((cursor, lo))
            cursor = max(cursor, hi)
        if cursor < self.size:
            gaps.append((cursor, self.size))
        return gaps

    def prefix(self) -> int:
        """Length of the written run that starts at offset 0."""
        return self.done[0][1] if self.done and self.done[0][0] == 0 else 0

    @property
    def complete(self) -> bool:
        return self.prefix() == self.size

    @property
    def written(self) -> int:
        return sum(hi - lo for lo, hi in self.done)


def chunk_gaps(gaps: list[tuple[int, int]], chunk: int, min_segment: int) -> list[tuple[int, int]]:
    """Cut the missing intervals into ``chunk``-sized pieces, in file order.

    Connections take pieces from the front, so bytes arrive roughly in order and the
    written prefix (what can be hashed) grows while the download runs, instead of all at
    once at the end as it would with one long range per connection. A remainder shorter
    than ``min_segment`` stays with the piece before it.
    """
    chunk = max(chunk, min_segment, 1)
    pieces: list[tuple[int, int]] = []
    for start, end in gaps:
        while end - start >= chunk + min_segment:
            pieces.append((start, start + chunk))
            start += chunk
        if end > start:
            pieces.append((start, end))
    return pieces
