"""The error hierarchy: every failure a user can cause or meet.

Each error carries a one-line ``message`` (what happened), an optional ``hint``
(what to do about it) and the process ``exit_code`` the CLI ends with. The CLI
prints ``error: <message>`` and ``hint: <hint>`` and nothing else, so the
message must make sense on its own and must never contain a secret.

    ModelpmError                      exit 1 unless stated
    ├── UsageError                    exit 2: the user's input is wrong
    │   ├── ManifestError             models.toml is malformed or invalid
    │   ├── LockfileError             models.lock is malformed, or from a newer modelpm
    │   └── ProjectNotFoundError      no models.toml here or above
    ├── StaleLockError                lock does not match the manifest (--locked, --check)
    ├── HubError                      the hub refused or failed a request
    │   ├── RepoNotFoundError
    │   ├── RevisionNotFoundError
    │   ├── EntryNotFoundError
    │   ├── GatedRepoError            gated repo: no token set, or this token has no access
    │   ├── TokenRejectedError        the hub rejected the token itself (401: invalid, expired)
    │   ├── WriteRefusedError         publish: no token, a read-only token, a protected branch,
    │   │                             a file over the hub's size limit
    │   ├── PublishRaceError          publish: the branch moved since the upload was planned
    │   ├── NetworkError              the hub could not be reached or the link dropped
    │   └── RemoteStoreError          the remote store (S3) refused, lacks or failed a request
    ├── IntegrityError                downloaded bytes do not match the lock
    ├── StorageError                  the disk refused a write (full, read-only, not a folder)
    ├── NotSyncedError                a model asked for by path() is not on disk
    ├── PolicyError                   a file the audit policy refuses to place (issue 12)
    ├── OfflineError                  --offline and something is not in the store
    └── Interrupted                   Ctrl-C; exit 130
"""

from __future__ import annotations


class ModelpmError(Exception):
    """Base class: a failure with a message for the user, a hint and an exit code."""

    exit_code: int = 1
    # When one run failed on several files: each failed file's label and its own error
    # (the error itself describes the first; see modelpm.place.apply).
    failures: tuple[tuple[str, ModelpmError], ...] = ()

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(ModelpmError):
    """The user's input (manifest, lock, arguments) is wrong: exit 2."""

    exit_code = 2


class ManifestError(UsageError):
    """models.toml cannot be read or breaks a rule."""


class LockfileError(UsageError):
    """models.lock cannot be read, is corrupted, or comes from a newer modelpm."""


class ProjectNotFoundError(UsageError):
    """No models.toml in the folder given or any folder above it."""


class StaleLockError(ModelpmError):
    """The lock does not match the manifest and the user asked us not to re-lock."""


class HubError(ModelpmError):
    """The hub answered with an error we cannot work around."""

    status: int | None = None  # the HTTP status, when there was one


class RepoNotFoundError(HubError):
    """The repository does not exist, or is private and the token cannot see it."""


class RevisionNotFoundError(HubError):
    """The branch, tag or commit does not exist in the repository."""


class EntryNotFoundError(HubError):
    """A file or folder does not exist at the locked commit."""


class GatedRepoError(HubError):
    """The repository is gated (or private) and this token has no access to its files."""


class TokenRejectedError(HubError):
    """The hub refused the token itself (401): it is invalid, expired or revoked."""


class WriteRefusedError(HubError):
    """The hub will not take this push: no token, no write access, a protected branch,
    a file over its size limit."""


class PublishRaceError(HubError):
    """Another push moved the branch after modelpm planned its upload; nothing was mixed."""


class NetworkError(HubError):
    """The hub could not be reached, or the connection failed after every retry."""

    @classmethod
    def unreachable(cls, endpoint: str, cause: BaseException, hint: str) -> NetworkError:
        """``cannot reach ENDPOINT (Kind: what it said)``, the cause's text cleaned."""
        from modelpm.redact import clean

        reason = type(cause).__name__
        text = clean(str(cause), limit=200)
        if text:
            reason = f"{reason}: {text}"
        return cls(f"cannot reach {endpoint} ({reason})", hint=hint)


class RemoteStoreError(HubError):
    """The remote store (S3-compatible) refused, lacked or failed a request.

    A :class:`HubError` so the transfer engine falls back to the next origin, as for a
    hub; a sync never fails for it when a source has the bytes.
    """


class IntegrityError(ModelpmError):
    """Bytes on the wire or on disk do not hash to what the lock pins."""


class StorageError(ModelpmError):
    """A write failed on the local disk: full, read-only, or a path in the way."""


class NotSyncedError(ModelpmError):
    """A model was asked for that is not (fully) on disk."""


class PolicyError(ModelpmError):
    """A file would run code on load in a way the model's audit policy does not allow."""


class OfflineError(ModelpmError):
    """--offline was given and a file is neither placed nor in the store."""


class Interrupted(ModelpmError):
    """The user pressed Ctrl-C; state on disk is intact."""

    exit_code = 130
