"""The byte ranges of one file in flight, and how an idle connection takes work from a busy one.

A :class:`Segment` is the range one connection is fetching; its ``end`` may shrink
when another connection steals its far half. Stealing leaves a gap of at least one
read past the victim's position, because the victim may be writing that read right
now: no byte is ever written twice, which the in-order hash relies on. Pure: the
caller holds its own lock around these calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Segment:
    start: int
    end: int
    pos: int = field(init=False)

    def __post_init__(self) -> None:
        self.pos = self.start

    @property
    def left(self) -> int:
        return self.end - self.pos


def steal_candidate(active: list[Segment], min_segment: int) -> Segment | None:
    """The active segment with the most left, if enough is left to share."""
    victims = [segment for segment in active if segment.left >= 2 * min_segment]
    return max(victims, key=lambda segment: segment.left, default=None)


def steal(victim: Segment, read_size: int) -> Segment:
    """Cut the far half off ``victim`` and return it as a new segment."""
    middle = victim.pos + max(read_size, victim.left // 2)
    stolen = Segment(middle, victim.end)
    victim.end = middle
    return stolen
