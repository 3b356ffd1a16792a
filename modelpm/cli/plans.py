"""What ``lock``, ``add`` and ``--dry-run`` print about a resolution and a sync plan.

locked bert: google-bert/bert-base-uncased @ main → 86b5e0934494 (7 files, 441.1 MB)
  skipped pytorch_model.bin, tf_model.h5, flax_model.msgpack, rust_model.ot: 2.4 GB
  note: no PyTorch weights: kept TensorFlow
would lock bert: …                                       (--dry-run)
would fetch 3 files (441.1 MB), place 2 from the store, keep 4, remove 1   (sync --dry-run)
"""

from __future__ import annotations

from rich.console import Console

from modelpm.cli.common import human_size, plural
from modelpm.lockfile.model import LockedModel
from modelpm.plan.planner import SyncPlan
from modelpm.resolve.resolver import Resolved
from modelpm.workflow.results import LockResult

SHOWN = 6  # files named in a "skipped" line; the rest are counted


def print_locked(console: Console, result: LockResult, *, verb: str = "locked") -> None:
    """One line per resolved model, then what its weights choice left out."""
    for name in result.resolved:
        model = result.lock.get(name)
        assert model is not None
        console.print(f"{verb} {name}: {describe(model)}", markup=False)
        print_skipped(console, result.details.get(name))
    for name in result.removed:
        console.print(f"{'would remove' if result.dry_run else 'removed'} {name} from models.lock")
    print_renames(console, result.renamed)


def print_renames(console: Console, renamed: tuple[tuple[str, str], ...]) -> None:
    """One hint per renamed repo: the lock keeps the manifest's id, the source has a new one."""
    for name, canonical in renamed:
        console.print(
            f'hint: the repo of {name} is now called {canonical}; write repo = "{canonical}" '
            "in models.toml (the old id still works, by redirect)",
            markup=False,
        )


def describe(model: LockedModel) -> str:
    return (
        f"{model.repo} @ {model.revision} → {model.commit[:12]} "
        f"({plural(len(model.files), 'file')}, {human_size(model.total_size)})"
    )


def print_skipped(console: Console, resolved: Resolved | None) -> None:
    if resolved is None:
        return
    if resolved.skipped:
        names = grouped([path for path, _size, _reason in resolved.skipped])
        shown = ", ".join(names[:SHOWN])
        more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
        console.print(
            f"  skipped {shown}{more}: {human_size(resolved.skipped_bytes)}", markup=False
        )
    for note in resolved.notes:
        console.print(f"  note: {note}", markup=False)


def grouped(paths: list[str]) -> list[str]:
    """Paths, with several under one top folder shown as ``onnx/ (3 files)``."""

    def folder(path: str) -> str:
        return path.split("/", 1)[0] + "/" if "/" in path else path

    counts: dict[str, int] = {}
    for path in paths:
        counts[folder(path)] = counts.get(folder(path), 0) + 1
    shown: list[str] = []
    for path in paths:
        name = (
            f"{folder(path)} ({counts[folder(path)]} files)" if counts[folder(path)] > 1 else path
        )
        if name not in shown:
            shown.append(name)
    return shown


def print_plan(console: Console, plan: SyncPlan) -> None:
    """The four buckets of a sync plan, and the removals, as one line."""
    parts = []
    if plan.fetch:
        parts.append(f"fetch {plural(len(plan.fetch), 'file')} ({human_size(plan.fetch_bytes)})")
    if plan.place:
        parts.append(f"place {len(plan.place)} from the store")
    if plan.check:
        parts.append(f"check {len(plan.check)} already there")
    if plan.keep:
        parts.append(f"keep {len(plan.keep)}")
    if plan.remove:
        parts.append(f"remove {len(plan.remove)}")
    console.print("would " + ", ".join(parts) if parts else "nothing to do", markup=False)
    for task in plan.fetch:
        console.print(f"  fetch {task.target} ({human_size(task.size)})", markup=False)
    for task in plan.place:
        console.print(f"  place {task.target}", markup=False)
    for target in plan.remove:
        console.print(f"  remove {target}", markup=False)
