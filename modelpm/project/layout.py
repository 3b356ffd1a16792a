"""A project on disk: where models.toml, models.lock and the private state are.

Layout::

    <root>/models.toml        the manifest (hand-written, committed)
    <root>/models.lock        the lock (generated, committed)
    <root>/.modelpm/          private, machine-specific state (ignored by git)
        state.sqlite          what sync placed: per file size, mtime, inode, hash
        sync.lock             held by the one command changing the project
        .gitignore            "*"
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from modelpm.errors import ProjectNotFoundError
from modelpm.lockfile.io import LOCK_NAME
from modelpm.manifest.model import MANIFEST_NAME

STATE_DIR = ".modelpm"


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST_NAME

    @property
    def lock_path(self) -> Path:
        return self.root / LOCK_NAME

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR


def find_project(project: Path | None = None, start: Path | None = None) -> Project:
    """The project in ``project``, or the nearest folder from ``start`` up with a models.toml."""
    if project is not None:
        root = project.expanduser().resolve()
        if not (root / MANIFEST_NAME).is_file():
            raise ProjectNotFoundError(
                f"no {MANIFEST_NAME} in {root}", hint="run `modelpm init` there first"
            )
        return Project(root)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MANIFEST_NAME).is_file():
            return Project(folder)
    raise ProjectNotFoundError(
        f"no {MANIFEST_NAME} in {here} or any folder above it",
        hint="run `modelpm init` to start a project, or pass --project DIR",
    )
