"""The library API: what the CLI does, callable from Python.

    import modelpm
    modelpm.sync()                                  # like `modelpm sync`
    model = AutoModel.from_pretrained(modelpm.path("bert"))

Every function finds the project (``project=`` or the nearest models.toml
upward), returns a typed result and raises :class:`modelpm.errors.ModelpmError`
subclasses; none prints. The hub client, store and progress reporter can be
injected, which is how the tests drive it against the loopback test hub.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from modelpm.config import Config, env_seconds, resolve_config
from modelpm.errors import (
    LockfileError,
    ManifestError,
    NotSyncedError,
    ProjectNotFoundError,
    StaleLockError,
)
from modelpm.fsutil import remove_temp_files, storage_errors
from modelpm.hub import (
    Hub,
    HubClient,
    RepoRef,
    find_token,
    hub_offline_error,
    offline_from_env,
)
from modelpm.lockfile import LOCK_NAME, Digest, Lock, LockedModel, read_lock, write_lock
from modelpm.manifest import MANIFEST_NAME, Manifest, load_manifest
from modelpm.paths import outside_of
from modelpm.progress import Reporter
from modelpm.project import Project, State, find_project, read_state, write_state
from modelpm.resolve import LockOutcome, Staleness, lock_project, staleness
from modelpm.store import Store, default_store_root
from modelpm.syncing import SyncPlan, SyncReport, apply_sync, plan_sync, wanted_files

if TYPE_CHECKING:  # imported where used: a no-op `modelpm sync` never needs them
    from modelpm.store_maintenance import GcReport, StoreCheck
    from modelpm.verification import VerifyReport

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class LockResult:
    lock: Lock
    written: bool
    resolved: tuple[str, ...]
    kept: tuple[str, ...]
    removed: tuple[str, ...]
    staleness: Staleness


@dataclass(frozen=True)
class SyncResult:
    lock: LockResult | None
    plan: SyncPlan
    report: SyncReport


@dataclass(frozen=True)
class ModelStatus:
    name: str
    repo: str
    repo_type: str
    revision: str
    commit: str | None
    files: int
    size: int
    dest: str
    state: str  # one of STATES
    missing: int  # locked files not in place as sync left them (missing or changed)

    def describe(self) -> str:
        """The state in words, for a table."""
        if self.state == "partly-synced":
            return f"partly synced ({self.missing} of {self.files} files missing or changed)"
        return self.state.replace("-", " ")


# The states `status` reports, stable for --json: in place; some or all files missing or
# changed since sync placed them; not in models.lock yet; locked from another manifest entry.
STATES = ("synced", "partly-synced", "not-synced", "not-locked", "lock-stale")


@dataclass
class ProjectContext:
    """A found project, its parsed manifest and the settings of this run."""

    project: Project
    manifest: Manifest
    config: Config

    @property
    def store(self) -> Store:
        return Store(self.config.store_root)


def load_context(
    project: PathLike | None,
    store: PathLike | None = None,
    jobs: int | None = None,
    endpoint: str | None = None,
) -> ProjectContext:
    """Find the project (``project`` or upward from the current folder) and read its manifest."""
    found = find_project(Path(project) if project is not None else None)
    manifest = load_manifest(found.manifest_path)
    for spec in manifest.models:
        escape = outside_of(found.root, found.root / spec.dest)
        if escape is not None:
            raise ManifestError(
                f"{MANIFEST_NAME}: model {spec.name!r} dest {spec.dest!r} leads outside the "
                f"project through a symbolic link (to {escape})",
                hint="remove the link or choose another dest; modelpm writes only inside "
                "the project",
            )
    config = resolve_config(manifest, store=store, jobs=jobs, endpoint=endpoint)
    return ProjectContext(found, manifest, config)


def make_hub(endpoint: str) -> HubClient:
    if offline_from_env():
        raise hub_offline_error()
    backoff = env_seconds("MODELPM_RETRY_DELAY")
    return HubClient(endpoint, find_token(), backoff=0.5 if backoff is None else backoff)


def _check_names(manifest: Manifest, names: Sequence[str]) -> None:
    for name in names:
        manifest.model(name)


def lock(
    project: PathLike | None = None,
    *,
    upgrade: bool = False,
    upgrade_models: Sequence[str] = (),
    check: bool = False,
    hub: Hub | None = None,
    endpoint: str | None = None,
) -> LockResult:
    """Bring models.lock up to date with models.toml (``check``: only report, write nothing)."""
    ctx = load_context(project, endpoint=endpoint)
    return _lock(ctx, upgrade=upgrade, upgrade_models=upgrade_models, check=check, hub=hub)


def _lock(
    ctx: ProjectContext,
    *,
    upgrade: bool = False,
    upgrade_models: Sequence[str] = (),
    check: bool = False,
    hub: Hub | None = None,
) -> LockResult:
    previous = read_lock(ctx.project.lock_path)
    stale = staleness(ctx.manifest, previous)
    _check_names(ctx.manifest, upgrade_models)
    if check and not stale.is_fresh:
        raise StaleLockError(
            f"models.lock is out of date: {stale.describe()}", hint="run `modelpm lock`"
        )
    if check or (stale.is_fresh and not upgrade and not upgrade_models and previous is not None):
        unchanged = previous or Lock()
        kept = tuple(model.name for model in unchanged.models)
        return LockResult(unchanged, False, (), kept, (), stale)
    outcome: LockOutcome = lock_project(
        ctx.manifest,
        previous,
        hub or make_hub(ctx.config.endpoint),
        upgrade=upgrade,
        upgrade_models=upgrade_models,
    )
    written = write_lock(ctx.project.lock_path, outcome.lock)
    return LockResult(outcome.lock, written, outcome.resolved, outcome.kept, outcome.removed, stale)


@contextlib.contextmanager
def _project_lock(project: Project) -> Iterator[None]:
    """One sync at a time per project: the state file has a single writer."""
    from filelock import FileLock

    with storage_errors(project.state_dir, "create"):
        project.state_dir.mkdir(exist_ok=True)
        lock = FileLock(str(project.state_dir / "sync.lock"))
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def sync(
    names: Sequence[str] = (),
    *,
    project: PathLike | None = None,
    locked: bool = False,
    frozen: bool = False,
    offline: bool = False,
    jobs: int | None = None,
    connections: int | None = None,
    store: PathLike | None = None,
    reporter: Reporter | None = None,
    hub: Hub | None = None,
    endpoint: str | None = None,
) -> SyncResult:
    """Make every destination hold exactly the locked bytes, downloading only what is missing."""
    ctx = load_context(project, store=store, jobs=jobs, endpoint=endpoint)
    _check_names(ctx.manifest, names)
    offline = offline or offline_from_env()
    current, lock_result = _lock_for_sync(
        ctx, locked=locked, frozen=frozen, offline=offline, hub=hub
    )
    root = ctx.project.root
    the_store = ctx.store
    # The common case, nothing to do, needs no lock: the state file is replaced atomically.
    plan = _plan(ctx, current, names, read_state(ctx.project))
    if plan.is_noop:
        return SyncResult(lock_result, plan, SyncReport(kept=len(plan.keep)))
    with _project_lock(ctx.project):
        state = read_state(ctx.project)  # another sync may have finished while we waited
        plan = _plan(ctx, current, names, state, the_store.vouch)
        # Registered before anything lands, so `store gc` keeps what this sync fetches.
        the_store.register_project(root)
        # A run killed while replacing the state or the lock left a temp file beside it;
        # one younger than an hour may be a live writer's (`modelpm lock` takes no lock).
        remove_temp_files(ctx.project.state_dir, recursive=False, older_than=3600)
        remove_temp_files(root, of=LOCK_NAME, recursive=False, older_than=3600)
        try:
            if offline:
                report = apply_sync(
                    plan,
                    root=root,
                    store=the_store,
                    state=state,
                    fetcher=None,
                    jobs=ctx.config.jobs,
                    reporter=reporter,
                )
            else:
                report = _apply_online(ctx, plan, state, reporter, hub, connections)
        finally:
            write_state(ctx.project, state)
    return SyncResult(lock_result, plan, report)


def _lock_for_sync(
    ctx: ProjectContext, *, locked: bool, frozen: bool, offline: bool, hub: Hub | None
) -> tuple[Lock, LockResult | None]:
    """The lock a sync works from, re-locked first when stale and allowed to."""
    current = read_lock(ctx.project.lock_path)
    if frozen:
        if current is None:
            raise LockfileError(
                "--frozen needs models.lock, and there is none",
                hint="run `modelpm lock` and commit models.lock",
            )
        stale = staleness(ctx.manifest, current)
        if stale.missing or stale.orphaned:
            # The lock's pins are used as they are, but a file's dest comes from the manifest.
            raise StaleLockError(
                f"--frozen: models.lock and models.toml name different models: "
                f"{stale.describe(names_only=True)}",
                hint="run `modelpm lock` and commit models.lock",
            )
        return current, None
    stale = staleness(ctx.manifest, current)
    if stale.is_fresh:
        return current or Lock(), None
    if locked:
        raise StaleLockError(
            f"models.lock is out of date: {stale.describe()}",
            hint="run `modelpm lock` and commit models.lock, or drop --locked",
        )
    if offline:
        raise StaleLockError(
            f"models.lock is out of date and offline mode forbids resolving: {stale.describe()}",
            hint="run `modelpm lock` with network access",
        )
    result = _lock(ctx, hub=hub)
    return result.lock, result


def _plan(
    ctx: ProjectContext,
    current: Lock,
    names: Sequence[str],
    state: State,
    in_store: Callable[[Digest, int], bool] = lambda _digest, _size: False,
) -> SyncPlan:
    """What a sync of ``names`` (all when empty) has to do, from local facts only.

    Without ``in_store`` every file not in place counts as to be fetched: enough to tell a
    no-op, and it reads nothing in the store.
    """
    for name in names:
        if current.get(name) is None:
            raise LockfileError(f"models.lock has no entry for {name!r}", hint="run `modelpm lock`")
    destinations = {spec.name: spec.dest for spec in ctx.manifest.models}
    root = ctx.project.root
    return plan_sync(
        wanted_files(current, destinations),
        names or None,
        state,
        lambda target: _stat(root / target),
        in_store,
    )


def in_sync(
    names: Sequence[str] = (),
    *,
    project: PathLike | None = None,
    frozen: bool = False,
    store: PathLike | None = None,
) -> int | None:
    """The number of files in place if ``sync`` has nothing to do, else None.

    Reads only local files (no request, no write, no lock): the lock must be fresh
    (or ``frozen``) and every file as the last sync left it.
    """
    ctx = load_context(project, store=store)
    _check_names(ctx.manifest, names)
    try:
        current, _ = _lock_for_sync(ctx, locked=True, frozen=frozen, offline=True, hub=None)
    except (StaleLockError, LockfileError):
        return None
    plan = _plan(ctx, current, names, read_state(ctx.project))
    return len(plan.keep) if plan.is_noop else None


def _apply_online(
    ctx: ProjectContext,
    plan: SyncPlan,
    state: State,
    reporter: Reporter | None,
    hub: Hub | None,
    connections: int | None,
) -> SyncReport:
    from modelpm.download import Downloader, make_pool, options_from_env

    options = options_from_env(connections=connections)
    the_hub = hub or make_hub(ctx.config.endpoint)
    with make_pool(options) as pool:
        downloader = Downloader(the_hub, ctx.store, pool, options, reporter)
        return apply_sync(
            plan,
            root=ctx.project.root,
            store=ctx.store,
            state=state,
            fetcher=downloader,
            jobs=ctx.config.jobs,
            reporter=reporter,
        )


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def _locked_models(ctx: ProjectContext, names: Sequence[str]) -> list[tuple[LockedModel, str]]:
    _check_names(ctx.manifest, names)
    current = read_lock(ctx.project.lock_path)
    if current is None:
        raise LockfileError("there is no models.lock yet", hint="run `modelpm lock`")
    chosen: list[tuple[LockedModel, str]] = []
    for spec in ctx.manifest.models:
        if names and spec.name not in names:
            continue
        model = current.get(spec.name)
        if model is None:
            raise StaleLockError(f"{spec.name!r} is not locked yet", hint="run `modelpm sync`")
        chosen.append((model, spec.dest))
    return chosen


def verify(
    names: Sequence[str] = (), *, project: PathLike | None = None, jobs: int | None = None
) -> VerifyReport:
    """Re-hash every placed file of the locked models and report what differs."""
    from modelpm.verification import VerifyReport, check_model

    ctx = load_context(project, jobs=jobs)
    checks = tuple(
        check_model(model, ctx.project.root, dest, jobs=min(ctx.config.jobs, 4))
        for model, dest in _locked_models(ctx, names)
    )
    return VerifyReport(checks)


def status(project: PathLike | None = None) -> list[ModelStatus]:
    """One row per manifest entry; reads only local files (stat, no hashing, no network)."""
    ctx = load_context(project)
    current = read_lock(ctx.project.lock_path)
    stale = staleness(ctx.manifest, current)
    state = read_state(ctx.project)
    rows: list[ModelStatus] = []
    for spec in ctx.manifest.models:
        model = current.get(spec.name) if current else None
        if model is None:
            rows.append(
                ModelStatus(
                    spec.name, spec.repo, spec.repo_type, spec.revision, None, 0, 0, spec.dest,
                    "not-locked", 0,
                )
            )
            continue
        wanted = wanted_files(Lock((model,)), {spec.name: spec.dest})
        in_place = plan_sync(
            wanted, None, state, lambda target: _stat(ctx.project.root / target),
            lambda _digest, _size: False,
        ).keep
        missing = len(wanted) - len(in_place)
        if spec.name in stale.changed:
            label = "lock-stale"
        elif missing == 0:
            label = "synced"
        elif missing == len(wanted):
            label = "not-synced"
        else:
            label = "partly-synced"
        rows.append(
            ModelStatus(
                spec.name, spec.repo, spec.repo_type, spec.revision, model.commit,
                len(model.files), model.total_size, spec.dest, label, missing,
            )
        )
    return rows


def path(name: str, project: PathLike | None = None) -> Path:
    """The folder of a synced model, for ``from_pretrained(modelpm.path("bert"))``."""
    ctx = load_context(project)
    spec = ctx.manifest.model(name)
    row = next(row for row in status(ctx.project.root) if row.name == name)
    if row.state != "synced":
        raise NotSyncedError(
            f"model {name!r} is {row.describe()}", hint=f"run `modelpm sync {name}`"
        )
    return ctx.project.root / spec.dest


@dataclass(frozen=True)
class OutdatedRow:
    name: str
    repo: str
    revision: str
    locked_commit: str
    current_commit: str
    locked_date: str | None
    current_date: str | None

    @property
    def outdated(self) -> bool:
        return self.locked_commit != self.current_commit


def outdated(project: PathLike | None = None, *, hub: Hub | None = None) -> list[OutdatedRow]:
    """For each branch or tag revision: the locked commit and the commit it points to now."""
    ctx = load_context(project)
    the_hub = hub or make_hub(ctx.config.endpoint)
    rows: list[OutdatedRow] = []
    for model, _dest in _locked_models(ctx, ()):
        spec = ctx.manifest.model(model.name)
        if spec.pins_commit:
            continue
        ref = RepoRef(model.repo, model.repo_type)
        now = the_hub.resolve(ref, model.revision)
        then = now if now.commit == model.commit else the_hub.resolve(ref, model.commit)
        rows.append(
            OutdatedRow(
                model.name,
                model.repo,
                model.revision,
                model.commit,
                now.commit,
                then.date.isoformat() if then.date else None,
                now.date.isoformat() if now.date else None,
            )
        )
    return rows


def store_root(project: PathLike | None = None) -> Path:
    """The store this project (or, outside any project, this machine) uses."""
    try:
        return load_context(project).config.store_root
    except ProjectNotFoundError:
        if project is not None:
            raise
    home = os.environ.get("MODELPM_HOME")
    return (Path(home).expanduser() if home else default_store_root()).resolve()


def verify_store(project: PathLike | None = None, *, remove_corrupt: bool = False) -> StoreCheck:
    """Re-hash every object in the store."""
    from modelpm import store_maintenance

    return store_maintenance.verify_store(Store(store_root(project)), remove_corrupt=remove_corrupt)


def gc_store(project: PathLike | None = None, *, dry_run: bool = False) -> GcReport:
    """Remove store objects that no registered project's lock references."""
    from modelpm import store_maintenance

    return store_maintenance.collect_garbage(Store(store_root(project)), dry_run=dry_run)


__all__ = [
    "STATES",
    "LockResult",
    "ModelStatus",
    "OutdatedRow",
    "SyncResult",
    "gc_store",
    "in_sync",
    "lock",
    "outdated",
    "path",
    "status",
    "store_root",
    "sync",
    "verify",
    "verify_store",
]
