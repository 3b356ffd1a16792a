"""The ModelScope source on its own: complete listings (cut model listings walked by folder,
dataset pages), the saved login read without running its pickle, the endpoint rules, and
the storage CDN's ``X-Linked-ETag`` as an early cross-check."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from support import random_bytes

from modelpm.config import build_config
from modelpm.errors import HubError, IntegrityError, RevisionNotFoundError
from modelpm.manifest.model import Settings
from modelpm.plan.tasks import FileTask
from modelpm.sources.modelscope.source import ModelScopeSource
from modelpm.sources.modelscope.token import find_token, saved_login
from modelpm.store.local import Store
from modelpm.testing import TestHub
from modelpm.transfer.engine import Downloader, always
from modelpm.transfer.http import HttpPool
from modelpm.transfer.retry import RetryPolicy
from modelpm.values import Commit, RepoRef

FAST = RetryPolicy(retries=1, backoff=0.0, max_backoff=0.0, jitter=False)


def source(hub: TestHub, limit: int = 3000) -> ModelScopeSource:
    return ModelScopeSource(hub.modelscope_endpoint, None, retry=FAST, listing_limit=limit)


def test_a_listing_cut_at_the_limit_is_walked_by_folder(hub: TestHub) -> None:
    # 17 entries, none of the folders with more than 5 direct ones.
    files = {f"a/{i:02}.txt": b"a" for i in range(5)}
    files |= {f"b/c/{i:02}.txt": b"c" for i in range(5)}
    files |= {f"b/{i:02}.json": b"{}" for i in range(3)}
    files["config.json"] = b"{}"
    repo = hub.create_repo("acme/many", site="modelscope")
    commit = repo.commit(files)
    hub.listing_limit = 6  # every listing over six entries is cut, as modelscope.cn cuts at 3000
    listed = source(hub, limit=6).list_files(RepoRef("acme/many"), commit)
    assert [item.path for item in listed] == sorted(files)
    roots = [r.query for r in hub.requests if r.path.endswith("/repo/files")]
    assert any("Root=b%2Fc" in query for query in roots), roots


def test_a_folder_too_large_to_list_is_an_error_not_a_short_lock(hub: TestHub) -> None:
    commit = hub.create_repo("acme/flat", site="modelscope").commit(
        {f"{i:02}.txt": b"x" for i in range(10)}
    )
    hub.listing_limit = 6
    with pytest.raises(HubError, match="the listing would be incomplete"):
        source(hub, limit=6).list_files(RepoRef("acme/flat"), commit)


def test_a_dataset_is_listed_page_by_page(hub: TestHub) -> None:
    files = {f"rows/{i:03}.jsonl": b"{}\n" for i in range(450)}
    commit = hub.create_repo("acme/set", repo_type="dataset", site="modelscope").commit(files)
    listed = source(hub).list_files(RepoRef("acme/set", "dataset"), commit)
    assert [item.path for item in listed] == sorted(files)
    pages = [r.query for r in hub.requests if r.path.endswith("/repo/tree")]
    assert len(pages) == 3 and all("PageSize=200" in query for query in pages)


def test_files_null_is_a_missing_revision_never_an_empty_model(hub: TestHub) -> None:
    hub.create_repo("acme/tiny", site="modelscope").commit({"config.json": b"{}"})
    with pytest.raises(RevisionNotFoundError, match="'0000000000"):
        source(hub).list_files(RepoRef("acme/tiny"), "0" * 40)


def test_a_commit_id_resolves_to_itself_and_carries_its_date(hub: TestHub) -> None:
    repo = hub.create_repo("acme/tiny", site="modelscope")
    first = repo.commit({"config.json": b"{}"})
    repo.commit({"config.json": b"[]"})
    resolved = source(hub).resolve(RepoRef("acme/tiny"), first)
    assert resolved.commit == first and resolved.date == repo.commit_date(first)


def test_a_storage_cdn_that_names_other_bytes_is_refused_before_the_body(
    hub: TestHub, tmp_path: Path
) -> None:
    repo = hub.create_repo("acme/tiny", site="modelscope")
    commit = repo.commit({"model.safetensors": random_bytes(300_000, 1)})
    hub.create_repo("acme/other", site="modelscope").commit(
        {"model.safetensors": random_bytes(300_000, 2)}
    )
    other = hub.repo("acme/other", site="modelscope")
    ms = source(hub)
    (locked,) = ms.list_files(RepoRef("acme/tiny"), commit)
    # Ask acme/other for the bytes acme/tiny's lock pins: its CDN announces another sha256.
    task = FileTask(
        "m",
        "modelscope",
        RepoRef("acme/other"),
        Commit(other.resolve("master")),
        "model.safetensors",
        "models/m/model.safetensors",
        locked.size,
        locked.digest,
    )
    with HttpPool(timeout=5) as pool, pytest.raises(IntegrityError, match="X-Linked-ETag"):
        Downloader(always(ms), Store(tmp_path / "s"), pool).fetch(task)
    # Refused on the headers: no download, no second try of the whole body.
    assert len([r for r in hub.requests if r.origin == "ms-cdn"]) == 1


def test_the_saved_login_is_read_as_the_official_client_writes_it(tmp_path: Path) -> None:
    config = pytest.importorskip("modelscope_hub.config")
    home = tmp_path / "ms-home"
    official = config.HubConfig(endpoint="http://127.0.0.1:1", config_dir=home)
    official.save_token("saved-login-token")
    assert find_token({"MODELSCOPE_HOME": str(home)}) == "saved-login-token"
    # The variable wins, and set but empty means "no token", as in the official client.
    env = {"MODELSCOPE_HOME": str(home), "MODELSCOPE_API_TOKEN": "from-env"}
    assert find_token(env) == "from-env"
    assert find_token({**env, "MODELSCOPE_API_TOKEN": ""}) is None
    cookies = home / "credentials" / "cookies"
    assert saved_login(cookies, now=4e9) is None, "an expired login is no token"


class Exploit:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (Path.touch, (str(PWNED),))


PWNED = Path("/nonexistent")


def test_a_hostile_cookie_file_runs_nothing(tmp_path: Path) -> None:
    global PWNED
    PWNED = tmp_path / "pwned"
    cookies = tmp_path / "home" / "credentials" / "cookies"
    cookies.parent.mkdir(parents=True)
    cookies.write_bytes(pickle.dumps(Exploit()))
    assert find_token({"MODELSCOPE_HOME": str(tmp_path / "home")}) is None
    assert not PWNED.exists()
    pickle.loads(cookies.read_bytes())  # noqa: S301 - what a plain unpickler does, on purpose
    assert PWNED.exists()


@pytest.mark.parametrize(
    ("env", "setting", "expected"),
    [
        ({}, None, "https://modelscope.cn"),
        ({}, "https://ms.example/", "https://ms.example"),
        (
            {"MODELSCOPE_DOMAIN": "www.modelscope.cn"},
            "https://ms.example",
            "https://www.modelscope.cn",
        ),
        ({"MODELSCOPE_DOMAIN": "http://d.example"}, None, "http://d.example"),
        (
            {"MODELSCOPE_ENDPOINT": "e.example", "MODELSCOPE_DOMAIN": "d.example"},
            None,
            "https://e.example",
        ),
    ],
)
def test_the_modelscope_endpoint_rule(
    env: dict[str, str], setting: str | None, expected: str
) -> None:
    config = build_config(Settings(modelscope_endpoint=setting), None, env=env)
    assert config.endpoints["modelscope"] == expected
    assert config.endpoints["hf"] == "https://huggingface.co"
