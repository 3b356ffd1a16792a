"""Reading the lock's file lines without a TOML parser: the no-op path at 50,000 files.

``tomllib`` is pure Python and spends ~25 µs on each inline table, which at 50,000 files
is over a second on every ``sync``, ``status`` and ``verify``. Yet almost all of a lock
is lines that :mod:`modelpm.lockfile.render` wrote in one fixed shape::

    files = [
      { path = "config.json", size = 570, git-sha1 = "45a2…" },
    ]

So a ``files`` array of a ``[[model]]`` whose every line has exactly that shape (a plain
string with no escape, a decimal size, a lowercase hex digest) is read with one regular
expression per line and left out of what ``tomllib`` sees; everything else, and any
array with a single line of another shape, goes to ``tomllib`` as it is. Such lines mean
the same in TOML, so the result is the same dictionary ``tomllib`` would give (a
property test holds the two against each other). A lock with a multi-line string, where
a line is not what it looks like, is left to ``tomllib`` whole.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from modelpm import tomlcompat

_FILE_LINE = re.compile(
    r'  \{ path = "([^"\\\x00-\x1f\x7f]+)", size = (0|[1-9][0-9]{0,15}), '
    r'(sha256|git-sha1) = "([0-9a-f]+)" \},'
)
_OPEN = "files = ["


# One rendered file line as written: its path, size (decimal digits), algorithm and digest.
FileLine = tuple[str, str, str, str]


def loads_lock(text: str) -> dict[str, Any]:
    """``tomllib.loads(text)``, the rendered file lines read without it."""
    data, lifted = lift_file_lines(text)
    if lifted:
        _put_back(data, {marker: file_tables(lines) for marker, lines in lifted.items()})
    return data


def lift_file_lines(text: str) -> tuple[dict[str, Any], dict[str, list[FileLine]]]:
    """``tomllib.loads(text)`` with each rendered ``files`` array read without it: a marker
    string stands in the array's place, the key to its lines in the second value.

    :mod:`modelpm.lockfile.parse` builds the lock's files straight from those lines."""
    if '"""' in text or "'''" in text:
        return tomlcompat.loads(text), {}
    # Each lifted array leaves a string in its place that no lock can hold by chance.
    marker = f"modelpm-lifted-{secrets.token_hex(16)}-"
    lines = text.split("\n")
    kept: list[str] = []
    lifted: dict[str, list[FileLine]] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if line == _OPEN:
            files, end = _file_lines(lines, index)
            if files is not None:
                name = f"{marker}{len(lifted)}"
                lifted[name] = files
                kept.append(f'files = "{name}"')
                index = end + 1
                continue
        kept.append(line)
    try:
        return tomlcompat.loads("\n".join(kept)), lifted
    except tomlcompat.TOMLDecodeError:
        return tomlcompat.loads(text), {}  # raises again, with the line numbers of the file


def file_tables(lines: list[FileLine]) -> list[dict[str, Any]]:
    """The inline tables ``tomllib`` reads from ``lines``."""
    return [
        {"path": path, "size": int(size), algorithm: digest}
        for path, size, algorithm, digest in lines
    ]


def _file_lines(lines: list[str], start: int) -> tuple[list[FileLine] | None, int]:
    """The file lines from ``start`` to the closing ``]`` if every one has the rendered
    shape (and that line's index), else None."""
    files: list[FileLine] = []
    match = _FILE_LINE.fullmatch
    for index in range(start, len(lines)):
        line = lines[index]
        if line == "]":
            return files, index
        found = match(line)
        if found is None:
            return None, index
        files.append(found.groups())  # type: ignore[arg-type]  # four groups, all always set
    return None, len(lines)


def _put_back(value: Any, lifted: dict[str, list[dict[str, Any]]]) -> None:
    """Each marker string, wherever TOML put it, replaced by the files it stands for."""
    if isinstance(value, dict):
        for key, child in value.items():
            if isinstance(child, str) and child in lifted:
                value[key] = lifted[child]  # files: no marker in them to look for
            elif isinstance(child, (dict, list)):
                _put_back(child, lifted)
    elif isinstance(value, list):
        for child in value:
            if isinstance(child, (dict, list)):
                _put_back(child, lifted)
