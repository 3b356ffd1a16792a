"""``modelpm audit``: what could run code in each locked model, and what the policy refuses."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

import typer

from modelpm import api
from modelpm.cli.common import JsonOption, NamesArgument, ProjectOption, run, stderr, stdout

if TYPE_CHECKING:  # loaded when the command runs, not for every command's parser
    from modelpm.workflow.auditing import ModelAudit

SHOWN = 4  # imports named per pickle; the rest are counted


def audit(
    names: NamesArgument = None, project: ProjectOption = None, json_output: JsonOption = False
) -> None:
    """Files that can run code on load: pickles and what they import, repo code, auto_map.

    Pickles (.bin, .pt, .pth, .ckpt, .pkl, joblib) are scanned with picklescan, once per
    store object; *.py files and auto_map entries are listed, and code named in another
    repo is reported as not pinned. Exit 1 when the policy (allow-unsafe-pickle,
    allow-remote-code) refuses something.

    \b
    Examples:
      modelpm audit
      modelpm audit bert --json | jq '.models[].files[] | select(.dangerous != [])'
    """
    report = run(lambda: api.audit(names or (), project=project))
    if json_output:
        payload = {"passed": report.passed, "models": [asdict(m) for m in report.models]}
        stdout.print_json(json.dumps(payload))
    else:
        for model in report.models:
            _print_model(model)
    if not report.passed:
        if not json_output:
            stderr.print(
                "hint: if you trust these files, set allow-unsafe-pickle = true or "
                "allow-remote-code = true in the model's table",
                markup=False,
            )
        raise typer.Exit(1)


def _print_model(model: ModelAudit) -> None:
    out = stdout
    clean = not (model.files or model.code)
    out.print(
        f"{model.name}: {model.repo} @ {model.commit[:12]}"
        + (": nothing runs code on load" if clean else ""),
        markup=False,
    )
    for item in model.files:
        if item.kind == "python":
            out.print(f"  {item.path}: Python code", markup=False)
            continue
        hub = f" (hub scan: {item.hub_status})" if item.hub_status else ""
        if item.error:
            out.print(f"  {item.path}: {item.error}{hub}", markup=False)
            continue
        shown = ", ".join(item.imports[:SHOWN]) or "no imports"
        more = f" and {len(item.imports) - SHOWN} more" if len(item.imports) > SHOWN else ""
        danger = f"; DANGEROUS: {', '.join(item.dangerous)}" if item.dangerous else ""
        out.print(f"  {item.path}: pickle importing {shown}{more}{danger}{hub}", markup=False)
    for code in model.code:
        where = (
            ""
            if code.repo is None
            else f" (from {code.repo}{'' if code.pinned else ', not pinned'})"
        )
        out.print(f"  {code.file}: auto_map {code.key} → {code.reference}{where}", markup=False)
    for line in model.refused:
        out.print(f"  refused: {line}", markup=False)
    for note in model.notes:
        out.print(f"  note: {note}", markup=False)
