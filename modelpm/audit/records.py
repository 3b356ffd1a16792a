"""Audit records in the store, one per object, keyed by its hash: each object is scanned once.

    <store>/audit/<algorithm>/<2 hex>/<hexdigest>.json
        {"version": 1,
         "pickle": {"scanner": "picklescan 1.0.5", "imports": [[module, name, safety]…],
                    "error": null} | null,
         "hub": {"status": "safe", "imports": [[module, name, safety]…]} | null}

``pickle`` is modelpm's own scan of the verified object; ``hub`` is what the Hub's
security scan said about those bytes when a model was locked (``securityFileStatus``).
Invariant: a record describes the object of its name; it is written atomically and
a damaged or unreadable one reads as absent (the object is scanned again).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

from modelpm.audit.scanner import PickleScan
from modelpm.fs.atomic import atomic_write_text
from modelpm.sources.base import HubScan
from modelpm.values import Digest

VERSION = 1


@dataclass(frozen=True)
class Record:
    pickle: PickleScan | None = None
    hub: HubScan | None = None


def record_path(store_root: Path, digest: Digest) -> Path:
    hexdigest = digest.hexdigest
    return store_root / "audit" / digest.algorithm / hexdigest[:2] / f"{hexdigest}.json"


def read_record(store_root: Path, digest: Digest) -> Record:
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError, AttributeError):
        data = json.loads(record_path(store_root, digest).read_text(encoding="utf-8"))
        if data.get("version") != VERSION:
            return Record()
        pickle = PickleScan.from_json(data["pickle"]) if data.get("pickle") else None
        hub = None
        if data.get("hub"):
            raw = data["hub"]
            imports = tuple((str(m), str(n), str(s)) for m, n, s in raw["imports"])
            hub = HubScan(str(raw["status"]), imports)
        return Record(pickle, hub)
    return Record()


def write_record(store_root: Path, digest: Digest, record: Record) -> None:
    data = {
        "version": VERSION,
        "pickle": record.pickle.to_json() if record.pickle else None,
        "hub": {"status": record.hub.status, "imports": [list(i) for i in record.hub.imports]}
        if record.hub
        else None,
    }
    text = json.dumps(data, sort_keys=True) + "\n"
    # Not fsynced: a lost record only means scanning the object again.
    atomic_write_text(record_path(store_root, digest), text, durable=False)
