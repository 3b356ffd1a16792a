"""A hostile server, drawn at random: what the fuzz tests (and ``benchmarks/fuzz_hostile.py``)
throw at modelpm.

Two levels, so that every source and origin meets the same hostility:

- :func:`hostile_faults` draws answers for the loopback test hub, on its Hub face or its
  ModelScope face (any status, lying headers, redirect chains and loops, odd JSON shapes
  for revisions and listings, hostile paths and sizes, cut, corrupted, ignored-range and
  dripping bodies);
- :class:`HostileTransport` answers the transfer engine directly, in front of any
  origin (the in-memory source, the Hub and ModelScope sources, the remote store), with replies
  drawn the same way.

The properties checked are the promises: never a traceback, exit code 0, 1 or 2 only,
nothing written outside the project and the store, nothing placed that is not what
the lock says.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from hypothesis import strategies as st

from modelpm.testing import Fault
from modelpm.testing.faults import FaultKind, FaultOrigin
from modelpm.transfer.transport import TransportError

STATUSES = [200, 206, 301, 302, 303, 307, 308, 400, 401, 403, 404, 410, 416, 429, 500, 503]
Site = Literal["hf", "modelscope"]
# Where each site's answers come from (a fault's path_contains); the last is its CDN's.
ROUTES: dict[Site, list[str]] = {
    "hf": ["/api/", "/tree/", "/revision/", "/resolve/", "/lfs/"],
    "modelscope": ["/api/v1/", "/repo/files", "/commits", "/repo?", "/lfs/"],
}
LISTINGS = ("/tree/", "/repo/files")
EVIL_PATHS = [
    "../escape.txt",
    "/etc/passwd",
    "a\\b",
    "ok/../../x",
    ".git/config",
    "sub/.git/HEAD",
    "con\x00trol",
    "a/",
    "",
    ".",
    "x" * 300,
    "é" * 200,
    "a",
    "a/b.json",
    "dup.json",
]
JSON_SHAPES = ["[]", "{}", "null", "5", '"text"', "[1, 2]", '{"sha": 7}', "{", "<html>"]

text = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


@st.composite
def tree_bodies(draw: st.DrawFn) -> str:
    entries = []
    for _ in range(draw(st.integers(0, 4))):
        entry: dict[str, object] = {
            "type": draw(st.sampled_from(["file", "directory", "link", 5])),
            "path": draw(st.one_of(st.sampled_from(EVIL_PATHS), text)),
            "size": draw(st.one_of(st.integers(-5, 10**31), st.sampled_from(["big", None]))),
            "oid": draw(st.one_of(st.sampled_from(["b" * 40, "short"]), text)),
        }
        if draw(st.booleans()):
            entry["lfs"] = {
                "oid": draw(st.sampled_from(["a" * 64, "zz"])),
                "size": draw(st.integers(-1, 10**12)),
            }
        entries.append(entry)
    return json.dumps(entries) if draw(st.booleans()) else draw(st.sampled_from(JSON_SHAPES))


@st.composite
def ms_listing_bodies(draw: st.DrawFn) -> str:
    """ModelScope's envelope around a listing of drawn entries, or a drawn shape instead."""
    entries = []
    for _ in range(draw(st.integers(0, 4))):
        entries.append(
            {
                "Type": draw(st.sampled_from(["blob", "tree", "link", 5])),
                "Path": draw(st.one_of(st.sampled_from(EVIL_PATHS), text)),
                "Size": draw(st.one_of(st.integers(-5, 10**31), st.sampled_from(["big", None]))),
                "Sha256": draw(st.one_of(st.sampled_from(["a" * 64, "zz", None]), text)),
            }
        )
    data = draw(st.sampled_from([{"Files": entries}, {"Files": None}, entries, None, "x"]))
    envelope = {"Code": draw(st.sampled_from([200, 10010205, "x"])), "Data": data}
    if draw(st.booleans()):
        envelope["Success"] = draw(st.booleans())
    return json.dumps(envelope) if draw(st.booleans()) else draw(st.sampled_from(JSON_SHAPES))


@st.composite
def headers(draw: st.DrawFn) -> dict[str, str]:
    chosen: dict[str, str] = {}
    if draw(st.booleans()):
        chosen["Location"] = draw(
            st.sampled_from(
                [
                    "{self}",
                    "/resolve/x",
                    "http://127.0.0.1:9/x",
                    "http://127.0.0.1:99999/",
                    "http://[::1",
                    "ftp://x/y",
                    "",
                    "//evil.example/x",
                ]
            )
        )
    if draw(st.booleans()):
        chosen["Content-Length"] = str(draw(st.integers(0, 10**6)))
    if draw(st.booleans()):
        chosen["Retry-After"] = draw(st.sampled_from(["0", "1", "-5", "soon", "99999"]))
    if draw(st.booleans()):
        chosen["X-Error-Code"] = draw(
            st.sampled_from(
                ["GatedRepo", "RepoNotFound", "RevisionNotFound", "EntryNotFound", "Weird"]
            )
        )
    if draw(st.booleans()):
        chosen["X-Error-Message"] = "\x1b[31mhf_secret0123456789abcd\x1b[0m"
    if draw(st.booleans()):
        chosen["Content-Range"] = draw(st.sampled_from(["bytes 0-1/2", "junk", "bytes */5"]))
    if draw(st.booleans()):
        chosen["Content-Type"] = "application/json"
    return chosen


@st.composite
def hostile_faults(draw: st.DrawFn, site: Site = "hf") -> list[Fault]:
    faults: list[Fault] = []
    api: FaultOrigin = "hub" if site == "hf" else "modelscope"
    cdn: FaultOrigin = "cdn" if site == "hf" else "ms-cdn"
    for _ in range(draw(st.integers(1, 4))):
        route = draw(st.sampled_from(ROUTES[site]))
        times = draw(st.sampled_from([1, 2, 3, None]))
        kind: FaultKind = draw(
            st.sampled_from(
                [
                    "answer",
                    "answer",
                    "answer",
                    "drop",
                    "reset",
                    "truncate",
                    "corrupt",
                    "ignore_range",
                    "status",
                    "drip",
                ]
            )
        )
        origin: FaultOrigin = cdn if route == "/lfs/" else api
        if kind == "answer":
            listing = ms_listing_bodies() if site == "modelscope" else tree_bodies()
            body = (
                draw(listing)
                if route in LISTINGS
                else draw(st.one_of(st.sampled_from(JSON_SHAPES), text))
            )
            faults.append(
                Fault(
                    "answer",
                    origin=origin,
                    path_contains=route,
                    times=times,
                    status=draw(st.sampled_from(STATUSES)),
                    headers=draw(headers()),
                    body=body,
                )
            )
        elif kind == "status":
            faults.append(
                Fault(
                    "status",
                    origin=origin,
                    path_contains=route,
                    times=times,
                    status=draw(st.sampled_from(STATUSES[7:])),
                    retry_after=draw(st.sampled_from([None, 0.0])),
                )
            )
        elif kind == "drip":
            faults.append(Fault("drip", origin=cdn, seconds=0.01, times=1))
        else:
            faults.append(
                Fault(
                    kind,
                    origin="any",
                    path_contains=route,
                    times=times,
                    after_bytes=draw(st.integers(0, 5000)),
                )
            )
    return faults


@dataclass
class HostileReply:
    status: int
    headers: dict[str, str]
    body: bytes
    pos: int = 0
    fail_after: int | None = None

    def readinto(self, buffer: memoryview) -> int:
        if self.fail_after is not None and self.pos >= self.fail_after:
            raise TransportError("connection reset by the hostile server")
        count = min(len(buffer), len(self.body) - self.pos)
        if self.fail_after is not None:
            count = min(count, self.fail_after - self.pos)
        buffer[:count] = self.body[self.pos : self.pos + count]
        self.pos += count
        return count

    def read_text(self, limit: int = 65536) -> str:
        return self.body[:limit].decode("utf-8", "replace")

    def close(self) -> None:
        self.pos = len(self.body)

    def abort(self) -> None:
        self.close()

    def __enter__(self) -> HostileReply:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@dataclass
class HostileTransport:
    """Answers each request with the next reply drawn by ``seed``: sometimes the true bytes
    (or a range of them), sometimes another status, a redirect, a lie, a cut body."""

    seed: int
    truth: bytes
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(self, method: str, url: str, headers: Mapping[str, str]) -> HostileReply:
        with self.lock:
            self.requests += 1
            rng = random.Random(self.seed * 7919 + self.requests)
        if self.requests > 200 or rng.random() < 0.35:  # enough hostility: answer truly
            return self._true(headers.get("range"))
        choice = rng.choice(["status", "redirect", "lie", "cut", "wrong", "garbage", "raise"])
        if choice == "raise":
            raise TransportError("connection refused by the hostile server")
        if choice == "status":
            return HostileReply(rng.choice(STATUSES[7:]), {"retry-after": "0"}, b"no")
        if choice == "redirect":
            location = rng.choice([url, "http://127.0.0.1:99999/", "memory://x/y", "", "/a"])
            return HostileReply(rng.choice([301, 302, 307]), {"location": location}, b"")
        true = self._true(headers.get("range"))
        if choice == "lie":  # 206 without honouring the range, or 200 to a range
            return HostileReply(rng.choice([200, 206]), {}, self.truth)
        if choice == "cut":
            true.fail_after = rng.randrange(0, max(1, len(true.body)))
            return true
        if choice == "wrong":  # bytes of the right length, not the right bytes
            return HostileReply(true.status, true.headers, bytes(b ^ 1 for b in true.body))
        return HostileReply(200, {}, rng.randbytes(rng.randrange(0, 4096)))

    def _true(self, header: str | None) -> HostileReply:
        if not header:
            return HostileReply(200, {}, self.truth)
        first, _, last = header.removeprefix("bytes=").partition("-")
        start, end = int(first), min(int(last or len(self.truth) - 1), len(self.truth) - 1)
        return HostileReply(206, {}, self.truth[start : end + 1])

    def close(self) -> None:
        pass
