"""Pushing to the Hub through ``huggingface_hub``: a :class:`~modelpm.upload.target.Publisher`.

One ``create_commit`` per publish, with ``parent_commit`` = the head modelpm planned
against, so a concurrent push makes the Hub refuse this one instead of mixing them.
The client decides how bytes travel, exactly as ``upload_folder`` would: through Xet
when ``hf_xet`` is installed and ``HF_HUB_DISABLE_XET`` is unset, else preupload →
LFS batch → PUT (multipart when the Hub says so) → NDJSON commit. An object the Hub
already holds is never sent again (the batch answer has no ``actions`` for it), which
is what makes a failed publish restartable: the next run sends only what is missing.

Progress: the sha256 modelpm computed is handed to the client (no second hashing
pass), and each LFS upload reads its file through a wrapper that reports the
position to the :class:`~modelpm.progress.Reporter` (back, too, when a retry rewinds);
what travels otherwise (regular files in the commit body, Xet) is reported when the
commit lands. The client's own progress bars are off meanwhile.

Errors, on top of :func:`~modelpm.sources.hf.errors.translate_errors`: 403 →
:class:`WriteRefusedError` with the Hub's message (read-only token, protected branch),
an LFS batch error (a file over the size limit) → :class:`WriteRefusedError`, a failed
commit after which the branch no longer points at the planned parent →
:class:`PublishRaceError`. The token goes only to the endpoint's origin (the upload
links the Hub hands out are signed and get none).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Sequence
from typing import Any

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.utils.tqdm import (
    are_progress_bars_disabled,
    disable_progress_bars,
    enable_progress_bars,
)

from modelpm.errors import HubError, PublishRaceError, WriteRefusedError
from modelpm.progress import Reporter
from modelpm.sources.hf.errors import translate_errors
from modelpm.sources.hf.token import TOKEN_GUARD
from modelpm.upload.local import LocalFile
from modelpm.values import Commit, RepoRef, is_commit

_RETRY_HINT = "run publish again: what the hub already holds is not sent again"


class HfPublisher:
    """Pushes to the Hub at ``endpoint`` with ``token`` (which must allow writing)."""

    def __init__(self, endpoint: str, token: str) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._token = token
        self._api = HfApi(endpoint=self.endpoint, token=token)
        TOKEN_GUARD.allow(token, self.endpoint)

    def __repr__(self) -> str:  # never show the token
        return f"HfPublisher(endpoint={self.endpoint!r})"

    def create_repo(self, ref: RepoRef, *, private: bool) -> None:
        with self._errors(ref, None):
            self._api.create_repo(
                ref.repo, repo_type=ref.repo_type, private=private or None, exist_ok=True
            )

    def create_branch(self, ref: RepoRef, branch: str, start: Commit) -> None:
        with self._errors(ref, branch, race_on=(409,)):
            self._api.create_branch(
                ref.repo, branch=branch, revision=start, repo_type=ref.repo_type
            )

    def create_tag(self, ref: RepoRef, tag: str, commit: Commit) -> None:
        with self._errors(ref, tag):
            self._api.create_tag(ref.repo, tag=tag, revision=commit, repo_type=ref.repo_type)

    def commit(
        self,
        ref: RepoRef,
        *,
        branch: str,
        parent: Commit | None,
        uploads: Sequence[LocalFile],
        deletions: Sequence[str],
        message: str,
        reporter: Reporter,
    ) -> Commit:
        progress = _Progress(reporter)
        operations: list[Any] = [_operation(item, progress) for item in uploads]
        operations += [CommitOperationDelete(path) for path in deletions]
        reporter.begin(len(uploads), sum(item.size for item in uploads))
        quiet = are_progress_bars_disabled()
        disable_progress_bars()
        try:
            with self._errors(ref, branch, race_on=(409, 412), parent=parent):
                info = self._api.create_commit(
                    ref.repo,
                    operations,
                    commit_message=message,
                    repo_type=ref.repo_type,
                    revision=branch,
                    parent_commit=parent,
                )
        finally:
            if not quiet:
                enable_progress_bars()
            reporter.end()
        for item in uploads:
            progress.finish(item)
        oid = info.oid
        if not is_commit(oid):
            raise HubError(f"{self.endpoint} answered the commit without a commit id")
        return oid

    def _moved(self, ref: RepoRef, branch: str | None, parent: Commit | None) -> bool:
        """After a refused commit: does the branch now point elsewhere than ``parent``?"""
        if parent is None or branch is None:
            return False
        with contextlib.suppress(HfHubHTTPError, ValueError, OSError):
            head = self._api.repo_info(ref.repo, revision=branch, repo_type=ref.repo_type).sha
            return head is not None and head != parent
        return False

    @contextlib.contextmanager
    def _errors(
        self,
        ref: RepoRef,
        branch: str | None,
        *,
        race_on: tuple[int, ...] = (),
        parent: Commit | None = None,
    ) -> Iterator[None]:
        """The Hub's refusals of a write as modelpm errors (reads: translate_errors)."""
        TOKEN_GUARD.install()  # again: close_session() makes a client without it
        where = f"{ref} @ {branch}" if branch else str(ref)
        try:
            with translate_errors(self.endpoint, ref, branch, token_set=True):
                try:
                    yield
                except HfHubHTTPError as exc:
                    status = exc.response.status_code if exc.response is not None else None
                    said = _server_message(exc)
                    if status in race_on or self._moved(ref, branch, parent):
                        raise _race(ref, branch, parent) from None
                    if status == 403:
                        raise _refused(self.endpoint, where, said) from None
                    if status == 413:
                        raise WriteRefusedError(
                            f"{self.endpoint} refused a file of {where} as too large: {said}",
                            hint="split the file (safetensors shards) or keep it elsewhere",
                        ) from None
                    raise
                except RuntimeError as exc:  # "Error while uploading 'x' to the Hub."
                    cause = exc.__cause__
                    if isinstance(cause, HfHubHTTPError | ValueError | OSError):
                        raise cause from None
                    raise
                except ValueError as exc:
                    refusal = _client_refusal(self.endpoint, where, exc)
                    if refusal is None:
                        raise
                    raise refusal from None
        except HubError as error:
            if error.hint and "try again later" in error.hint:
                error.hint = _RETRY_HINT
            raise


def _client_refusal(endpoint: str, where: str, exc: ValueError) -> WriteRefusedError | None:
    """What the client raises as ValueError when the Hub refused files (None: not that)."""
    detail = " ".join(str(exc).split())
    if detail.startswith("LFS batch API returned errors"):  # e.g. a file over the size limit
        return WriteRefusedError(
            f"{endpoint} refused the upload to {where}: {detail}",
            hint="split large files (safetensors shards) or exclude them",
        )
    if detail.startswith("Invalid metadata in README.md"):
        return WriteRefusedError(
            f"{endpoint} refused README.md of {where}: {detail}",
            hint="fix the YAML block at the top of README.md",
        )
    return None


def _race(ref: RepoRef, branch: str | None, parent: Commit | None) -> PublishRaceError:
    seen = f" from {parent[:12]}" if parent else ""
    return PublishRaceError(
        f"{ref} @ {branch} moved{seen} while this publish ran: another push landed first, "
        "so nothing was committed",
        hint="run publish again: it plans against the new head and sends only what differs",
    )


def _refused(endpoint: str, where: str, said: str) -> WriteRefusedError:
    if "protected" in said.lower():
        hint = "publish to another branch with --revision BRANCH, or ask an admin to allow it"
    else:
        hint = "set HF_TOKEN to a token with write access to the repo (or run `hf auth login`)"
    return WriteRefusedError(f"{endpoint} refused to write to {where} (403): {said}", hint=hint)


def _server_message(exc: HfHubHTTPError) -> str:
    message = getattr(exc, "server_message", None) or str(exc)
    return " ".join(str(message).split())[:300]


def _operation(item: LocalFile, progress: _Progress) -> CommitOperationAdd:
    operation = _ReportedAdd(item.path, str(item.source))
    # modelpm hashed the file already: no second pass (the client would read it again).
    operation.upload_info.sha256 = bytes.fromhex(item.sha256.hexdigest)
    operation.progress = progress
    operation.label = item.path
    return operation


class _ReportedAdd(CommitOperationAdd):
    """An addition whose LFS upload reports how far it has read."""

    progress: _Progress
    label: str

    @contextlib.contextmanager
    def as_file(self, with_tqdm: bool = False) -> Iterator[Any]:
        if not with_tqdm:  # a read for the commit body or a README check: no progress
            with super().as_file() as handle:
                yield handle
            return
        with open(str(self.path_or_fileobj), "rb") as handle:
            yield self.progress.watch(self.label, self.upload_info.size, handle)


class _Progress:
    """Per file: how far its upload has read, reported as it moves."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.reported: dict[str, int] = {}

    def watch(self, label: str, size: int, handle: io.BufferedReader) -> io.BufferedReader:
        if label not in self.reported:
            self.reported[label] = 0
            self.reporter.file_started(label, size)
        read, seek = handle.read, handle.seek

        def moved() -> None:
            position = handle.tell()
            self.reporter.advance(label, position - self.reported[label])
            self.reported[label] = position

        def reported_read(size: int | None = -1) -> bytes:
            data = read(size)
            moved()
            return data

        def reported_seek(offset: int, whence: int = 0) -> int:
            position = seek(offset, whence)
            moved()
            return position

        handle.read = reported_read  # type: ignore[method-assign]
        handle.seek = reported_seek  # type: ignore[method-assign]
        return handle

    def finish(self, item: LocalFile) -> None:
        """The commit landed: whatever was not reported as read travelled another way."""
        if item.path not in self.reported:
            self.reporter.file_started(item.path, item.size)
        self.reporter.advance(item.path, item.size - self.reported.get(item.path, 0))
        self.reported[item.path] = item.size
        self.reporter.file_done(item.path)
