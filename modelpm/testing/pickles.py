"""Crafted pickles, benign and malicious, written opcode by opcode (nothing here unpickles).

For the audit's tests and the scanner benchmark (``benchmarks/pickle_scanners.py``)::

    call("posix", "system", "echo pwned")        GLOBAL + REDUCE, the classic
    call("os", "system", "x", protocol=0)        the same in protocol 0 text
    stack_global("builtins", "exec", "…")        protocol 4 STACK_GLOBAL
    memo_global("subprocess", "Popen", "…")      STACK_GLOBAL fed from the memo (obfuscated)
    nested(call(...))                            pickle.loads of a malicious pickle
    torch_zip({"data.pkl": call(...)})           a ``torch.save`` zip archive
    benign_state_dict()                          what a weights file looks like

Every result is a complete, valid opcode stream (``pickletools.dis`` reads it).
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Mapping

PROTO, STOP, GLOBAL, STACK_GLOBAL, REDUCE = b"\x80", b".", b"c", b"\x93", b"R"
MARK, TUPLE, EMPTY_DICT, SETITEMS, MEMOIZE = b"(", b"t", b"}", b"u", b"\x94"
BINGET, BININT1, BINBYTES = b"h", b"K", b"B"


def text(value: str) -> bytes:
    """SHORT_BINUNICODE (or BINUNICODE for long strings)."""
    data = value.encode()
    if len(data) < 256:
        return b"\x8c" + bytes([len(data)]) + data
    return b"X" + struct.pack("<I", len(data)) + data


def _args(args: tuple[str | bytes, ...]) -> bytes:
    out = MARK
    for arg in args:
        out += text(arg) if isinstance(arg, str) else BINBYTES + struct.pack("<I", len(arg)) + arg
    return out + TUPLE


def call(module: str, name: str, *args: str | bytes, protocol: int = 2) -> bytes:
    """A pickle that calls ``module.name(*args)`` when loaded."""
    if protocol == 0:
        quoted = "".join(f"S'{arg}'\n" for arg in args if isinstance(arg, str))
        return f"c{module}\n{name}\n({quoted}tR.".encode()
    head = GLOBAL + f"{module}\n{name}\n".encode()
    return PROTO + bytes([protocol]) + head + _args(args) + REDUCE + STOP


def stack_global(module: str, name: str, *args: str) -> bytes:
    """``module.name(*args)`` through protocol 4's STACK_GLOBAL."""
    head = text(module) + MEMOIZE + text(name) + MEMOIZE + STACK_GLOBAL + MEMOIZE
    return PROTO + b"\x04" + head + _args(args) + REDUCE + STOP


def memo_global(module: str, name: str, *args: str) -> bytes:
    """STACK_GLOBAL whose operands come from the memo, after unrelated strings."""
    setup = text(module) + MEMOIZE + text("decoy") + MEMOIZE + text(name) + MEMOIZE
    # Drop the three strings from the stack, then fetch module (0) and name (2) back.
    pops = b"0" * 3
    head = setup + pops + BINGET + b"\x00" + BINGET + b"\x02" + STACK_GLOBAL
    return PROTO + b"\x04" + head + _args(args) + REDUCE + STOP


def nested(inner: bytes) -> bytes:
    """``pickle.loads(inner)``: a malicious pickle inside a harmless-looking one."""
    return call("pickle", "loads", inner)


def getattr_chain(module: str, name: str, arg: str) -> bytes:
    """``getattr(importlib.import_module(module), name)(arg)``: no dangerous global named."""
    load = GLOBAL + b"importlib\nimport_module\n" + _args((module,)) + REDUCE
    get = GLOBAL + b"builtins\ngetattr\n" + MARK + load + text(name) + TUPLE + REDUCE
    return PROTO + b"\x02" + get + _args((arg,)) + REDUCE + STOP


def benign_state_dict(entries: int = 3) -> bytes:
    """``collections.OrderedDict`` of small ints: the shape of a harmless pickle."""
    body = GLOBAL + b"collections\nOrderedDict\n" + MARK + TUPLE + REDUCE + MARK
    for index in range(entries):
        body += text(f"layer.{index}") + BININT1 + bytes([index])
    return PROTO + b"\x02" + body + SETITEMS + STOP


def torch_zip(members: Mapping[str, bytes], root: str = "archive") -> bytes:
    """A ``torch.save``-style zip archive holding ``members`` under ``root/``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{root}/version", b"3\n")
        for name, data in members.items():
            archive.writestr(f"{root}/{name}", data)
    return buffer.getvalue()


def concatenated(*pickles: bytes) -> bytes:
    """Several pickles in one file, as the legacy ``torch.save`` format writes them."""
    return b"".join(pickles)
