"""What ``modelpm add`` accepts as REPO: a repo id, or a repo's URL pasted from a browser.

    google-bert/bert-base-uncased                        an id (source: --source or the default)
    https://huggingface.co/org/name[/tree/REV]           hf, model        (also hf.co)
    https://huggingface.co/datasets/org/name             hf, dataset      (spaces/ likewise)
    https://modelscope.cn/models/org/name[/tree/REV]     modelscope, model (also modelscope.ai)
    https://modelscope.cn/datasets/org/name              modelscope, dataset

A URL names the source, repo type, repo and revision only (``/tree/REV``, one path
segment, percent-decoded: the Hub writes ``refs%2Fpr%2F1``); requests still go to the
configured endpoint. Trailing pages (``/summary``, ``/files``) are ignored; a URL of a
file or of a folder inside a repo is refused, as is any other host.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from modelpm.errors import UsageError
from modelpm.values import RepoType, SourceKind

_HOSTS: dict[str, SourceKind] = {
    "huggingface.co": "hf",
    "hf.co": "hf",
    "modelscope.cn": "modelscope",
    "modelscope.ai": "modelscope",
}
_HF_TYPES: dict[str, RepoType] = {"datasets": "dataset", "spaces": "space"}
_MS_TYPES: dict[str, RepoType] = {"models": "model", "datasets": "dataset"}
_PAGES = ("summary", "files", "feedback", "tree")
_HF_PAGES = ("tree", "blob", "resolve", "commits", "discussions")


@dataclass(frozen=True)
class Reference:
    """A repo as the user named it; None where the text did not say."""

    repo: str
    source: SourceKind | None = None
    repo_type: RepoType | None = None
    revision: str | None = None


def parse_reference(text: str) -> Reference:
    """A repo id as it is, or the parts of a pasted repo URL."""
    if "://" not in text:
        return Reference(text)
    parts = urlsplit(text.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    source = _HOSTS.get(host)
    if parts.scheme not in ("http", "https") or source is None:
        raise UsageError(
            f"{text!r} is not a Hugging Face or ModelScope repo URL",
            hint="paste a URL like https://huggingface.co/<org>/<name> or "
            "https://modelscope.cn/models/<owner>/<name>, or give the repo id",
        )
    segments = [segment for segment in parts.path.split("/") if segment]
    repo_type: RepoType = "model"
    if source == "hf" and segments[:1] and segments[0] in _HF_TYPES:
        repo_type = _HF_TYPES[segments.pop(0)]
    elif source == "modelscope":
        if not segments or segments[0] not in _MS_TYPES:
            raise UsageError(
                f"{text!r} does not name a ModelScope model or dataset",
                hint="paste https://modelscope.cn/models/<owner>/<name> (or /datasets/…)",
            )
        repo_type = _MS_TYPES[segments.pop(0)]
    # The Hub still has repos without an owner (https://huggingface.co/gpt2/tree/main).
    width = 1 if source == "hf" and (segments[1:2] == [] or segments[1] in _HF_PAGES) else 2
    if len(segments) < width or not segments:
        raise UsageError(f"{text!r} does not name a repo", hint="paste the repo's own page")
    repo, rest = "/".join(unquote(part) for part in segments[:width]), segments[width:]
    revision = None
    if rest[:1] == ["tree"] and len(rest) >= 2:
        revision, rest = unquote(rest[1]), rest[2:]
    if rest and not (len(rest) == 1 and rest[0] in _PAGES):
        raise UsageError(
            f"{text!r} names a file or folder inside {repo}, not the repo",
            hint=f"paste the repo's page, or give the id {repo!r} (with --revision if needed)",
        )
    return Reference(repo, source, repo_type, revision)
