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


def split_gaps(gaps: list[tuple[int, int]], parts: int, min_segment: int) -> list[tuple[int, int]]:
    """Cut the missing intervals into about ``parts`` segments, none below ``min_segment``."""
    total = sum(end - start for start, end in gaps)
    if total == 0:
        return []
    target = max(min_segment, -(-total // max(1, parts)))
    segments: list[tuple[int, int]] = []
    for start, end in gaps:
        # Cut only if what remains is still a worthwhile segment on its own.
        while end - start >= target + max(target // 2, min_segment):
            segments.append((start, start + target))
            start += target
        segments.append((start, end))
    return segments
