"""Fuzzing: a hostile server drawn at random never breaks modelpm's promises.

A bounded number of examples runs in the suite (``MODELPM_FUZZ_EXAMPLES``, default
20 per site of the test hub (the Hub's face and ModelScope's) and 60 on the engine, in
front of each origin: the in-memory source, the Hub, ModelScope and the remote store);
``python benchmarks/fuzz_hostile.py --examples N`` runs more. Properties,
for every example: no traceback; exit code 0, 1 or 2; nothing written outside the
project and the store; every file placed is the locked one (``verify`` never finds
a modified or unexpected file); and once the server behaves, the next sync completes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile import HostileTransport, Site, hostile_faults
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import CliResult, random_bytes
from typer.testing import CliRunner

from modelpm.cli.main import app
from modelpm.errors import ModelpmError
from modelpm.plan.tasks import FileTask
from modelpm.s3url import AwsCredentials, parse_s3_url
from modelpm.sources.hf.source import HfSource
from modelpm.sources.modelscope.source import ModelScopeSource
from modelpm.store.local import Store
from modelpm.store.remote.account import Account
from modelpm.store.remote.origin import Health, RemoteOrigin
from modelpm.testing import Fault, TestHub
from modelpm.testing.memory import MemorySource
from modelpm.transfer.engine import Downloader, always
from modelpm.transfer.options import TransferOptions
from modelpm.transfer.origin import Origin
from modelpm.transfer.retry import RetryPolicy
from modelpm.values import Commit, Digest, RepoRef

HUB_EXAMPLES = int(os.environ.get("MODELPM_FUZZ_EXAMPLES", "20"))
ENGINE_EXAMPLES = int(os.environ.get("MODELPM_FUZZ_EXAMPLES", "60"))
FILES = {
    "config.json": b'{"hidden": 8}\n',
    "w.safetensors": random_bytes(150_000, 21),
    "nested/t.txt": b"tokens\n",
}
ENV = {
    "MODELPM_STALL_TIMEOUT": "0.3",
    "MODELPM_RETRY_DELAY": "0",
    "MODELPM_CONNECTIONS": "2",
}


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def everything_under(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


def cli(*args: str) -> CliResult:
    result = CliRunner().invoke(app, list(args))
    return CliResult(result.exit_code, result.stdout, result.stderr, result.exception)


def check_promises(result: CliResult, *, error_line: bool = True) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code in (0, 1, 2), result.stderr
    assert "Traceback" not in result.stderr
    if result.exit_code and error_line:
        assert result.error.startswith("error: "), result.stderr


@settings(
    max_examples=HUB_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(faults=hostile_faults("hf"))
def test_a_hostile_hub_never_breaks_a_promise(
    faults: list[Fault], tmp_path_factory: pytest.TempPathFactory
) -> None:
    check_site("hf", faults, tmp_path_factory)


@settings(
    max_examples=HUB_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(faults=hostile_faults("modelscope"))
def test_a_hostile_modelscope_never_breaks_a_promise(
    faults: list[Fault], tmp_path_factory: pytest.TempPathFactory
) -> None:
    check_site("modelscope", faults, tmp_path_factory)


def check_site(site: Site, faults: list[Fault], tmp_path_factory: pytest.TempPathFactory) -> None:
    """Lock and sync one model from ``site`` of a test hub that answers with ``faults``."""
    base = tmp_path_factory.mktemp("fuzz")
    project, store, outside = base / "project", base / "store", base / "outside"
    for folder in (project, outside):
        folder.mkdir()
    (outside / "precious").write_bytes(b"keep me")
    with TestHub(base / "hub") as hub:
        hub.create_repo("acme/m", site=site).commit(FILES)
        manifest = f'[models.m]\nsource = "{site}"\nrepo = "acme/m"\n'
        (project / "models.toml").write_text(manifest, encoding="utf-8")
        env = {
            **ENV,
            "HF_ENDPOINT": hub.endpoint,
            "MODELSCOPE_ENDPOINT": hub.modelscope_endpoint,
            "MODELPM_HOME": str(store),
        }
        mine = (project, store, base / "hub")
        with environment(env), contextlib.chdir(project):
            for fault in faults:
                hub.add_fault(fault)
            for command in ("lock", "sync"):
                check_promises(cli(command))
            created = {
                path
                for path in everything_under(base)
                if path not in mine and not any(folder in path.parents for folder in mine)
            } - {outside, outside / "precious"}
            assert created == set(), "nothing is written outside the project and the store"
            assert (outside / "precious").read_bytes() == b"keep me"
            verify = cli("verify")
            check_promises(verify, error_line=False)
            for line in verify.stderr.splitlines():
                assert not line.startswith("modified "), line
                assert not line.startswith("unexpected ") or ".modelpm-tmp-" in line, line
            hub.clear_faults()
            rerun = cli("sync")
            assert rerun.exit_code in (0, 2), rerun.stderr  # 2: the lock was refused, stays so
            if rerun.exit_code == 0:
                assert cli("verify").exit_code == 0


TRUTH = random_bytes(300_000, 4)
DIGEST = Digest("sha256", hashlib.sha256(TRUTH).hexdigest())
OPTIONS = TransferOptions(
    connections=3,
    split_size=100_000,
    chunk_size=64 * 1024,
    min_segment=16 * 1024,
    read_size=16 * 1024,
    stall_timeout=1,
    retry=RetryPolicy(retries=3, backoff=0.0, max_backoff=0.0),
    record_every=0.0,
)


def origin_of(kind: str, hub: TestHub) -> tuple[Origin, Commit]:
    """An origin of ``kind``, with the commit to ask it for (its bytes come from the
    hostile transport, whatever URL it names)."""
    if kind == "memory":
        memory = MemorySource()
        commit = memory.create_repo("acme/m").commit({"w.safetensors": TRUTH})
        return memory, commit
    if kind == "modelscope":
        return ModelScopeSource("http://127.0.0.1:9", None), Commit("c" * 40)
    if kind == "remote":
        # An empty bucket by its probe (the test hub answers the marker 404): usable, so
        # every object is asked of the hostile transport.
        address = parse_s3_url("s3://bucket/prefix")
        account = Account(hub.endpoint, "us-east-1", True, AwsCredentials("AKIDFUZZ", "secret"))
        return RemoteOrigin(address, account, Health(address, account)), Commit("c" * 40)
    return HfSource("http://127.0.0.1:9", None), Commit("c" * 40)


@settings(
    max_examples=ENGINE_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 10**9), kind=st.sampled_from(["memory", "hf", "modelscope", "remote"]))
def test_no_origin_gets_wrong_bytes_into_the_store(
    seed: int, kind: str, hub: TestHub, tmp_path_factory: pytest.TempPathFactory
) -> None:
    origin, commit = origin_of(kind, hub)
    store = Store(tmp_path_factory.mktemp("engine"))
    wanted = FileTask(
        "m",
        "hf",
        RepoRef("acme/m"),
        commit,
        "w.safetensors",
        "m/w.safetensors",
        len(TRUTH),
        DIGEST,
    )
    transport = HostileTransport(seed, TRUTH)
    try:
        path = Downloader(always(origin), store, transport, OPTIONS).fetch(wanted)
    except ModelpmError:
        assert not store.object_path(DIGEST).exists(), "a failed fetch commits nothing"
        return
    assert path.read_bytes() == TRUTH
