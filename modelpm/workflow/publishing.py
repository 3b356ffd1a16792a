"""``modelpm publish DIR --repo ORG/NAME``: push a folder, verify what landed, maybe pin it.

    check the arguments, find the token (a push needs one; --dry-run does not)
    [--pin] open the project session, render the new manifest     nothing written yet
    select and hash the folder's files                            modelpm.upload.local
    head = where the branch points (the default branch's head if the branch is new)
    plan against head's listing: new / changed / unchanged / deleted   pure
    --dry-run: stop here, having made no request that changes anything
    [--create] create the repo; create the branch if new
    one commit with parent_commit = head (a push that raced us makes it fail)
    list the new commit and compare every file's size and hash with the local bytes
    [--tag] tag the new commit; [--pin] store, manifest, lock       modelpm.workflow.pinning

An unchanged folder makes no commit ("nothing to publish"); ``--tag`` and ``--pin``
then apply to the head, which holds exactly the folder. Invariant: the project's
files change only after the commit was verified; the folder is only read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from modelpm.config import Config, Overrides, build_config
from modelpm.errors import (
    IntegrityError,
    RepoNotFoundError,
    RevisionNotFoundError,
    UsageError,
    WriteRefusedError,
)
from modelpm.paths import is_repo_id
from modelpm.progress import NullReporter, Reporter
from modelpm.project.session import PathLike, ProjectSession, project_session
from modelpm.sources.base import RemoteFile, Source
from modelpm.transfer.transport import Transport
from modelpm.upload.local import hash_local, select_files
from modelpm.upload.plan import PublishPlan, check_published, plan_publish
from modelpm.upload.target import Publisher
from modelpm.values import Commit, RepoRef, SourceKind, is_commit, is_repo_type
from modelpm.workflow.pinning import PinResult, pin_published, plan_pin

DEFAULT_MESSAGE = "Upload with modelpm"


@dataclass(frozen=True)
class PublishResult:
    repo: RepoRef
    branch: str
    plan: PublishPlan
    base: Commit | None  # the head the plan was made against (None: no repo or no commit)
    commit: Commit | None  # what the branch holds now (None only on --dry-run)
    committed: bool  # a new commit was made
    created_repo: bool  # (on --dry-run: would be)
    created_branch: bool
    tag: str | None
    pin: PinResult | None
    dry_run: bool


def publish(
    folder: PathLike,
    *,
    repo: str,
    revision: str = "main",
    message: str | None = None,
    create: bool = False,
    private: bool = False,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    repo_type: str = "model",
    dry_run: bool = False,
    delete: bool = False,
    tag: str | None = None,
    pin: str | None = None,
    project: PathLike | None = None,
    endpoint: str | None = None,
    reporter: Reporter | None = None,
    sources: Mapping[SourceKind, Source] | None = None,
    publisher: Publisher | None = None,
    transport: Transport | None = None,
) -> PublishResult:
    """Push ``folder`` to ``repo`` @ ``revision``, verify it, and (``pin``) lock it here."""
    root = Path(folder)
    ref = _check_arguments(root, repo, repo_type, revision, tag, create)
    overrides = Overrides(endpoint=endpoint)
    with _maybe_session(pin, project, overrides, sources) as session:
        if session is not None:
            config = session.config
            source = session.source("hf")
        else:
            config = build_config(None, None, overrides)
            source = (sources or {}).get("hf") or _open_source(config.endpoints["hf"], config)
        pinned = None
        if session is not None and pin is not None:
            pinned = plan_pin(session, pin, ref, tag or revision, include, exclude)
        if publisher is None and not dry_run:
            from modelpm.sources.catalog import open_publisher

            publisher = open_publisher("hf", config.endpoints["hf"], offline=config.offline)
        skip = [config.store_root, *([session.project.state_dir] if session else [])]
        chosen = select_files(root, include or None, exclude, skip=skip)
        if not chosen:
            raise UsageError(
                f"no file of {root} to publish", hint="check the folder and --include/--exclude"
            )
        local = [hash_local(path, source_path) for path, source_path in chosen]
        state = _remote_state(source, ref, revision, create=create)
        listing = source.list_files(ref, state.head) if state.head else []
        if tag is not None:
            _check_tag_is_free(source, ref, tag, state.head)
        plan = plan_publish(local, listing, delete=delete, include=include or None, exclude=exclude)
        result = PublishResult(
            ref, revision, plan, state.head, None, False, state.missing_repo,
            state.missing_branch, tag, None, dry_run,
        )  # fmt: skip
        if dry_run:
            return result
        assert publisher is not None
        head = state.head
        if state.missing_repo:
            publisher.create_repo(ref, private=private)
            head = source.resolve(ref, "main").commit
            listing = source.list_files(ref, head)
            plan = plan_publish(
                local, listing, delete=delete, include=include or None, exclude=exclude
            )
        if state.missing_branch and head is not None and revision != "main":
            publisher.create_branch(ref, revision, head)
        new = head
        if not plan.is_empty:
            new = publisher.commit(
                ref,
                branch=revision,
                parent=head,
                uploads=plan.uploads,
                deletions=plan.deletions,
                message=message or DEFAULT_MESSAGE,
                reporter=reporter or NullReporter(),
            )
            listing = source.list_files(ref, new)
            _verify(plan, listing, ref, revision, new)
        assert new is not None
        if tag is not None and not _tag_points_at(source, ref, tag, new):
            publisher.create_tag(ref, tag, new)
        pin_result = None
        if session is not None and pinned is not None:
            pin_result = pin_published(
                session, pinned, new, listing, plan.local, reporter=reporter, transport=transport
            )
        return PublishResult(
            ref, revision, plan, head, new, new != head, state.missing_repo,
            state.missing_branch, tag, pin_result, False,
        )  # fmt: skip


@dataclass(frozen=True)
class _RemoteState:
    head: Commit | None
    missing_repo: bool
    missing_branch: bool


def _remote_state(source: Source, ref: RepoRef, branch: str, *, create: bool) -> _RemoteState:
    """Where ``branch`` points; a new branch starts at the default branch's head."""
    try:
        return _RemoteState(source.resolve(ref, branch).commit, False, False)
    except RepoNotFoundError:
        if not create:
            raise RepoNotFoundError(
                f"{ref} does not exist on {source.endpoint} (or this token cannot see it)",
                hint="add --create to create it (--private for a private one), or check "
                "--repo and --repo-type",
            ) from None
        return _RemoteState(None, True, branch != "main")
    except RevisionNotFoundError:
        pass
    try:
        return _RemoteState(source.resolve(ref, "main").commit, False, True)
    except RevisionNotFoundError:
        return _RemoteState(None, False, True)  # a repo without any commit


def _verify(
    plan: PublishPlan, listing: Sequence[RemoteFile], ref: RepoRef, branch: str, new: str
) -> None:
    problems = check_published(plan, listing)
    if problems:
        shown = "; ".join(problems[:3]) + (
            f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
        )
        raise IntegrityError(
            f"{ref} @ {branch}: commit {new[:12]} does not hold what was sent: {shown}",
            hint="the hub stored other bytes than it was sent; nothing was pinned. Run "
            "publish again to replace them, and report it to the hub",
        )


def _check_tag_is_free(source: Source, ref: RepoRef, tag: str, head: Commit | None) -> None:
    try:
        there = source.resolve(ref, tag).commit
    except (RevisionNotFoundError, RepoNotFoundError):
        return
    if there != head:
        raise WriteRefusedError(
            f"tag {tag!r} already exists in {ref} (at {there[:12]})",
            hint="choose a new tag: modelpm never moves a tag",
        )


def _tag_points_at(source: Source, ref: RepoRef, tag: str, commit: Commit) -> bool:
    try:
        return source.resolve(ref, tag).commit == commit
    except RevisionNotFoundError:
        return False


def _check_arguments(
    root: Path, repo: str, repo_type: str, revision: str, tag: str | None, create: bool
) -> RepoRef:
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder", hint="give the folder save_pretrained wrote")
    if not is_repo_id(repo):
        raise UsageError(f"--repo {repo!r} is not a valid repo id", hint="write it as ORG/NAME")
    if not is_repo_type(repo_type):
        raise UsageError(f"--repo-type {repo_type!r} is not model, dataset or space")
    if not revision or is_commit(revision) or revision.startswith("refs/"):
        raise UsageError(
            f"--revision {revision!r} is not a branch name", hint="publish to a branch, e.g. main"
        )
    if tag is not None and (not tag or is_commit(tag) or tag.startswith("refs/")):
        raise UsageError(f"--tag {tag!r} is not a tag name")
    if create and repo_type == "space":
        raise UsageError(
            "--create cannot create a Space (it needs an SDK)", hint="create it on the Hub first"
        )
    return RepoRef(repo, repo_type)


@contextlib.contextmanager
def _maybe_session(
    pin: str | None,
    project: PathLike | None,
    overrides: Overrides,
    sources: Mapping[SourceKind, Source] | None,
) -> Iterator[ProjectSession | None]:
    """The project session when pinning (held for the whole publish), else none."""
    if pin is None:
        yield None
        return
    with project_session(project, overrides, sources) as session:
        yield session


def _open_source(endpoint: str, config: Config) -> Source:
    from modelpm.sources.catalog import open_source

    return open_source("hf", endpoint, offline=config.offline, retry_delay=config.retry_delay)
