"""File bodies on the wire: ``Range`` parsing, streaming, and the body faults.

    parse_range("bytes=100-199", 5000)   (100, 199)       inclusive, as HTTP counts
    parse_range("bytes=-10", 5000)       (4990, 4999)     a suffix
    parse_range("bytes=0-1,5-9", 5000)   None             not understood: the whole body
    parse_range("bytes=5000-", 5000)     Unsatisfiable    the caller answers 416
    stream(sock, file, start, length, faults, count)  ->  "drop" | "reset" | None

Invariants: without a body fault the kernel copies the bytes (``sendfile``), so a
benchmark measures the client, not this server, and a 1 GiB body costs no memory;
with faults the body goes out in chunks cut so that each fault lands on its exact
byte offset. ``count`` hears of bytes before they are handed to the socket (and is
corrected if ``sendfile`` sent fewer), so the stats never lag behind the client.
"""

from __future__ import annotations

import os
import select
import socket
import time
from collections.abc import Callable
from typing import BinaryIO, Literal

from modelpm.testing.faults import Fault

Cut = Literal["drop", "reset"]
_CHUNK = 1024 * 1024


class Unsatisfiable(Exception):
    """The range starts at or past the end of the body (HTTP 416)."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end) inclusive from a Range header, None for the whole body."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        return None
    first, _, last = spec.strip().partition("-")
    try:
        if first == "":
            start, end = max(0, size - int(last)), size - 1
        else:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
    except ValueError:
        return None
    if start >= size or start > end:
        raise Unsatisfiable
    return start, end


def stream(
    sock: socket.socket,
    handle: BinaryIO,
    start: int,
    length: int,
    faults: list[Fault],
    count: Callable[[int], None],
) -> Cut | None:
    """Send ``length`` bytes of ``handle`` from ``start``; return how to end the connection."""
    if not faults:
        send_counted(sock, handle, start, length, count)
        return None
    limit = length
    cut: Cut | None = None
    for fault in faults:
        if fault.kind in ("drop", "reset") and fault.after_bytes < limit:
            limit = fault.after_bytes
            cut = "reset" if fault.kind == "reset" else "drop"
        if fault.kind == "truncate" and length - 1 < limit:
            limit = length - 1
            cut = "drop"
    drip = next((f for f in faults if f.kind == "drip"), None)
    if drip is not None:  # one byte at a time, ``seconds`` apart: never a stall, never done
        for offset in range(start, start + limit):
            handle.seek(offset)
            count(1)
            sock.sendall(handle.read(1))
            time.sleep(drip.seconds)
        return cut
    stalls = sorted((f.after_bytes, f.seconds) for f in faults if f.kind == "stall")
    corrupt = {f.after_bytes for f in faults if f.kind == "corrupt"}
    rate = min((f.rate for f in faults if f.kind == "throttle" and f.rate > 0), default=0)
    chunk = _CHUNK if not rate else max(4096, min(_CHUNK, rate // 50))
    began = time.monotonic()
    sent = 0
    while sent < limit:
        step = min(chunk, limit - sent)
        for at, _seconds in stalls:
            if sent < at < sent + step:
                step = at - sent
        if stalls and stalls[0][0] == sent:
            time.sleep(stalls.pop(0)[1])
        if rate:  # a bucket: this chunk may leave once its bytes are "earned"
            wait = (sent + step) / rate - (time.monotonic() - began)
            if wait > 0:
                time.sleep(wait)
        if any(sent <= at < sent + step for at in corrupt):
            handle.seek(start + sent)
            data = bytearray(handle.read(step))
            for at in corrupt:
                if sent <= at < sent + len(data):
                    data[at - sent] ^= 0xFF
            sock.sendall(data)
            count(step)
        else:  # the kernel copies; the benchmark needs the server to stay cheap
            send_counted(sock, handle, start + sent, step, count)
        sent += step
    return cut


def send_counted(
    sock: socket.socket, handle: BinaryIO, offset: int, length: int, count: Callable[[int], None]
) -> None:
    """``length`` bytes of ``handle`` from ``offset`` by ``sendfile``, each piece counted as
    the kernel takes it: when a client hangs up mid-body, what was counted is what was sent."""
    out, source, end = sock.fileno(), handle.fileno(), offset + length
    while offset < end:
        try:
            sent = os.sendfile(out, source, offset, end - offset)
        except BlockingIOError:  # a socket with a timeout is non-blocking underneath
            if not select.select([], [out], [], sock.gettimeout())[1]:
                raise TimeoutError("the client stopped reading") from None
            continue
        if sent == 0:
            raise BrokenPipeError("the file ended before its length")
        count(sent)
        offset += sent
