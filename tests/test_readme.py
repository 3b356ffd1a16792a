"""The README shows what the code does: its command reference is the real `--help` output,
and its test command is the one CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from readme_help import help_reference

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"<!-- help:begin -->\n```text\n(.*?)```\n<!-- help:end -->", re.S)


def test_the_command_reference_is_the_real_help() -> None:
    match = BLOCK.search(README.read_text(encoding="utf-8"))
    assert match, "README lacks the help block"
    assert match.group(1) == help_reference() + "\n", (
        "README's command reference is out of date; regenerate it with "
        "`python tests/readme_help.py --write`"
    )


def test_the_readme_test_command_is_the_one_ci_runs() -> None:
    readme = README.read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pytest" in readme and "python -m pytest" in ci
