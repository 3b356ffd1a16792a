"""``modelpm store path|verify|gc``: the store this project (or this machine) uses."""

from __future__ import annotations

from pathlib import Path

from modelpm.config import Config, build_config
from modelpm.errors import ProjectNotFoundError
from modelpm.project.session import PathLike, open_view
from modelpm.store.local import Store
from modelpm.store.maintenance import GcReport, StoreCheck, collect_garbage
from modelpm.store.maintenance import verify_store as _verify


def store_root(project: PathLike | None = None) -> Path:
    """The store this project (or, outside any project, this machine) uses."""
    return project_or_machine_config(project).store_root


def project_or_machine_config(project: PathLike | None = None) -> Config:
    """The configuration of the project (or, outside any project, of this machine)."""
    try:
        return open_view(project).config
    except ProjectNotFoundError:
        if project is not None:
            raise
    return build_config(None, None)


def verify_store(project: PathLike | None = None, *, remove_corrupt: bool = False) -> StoreCheck:
    """Re-hash every object in the store."""
    return _verify(Store(store_root(project)), remove_corrupt=remove_corrupt)


def gc_store(project: PathLike | None = None, *, dry_run: bool = False) -> GcReport:
    """Remove store objects that no registered project's lock references."""
    return collect_garbage(Store(store_root(project)), dry_run=dry_run)
