"""Control a test hub that runs in another process (benchmarks, kill tests)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from modelpm.testing.faults import Fault


class RemoteTestHub:
    """Talks to the ``/_testhub/`` control routes of ``python -m modelpm.testing serve``."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint.rstrip("/")

    def _call(self, method: str, route: str, payload: Any = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(  # noqa: S310 - a loopback URL we were given
            f"{self.endpoint}/_testhub/{route}",
            data=data,
            method=method,
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read() or b"null")

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "stats")
        return result

    def reset_stats(self) -> None:
        self._call("POST", "reset")

    def add_fault(self, fault: Fault) -> None:
        self._call("POST", "faults", [fault.to_dict()])

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")
