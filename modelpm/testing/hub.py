"""The test hub: the state behind four loopback origins (the Hub, ModelScope, their CDNs).

    with TestHub() as hub:
        repo = hub.create_repo("acme/tiny")
        repo.commit({"config.json": b"{}", "model.safetensors": weights})
        hub.endpoint        # http://127.0.0.1:<port>, give it to HF_ENDPOINT
        copy = hub.create_repo("other/tiny", site="modelscope")   # default branch "master"
        hub.modelscope_endpoint                  # give it to MODELSCOPE_ENDPOINT
        hub.add_fault(Fault("drop", origin="cdn", after_bytes=1 << 20))
        hub.request_count, hub.bytes_sent, hub.requests

    origin        face                      serves
    hub           hf_face                   the Hub's /api and /resolve (LFS: 302 to cdn),
                                            and its upload API (create, preupload, commit)
    cdn           cdn_face                  LFS objects by sha256, signed expiring links,
                                            and the signed links uploads PUT to
    modelscope    ms_face                   ModelScope's /api/v1 (LFS: 302 to ms-cdn)
    ms-cdn        cdn_face (X-Linked-ETag)  the same objects, for ModelScope's links

It owns the repos of both sites (apart: a repo on one is not on the other), the tokens
(valid on both; each may read all repos or some, and write or not), the uploaded LFS
objects, the signing key of CDN and upload links and the fault board; each origin is
an ``http.OriginServer`` speaking one face that reads this state through the face's
own Protocol, so no face imports this module. Binds 127.0.0.1 only, on free ports,
and stops its threads on ``stop()``.
"""

from __future__ import annotations

import hmac
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Literal

from modelpm.testing.cdn_face import CdnFace
from modelpm.testing.faults import Fault, FaultBoard, RequestRecord
from modelpm.testing.hf_face import HfFace
from modelpm.testing.lfs_store import UploadStore
from modelpm.testing.ms_face import LISTING_LIMIT, MsFace
from modelpm.testing.plumbing import Face, OriginServer
from modelpm.testing.repo import Clock, HubRepo, RepoFile

LINK_LIFETIME = 3600.0
Site = Literal["hf", "modelscope"]
_DEFAULT_BRANCH: dict[Site, str] = {"hf": "main", "modelscope": "master"}


class TestHub:
    """A Hub-compatible server for tests, demos and benchmarks."""

    __test__ = False  # not a pytest test class

    def __init__(self, root: Path | None = None, *, page_size: int = 1000) -> None:
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="modelpm-testhub-")) if root is None else root
        self.page_size = page_size
        self.board = FaultBoard()
        self.repos: dict[tuple[str, str], HubRepo] = {}  # the Hub's
        self.ms_repos: dict[tuple[str, str], HubRepo] = {}  # ModelScope's
        self.listing_limit = LISTING_LIMIT  # ModelScope cuts a model's file listing here
        self.renames: dict[tuple[str, str], str] = {}  # (type, old id) -> new id, on the Hub
        # Xet-bridge mode (bridge()): the CDN refuses bodies above this without a Range.
        self.bridge_threshold: int | None = None
        self.tokens: dict[str, frozenset[str] | None] = {}
        self.writers: dict[str, bool] = {}  # token -> may write where it may read
        self.users: dict[str, str] = {}  # token -> user name
        self.uploads = UploadStore(self.root / "uploads")
        self.max_file_size: int | None = None  # the Hub's per-file limit, when set
        self.multipart_chunk = 0  # objects larger than this go up in parts (0: never)
        self.link_lifetime = LINK_LIFETIME
        self._clock = Clock()
        self._secret = secrets.token_bytes(16)
        self._servers: list[OriginServer] = []
        self._threads: list[threading.Thread] = []
        self._lfs: dict[str, RepoFile] = {}
        self._lock = threading.Lock()
        self.endpoint = ""
        self.cdn_endpoint = ""
        self.modelscope_endpoint = ""
        self.ms_cdn_endpoint = ""
        # Where a listing's `Link: rel="next"` points; a hostile mirror may send it elsewhere.
        self.next_page_origin: str | None = None

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> TestHub:
        faces: tuple[Face, ...] = (
            HfFace(self),
            CdnFace(self),
            MsFace(ModelScopeSide(self)),
            CdnFace(self, "ms-cdn", linked_etag=True, bridge=False),
        )
        for face in faces:
            server = OriginServer(face, self.board)
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"testhub-{face.origin}",
                daemon=True,
            )
            thread.start()
            self._servers.append(server)
            self._threads.append(thread)
        self.endpoint, self.cdn_endpoint, self.modelscope_endpoint, self.ms_cdn_endpoint = (
            f"http://127.0.0.1:{server.server_port}" for server in self._servers
        )
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.close_connections()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> TestHub:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- repos and tokens ----------------------------------------------------------------

    def create_repo(
        self,
        repo_id: str,
        *,
        repo_type: str = "model",
        gated: bool = False,
        private: bool = False,
        site: Site = "hf",
    ) -> HubRepo:
        repo = HubRepo(
            repo_id,
            repo_type,
            self.root / "blobs",
            self._clock,
            gated,
            private,
            on_commit=self._index,
            default_branch=_DEFAULT_BRANCH[site],
        )
        with self._lock:
            self._site(site)[(repo_type, repo_id)] = repo
        return repo

    def repo(self, repo_id: str, repo_type: str = "model", site: Site = "hf") -> HubRepo:
        return self._site(site)[(repo_type, repo_id)]

    def find_repo(self, repo_id: str, repo_type: str, site: Site = "hf") -> HubRepo | None:
        with self._lock:
            return self._site(site).get((repo_type, repo_id))

    def rename_repo(self, old: str, new: str, repo_type: str = "model") -> HubRepo:
        """Move a Hub repo to a new id; the old one answers 307 to the new (as the Hub does
        for ``bert-base-chinese`` → ``google-bert/bert-base-chinese``)."""
        with self._lock:
            repo = self.repos.pop((repo_type, old))
            repo.repo_id = new
            self.repos[(repo_type, new)] = repo
            self.renames[(repo_type, old)] = new
        return repo

    def renamed_to(self, repo_id: str, repo_type: str) -> str | None:
        with self._lock:
            return self.renames.get((repo_type, repo_id))

    def bridge(self, threshold: int, link_lifetime: float) -> None:
        """Xet-bridge mode: the Hub's CDN answers 400 to a request for a body larger than
        ``threshold`` without ``Range`` (the real bridge does above 50 GB), sends ETag =
        sha256 (as always here), and its signed links expire after ``link_lifetime`` s."""
        self.bridge_threshold = threshold
        self.link_lifetime = link_lifetime

    def _site(self, site: Site) -> dict[tuple[str, str], HubRepo]:
        return self.repos if site == "hf" else self.ms_repos

    def add_token(
        self,
        token: str,
        *,
        repos: Iterable[str] | None = None,
        write: bool = True,
        user: str = "tester",
    ) -> None:
        """A token that reads ``repos`` (None: every repo) and, if ``write``, writes them."""
        self.tokens[token] = frozenset(repos) if repos is not None else None
        self.writers[token] = write
        self.users[token] = user

    def token_can_write(self, token: str | None, repo_id: str) -> bool:
        if token is None or not self.writers.get(token, False):
            return False
        allowed = self.tokens.get(token)
        return allowed is None or repo_id in allowed

    def token_user(self, token: str) -> tuple[str, str]:
        return self.users.get(token, "tester"), "write" if self.writers.get(token) else "read"

    def token_can_read(self, token: str | None, repo: HubRepo) -> bool:
        if token is None or token not in self.tokens:
            return False
        allowed = self.tokens[token]
        return allowed is None or repo.repo_id in allowed

    def _index(self, files: Iterable[RepoFile]) -> None:
        with self._lock:
            for item in files:
                if item.lfs and item.sha256:
                    self._lfs[item.sha256] = item

    def lfs_object(self, sha256: str) -> RepoFile | None:
        with self._lock:
            return self._lfs.get(sha256)

    def cdn_url(self, sha256: str, cdn: str | None = None) -> str:
        """A signed link to an LFS object on the Hub's CDN (or on ``cdn``)."""
        expires = str(int(time.time() + self.link_lifetime))
        signature = _sign(self._secret, sha256, expires)
        return f"{cdn or self.cdn_endpoint}/lfs/{sha256}?expires={expires}&sig={signature}"

    def sign(self, what: str) -> str:
        expires = str(int(time.time() + self.link_lifetime))
        return f"expires={expires}&sig={_sign(self._secret, what, expires)}"

    def check_signature(self, sha256: str, expires: str, signature: str) -> bool:
        return hmac.compare_digest(_sign(self._secret, sha256, expires), signature)

    # -- observation and faults ------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        return self.board.snapshot()

    @property
    def request_count(self) -> int:
        return len(self.board.snapshot())

    @property
    def bytes_sent(self) -> int:
        return sum(record.body_bytes for record in self.board.snapshot())

    def reset_stats(self) -> None:
        self.board.reset()

    def add_fault(self, fault: Fault) -> None:
        self.board.add(fault)

    def clear_faults(self) -> None:
        self.board.clear()


class ModelScopeSide:
    """The test hub as ModelScope's face sees it: its own repos, its own CDN."""

    def __init__(self, hub: TestHub) -> None:
        self.hub = hub

    @property
    def listing_limit(self) -> int:
        return self.hub.listing_limit

    @property
    def tokens(self) -> dict[str, frozenset[str] | None]:
        return self.hub.tokens

    def find_repo(self, repo_id: str, repo_type: str) -> HubRepo | None:
        return self.hub.find_repo(repo_id, repo_type, "modelscope")

    def token_can_read(self, token: str | None, repo: HubRepo) -> bool:
        return self.hub.token_can_read(token, repo)

    def cdn_url(self, sha256: str) -> str:
        return self.hub.cdn_url(sha256, self.hub.ms_cdn_endpoint)


def _sign(secret: bytes, sha256: str, expires: str) -> str:
    return hmac.new(secret, f"{sha256}:{expires}".encode(), "sha256").hexdigest()[:32]
