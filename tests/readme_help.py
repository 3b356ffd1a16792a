"""The README's command reference is the real `--help` of every command (tests/test_readme.py)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from modelpm.cli.main import app

COMMANDS = (
    (),
    ("init",),
    ("add",),
    ("remove",),
    ("lock",),
    ("sync",),
    ("verify",),
    ("status",),
    ("outdated",),
    ("store", "path"),
    ("store", "verify"),
    ("store", "gc"),
)


def help_reference() -> str:
    """Every command's help as `modelpm … --help` prints it 100 columns wide."""
    runner = CliRunner()
    blocks = []
    for command in COMMANDS:
        result = runner.invoke(
            app, [*command, "--help"], env={"COLUMNS": "100"}, terminal_width=100
        )
        assert result.exit_code == 0, result.output
        lines = [line.rstrip() for line in result.stdout.strip("\n").splitlines()]
        blocks.append("$ " + " ".join(("modelpm", *command, "--help")) + "\n" + "\n".join(lines))
    return "\n\n".join(blocks)


def write_readme(readme: Path) -> None:
    """Put the current help texts between the README's help markers."""
    text = readme.read_text(encoding="utf-8")
    start, end = "<!-- help:begin -->\n", "<!-- help:end -->"
    head, rest = text.split(start, 1)
    _old, tail = rest.split(end, 1)
    readme.write_text(
        f"{head}{start}```text\n{help_reference()}\n```\n{end}{tail}", encoding="utf-8"
    )


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--write"]:
        write_readme(Path(__file__).resolve().parent.parent / "README.md")
    else:
        print(help_reference())
