"""The ``modelpm`` command's entry point: a no-op ``sync``, a synced project's ``status``
and ``verify`` answered before the CLI loads.

``modelpm sync`` on a synced project is what CI jobs and scripts run most, ``status`` is
what people type to see where they are, and ``verify`` is what a job runs before it
trusts its models. At 50,000 files the library answers the first two from one ``stat``
per file, while typer and pydantic take ~0.25 s to import and to build their parameter
parsers: a third to a half of the whole. So the entry point first tries three answers,
each accepting only the plain spellings of its command (the flags and options listed
here):

- :func:`answer_noop_sync`, only when :func:`modelpm.workflow.syncing.in_sync` says there
  is nothing to do;
- :func:`answer_synced_status`, only when the last whole sync still holds;
- :func:`answer_verify`, whenever verify runs without an error.

Anything else — help, an unknown flag, a bad value, an error, real work — goes to the
full CLI, which parses the arguments again and reports exactly as it always does.
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


# `status` prints the same with any of these; anything else (`--help`, a name) is the CLI's.
STATUS_FLAGS = frozenset({"--json"})
STATUS_OPTIONS = frozenset({"--project"})
# All of `verify`'s flags and options but `--help`.
VERIFY_FLAGS = frozenset({"--json"})
VERIFY_OPTIONS = frozenset({"--project", "--jobs", "-j"})


def answer_noop_sync(argv: Sequence[str]) -> bool:
    """Print the no-op answer and return True if ``argv`` is a ``sync`` with nothing to do."""
    parsed = _plain_command(argv, "sync", SYNC_FLAGS, SYNC_OPTIONS)
    if parsed is None or not _counts(parsed[1], ("--jobs", "-j", "--connections")):
        return False
    flags, values, names = parsed
    from modelpm.cli.messages import noop_message
    from modelpm.errors import ModelpmError
    from modelpm.workflow.syncing import in_sync

    try:
        in_place = in_sync(names, project=_project(values), frozen="--frozen" in flags)
    except (ModelpmError, OSError):
        return False
    if in_place is None:
        return False
    if not flags & {"--quiet", "-q"}:
        print(noop_message(in_place), file=sys.stderr)
    return True


def answer_synced_status(argv: Sequence[str]) -> bool:
    """Print ``status`` and return True if ``argv`` is a ``status`` of a project whose last
    whole sync still holds (every row then comes from what that sync recorded)."""
    parsed = _plain_command(argv, "status", STATUS_FLAGS, STATUS_OPTIONS)
    if parsed is None or parsed[2]:
        return False  # `status` takes no names: the CLI says so
    flags, values, _names = parsed
    from modelpm.errors import ModelpmError
    from modelpm.workflow.reading import synced_status

    try:
        rows = synced_status(_project(values))
    except (ModelpmError, OSError):
        return False
    if rows is None:
        return False
    from modelpm.cli.status_view import print_status

    print_status(rows, json_output="--json" in flags)
    return True


def answer_verify(argv: Sequence[str]) -> int | None:
    """Verify and print the report if ``argv`` is a plainly spelled ``verify``; its exit
    code, or None for the CLI (which also reports every error: one found before a file is
    hashed costs nothing to find again)."""
    parsed = _plain_command(argv, "verify", VERIFY_FLAGS, VERIFY_OPTIONS)
    if parsed is None or not _counts(parsed[1], ("--jobs", "-j")):
        return None
    flags, values, names = parsed
    jobs = [values[option] for option in ("--jobs", "-j") if option in values]
    if len(jobs) > 1:
        return None  # both spellings: the CLI takes the last one; let it
    from modelpm.cli.consoles import INTERRUPTED, print_failure
    from modelpm.errors import ModelpmError
    from modelpm.workflow.reading import verify

    try:
        report = verify(names, project=_project(values), jobs=int(jobs[0]) if jobs else None)
    except ModelpmError:
        return None
    except KeyboardInterrupt:
        return print_failure(INTERRUPTED)
    from modelpm.cli.verify_view import print_verify

    return print_verify(report, json_output="--json" in flags)


def _plain_command(
    argv: Sequence[str], command: str, known_flags: frozenset[str], known_options: frozenset[str]
) -> tuple[set[str], dict[str, str], list[str]] | None:
    """:func:`_plain_arguments` of ``argv`` if it is ``command``'s, else None."""
    if not argv or argv[0] != command:
        return None
    return _plain_arguments(argv[1:], known_flags, known_options)


def _counts(values: dict[str, str], options: Sequence[str]) -> bool:
    """True if each of ``options`` given is a whole number of at least 1, as the CLI wants."""
    return all(
        values[option].isdigit() and int(values[option]) >= 1
        for option in options
        if option in values
    )


def _plain_arguments(
    args: Sequence[str], known_flags: frozenset[str], known_options: frozenset[str]
) -> tuple[set[str], dict[str, str], list[str]] | None:
    """The flags, option values and names in ``args``, if every one is spelled plainly;
    None for anything the CLI should answer (an unknown flag, a missing value, ``--``)."""
    flags: set[str] = set()
    values: dict[str, str] = {}
    names: list[str] = []
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        option, equals, value = arg.partition("=")
        if option in known_options:
            if equals and not option.startswith("--"):
                return None  # click reads `-j=4` as the value "=4"; let it say so
            if not equals:
                if not rest:
                    return None
                value = rest.pop(0)
            values[option] = value
        elif arg in known_flags:
            flags.add(arg)
        elif arg.startswith("-"):
            return None  # --help, `--`, a typo: the CLI knows what to say
        else:
            names.append(arg)
    return flags, values, names


def _project(values: dict[str, str]) -> Path | None:
    project = values.get("--project")
    return Path(project) if project else None


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
    if answer_noop_sync(sys.argv[1:]) or answer_synced_status(sys.argv[1:]):
        return
    code = answer_verify(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from modelpm.cli.main import main as cli_main

    cli_main()
