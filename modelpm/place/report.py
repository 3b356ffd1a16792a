"""What a sync did, counted: the report every placement adds to."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SyncReport:
    downloaded: int = 0
    downloaded_bytes: int = 0
    linked: int = 0
    copied: int = 0
    kept: int = 0
    removed: int = 0
    notes: list[str] = field(default_factory=list)
    # Bytes each origin sent, by its name ("hf:org/name", "modelscope:owner/name").
    served: dict[str, int] = field(default_factory=dict)
