"""The ``modelpm`` command's entry point: a no-op ``sync`` answered before the CLI loads.

``modelpm sync`` on a synced project is what CI jobs and scripts run most, and it
should cost next to nothing. The library answers it with one ``stat`` per file
in a few milliseconds, but typer and rich take ~0.15 s to import and to build
their parameter parsers. So the entry point first tries :func:`answer_noop_sync`:
it accepts only the plain spellings of ``sync`` (names and the flags in
:data:`SYNC_FLAGS` / :data:`SYNC_OPTIONS`) and answers only when
:func:`modelpm.workflow.syncing.in_sync` says there is nothing to do. Anything else — help,
an unknown flag, a bad value, an error, real work — goes to the full CLI, which
parses the arguments again and reports exactly as it always does.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

# Flags of `modelpm sync` that do not change what a no-op sync prints: `--locked` and
# `--offline` forbid resolving and downloading, which a no-op sync does neither of; `--push`
# uploads what a sync fetched and `--no-remote` stops it asking the remote store: a no-op
# sync fetches nothing.
SYNC_FLAGS = frozenset(
    {
        "--quiet",
        "-q",
        "--verbose",
        "-v",
        "--locked",
        "--frozen",
        "--offline",
        "--push",
        "--no-remote",
    }
)
# Options that take a value; the value is validated here as the CLI would.
SYNC_OPTIONS = frozenset({"--project", "--jobs", "-j", "--connections"})
# Flags that always need the CLI: `--dry-run` prints the plan, even of a no-op.
SYNC_FOR_THE_CLI = frozenset({"--dry-run"})


def answer_noop_sync(argv: Sequence[str]) -> bool:
    """Print the no-op answer and return True if ``argv`` is a ``sync`` with nothing to do."""
    if not argv or argv[0] != "sync":
        return False
    flags: set[str] = set()
    values: dict[str, str] = {}
    names: list[str] = []
    rest = list(argv[1:])
    while rest:
        arg = rest.pop(0)
        option, equals, value = arg.partition("=")
        if option in SYNC_OPTIONS:
            if equals and not option.startswith("--"):
                return False  # click reads `-j=4` as the value "=4"; let it say so
            if not equals:
                if not rest:
                    return False
                value = rest.pop(0)
            values[option] = value
        elif arg in SYNC_FLAGS:
            flags.add(arg)
        elif arg.startswith("-"):
            return False  # --help, `--`, a typo: the CLI knows what to say
        else:
            names.append(arg)
    for option in ("--jobs", "-j", "--connections"):
        if option in values and not (values[option].isdigit() and int(values[option]) >= 1):
            return False
    from modelpm.cli.messages import noop_message
    from modelpm.errors import ModelpmError
    from modelpm.workflow.syncing import in_sync

    project = values.get("--project")
    try:
        in_place = in_sync(
            names, project=Path(project) if project else None, frozen="--frozen" in flags
        )
    except (ModelpmError, OSError):
        return False
    if in_place is None:
        return False
    if not flags & {"--quiet", "-q"}:
        print(noop_message(in_place), file=sys.stderr)
    return True


def main() -> None:
    """Console-script entry point: ``modelpm …``."""
    # With telemetry on, huggingface_hub fetches an agent registry from HF_ENDPOINT (by
    # default huggingface.co, whatever endpoint modelpm was given) to build its user agent,
    # waiting up to 3 s where that host is unreachable. modelpm talks to one endpoint only.
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    # huggingface_hub logs its own retries as warnings; modelpm reports what happened in
    # one error line when it matters, so the client's chatter stays out of the output.
    os.environ.setdefault("HF_HUB_VERBOSITY", "error")
    if sys.argv[1:] == ["--version"]:
        from modelpm.version import version_line

        print(version_line())
        return
    if answer_noop_sync(sys.argv[1:]):
        return
    from modelpm.cli.main import main as cli_main

    cli_main()
