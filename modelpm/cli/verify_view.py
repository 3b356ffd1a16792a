"""How ``modelpm verify`` prints its report: a line per model that passed and per file that
did not, or JSON with ``--json``; and the exit code.

Imports rich and nothing of typer: :mod:`modelpm.entry` prints from here before the CLI
framework loads, and the full CLI prints from here too.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from modelpm.cli.consoles import stderr, stdout
from modelpm.verification import VerifyReport


def print_verify(report: VerifyReport, json_output: bool) -> int:
    """Print ``report``; 0 when every file matches, else 1."""
    if json_output:
        payload = {"passed": report.passed, "models": [asdict(check) for check in report.models]}
        stdout.print_json(json.dumps(payload))
    else:
        for check in report.models:
            if check.passed:
                stderr.print(f"ok {check.name}: {len(check.ok)} files match ({check.dest})")
                continue
            for kind in ("missing", "modified", "unexpected"):
                for path in getattr(check, kind):
                    stderr.print(f"{kind} {check.name}: {check.dest}/{path}", markup=False)
    if report.passed:
        return 0
    if not json_output:
        stderr.print(f"hint: {_hint(report)}", markup=False)
    return 1


def _hint(report: VerifyReport) -> str:
    broken = any(check.missing or check.modified for check in report.models)
    strangers = any(check.unexpected for check in report.models)
    hints = []
    if broken:
        hints.append("run `modelpm sync` to restore missing and modified files")
    if strangers:
        hints.append("move unexpected files out of the model folders (modelpm never deletes them)")
    return "; ".join(hints)
