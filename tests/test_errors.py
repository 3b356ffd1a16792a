"""Specific errors: every exception the Hub client can raise is mapped, tokens and gated
repos say exactly what is wrong, and a sync in which several files fail names them all."""

from __future__ import annotations

import inspect
from pathlib import Path

import httpx2
import huggingface_hub.errors as hf_errors
import pytest
from support import Workspace, make_workspace

from modelpm.errors import (
    GatedRepoError,
    HubError,
    ModelpmError,
    NetworkError,
    OfflineError,
    RepoNotFoundError,
    RevisionNotFoundError,
    TokenRejectedError,
)
from modelpm.sources.hf.errors import HANDLED, NOT_MET, translate_errors
from modelpm.testing import Fault, TestHub
from modelpm.values import RepoRef

URL = "https://hub.example/api/models/acme/x"


def exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for module in (hf_errors, httpx2):
        for name, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__.startswith(
                ("huggingface_hub", "httpx2")
            ):
                found[name] = value
    return found


def test_every_client_exception_is_mapped_or_known_to_be_unreachable() -> None:
    classes = exception_classes()
    unclassified = sorted(set(classes) - set(HANDLED) - set(NOT_MET))
    assert unclassified == [], (
        "huggingface_hub or httpx2 gained exception classes: map each in "
        "modelpm/sources/hf/errors.py HANDLED, or say in NOT_MET why modelpm never meets it"
    )
    assert set(HANDLED) & set(NOT_MET) == set()
    assert set(HANDLED) <= set(classes), "a mapped class no longer exists"


def raised(exc: BaseException, token_set: bool = False) -> ModelpmError:
    with (
        pytest.raises(ModelpmError) as caught,
        translate_errors("https://hub.example", RepoRef("acme/x"), "main", token_set=token_set),
    ):
        raise exc
    return caught.value


def http_error(kind: type[hf_errors.HfHubHTTPError], status: int) -> hf_errors.HfHubHTTPError:
    response = httpx2.Response(status, request=httpx2.Request("GET", URL))
    return kind(f"{status} from the hub", response=response)


@pytest.mark.parametrize(
    ("kind", "status", "expected"),
    [
        (hf_errors.GatedRepoError, 401, GatedRepoError),
        (hf_errors.RepositoryNotFoundError, 401, RepoNotFoundError),
        (hf_errors.RevisionNotFoundError, 404, RevisionNotFoundError),
        (hf_errors.RemoteEntryNotFoundError, 404, HubError),
        (hf_errors.DisabledRepoError, 403, RepoNotFoundError),
        (hf_errors.BadRequestError, 400, HubError),
        (hf_errors.HfHubHTTPError, 429, NetworkError),
        (hf_errors.HfHubHTTPError, 500, HubError),
    ],
)
def test_each_http_error_class_becomes_its_own_error(
    kind: type[hf_errors.HfHubHTTPError], status: int, expected: type[ModelpmError]
) -> None:
    error = raised(http_error(kind, status))
    assert type(error) is expected or isinstance(error, expected)
    assert error.hint and "\n" not in error.message


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpx2.ConnectError("refused"), NetworkError),
        (httpx2.ReadTimeout("slow"), NetworkError),
        (httpx2.RemoteProtocolError("garbage"), NetworkError),
        (httpx2.DecodingError("bad gzip"), HubError),
        (httpx2.TooManyRedirects("loop"), HubError),
        (hf_errors.OfflineModeIsEnabled("offline"), OfflineError),
        (hf_errors.HFValidationError("bad id"), HubError),
        (ValueError("Expecting value: line 1"), HubError),
    ],
)
def test_transport_offline_and_garbage_answers_are_mapped(
    exc: BaseException, expected: type[ModelpmError]
) -> None:
    assert isinstance(raised(exc), expected)


def test_a_401_is_the_token_rejected_with_a_token_and_a_gated_repo_without() -> None:
    with_token = raised(http_error(hf_errors.HfHubHTTPError, 401), token_set=True)
    assert isinstance(with_token, TokenRejectedError)
    assert "the token was rejected" in with_token.message
    without = raised(http_error(hf_errors.HfHubHTTPError, 401), token_set=False)
    assert isinstance(without, GatedRepoError) and "no token is set" in without.message


@pytest.fixture
def ws(tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    gated = hub.create_repo("acme/gated", gated=True)
    gated.commit({"config.json": b"{}", "model.safetensors": b"w" * 1000})
    return make_workspace(tmp_path, hub, monkeypatch)


def test_an_invalid_token_is_its_own_line_not_a_gated_repo(
    ws: Workspace, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.create_repo("acme/public").commit({"config.json": b"{}"})
    ws.write('[models.p]\nrepo = "acme/public"\n')
    monkeypatch.setenv("HF_TOKEN", "hf_revoked_or_mistyped_0000")  # the hub never issued it
    result = ws.cli("lock")
    assert result.exit_code == 1
    assert result.error.splitlines() == [
        f"error: {hub.endpoint} rejected the token (401): the token was rejected",
        "hint: set HF_TOKEN to a valid token (or run `hf auth login`), or unset it for public "
        "repos",
    ]
    assert "hf_revoked" not in result.stderr


def test_a_gated_repo_says_whether_a_token_is_set(
    ws: Workspace, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws.write('[models.g]\nrepo = "acme/gated"\n')
    first = ws.cli("sync").error.splitlines()[0]
    assert first.startswith("error: acme/gated is gated and no token is set")
    hub.add_token("hf_valid_but_not_granted_0000", repos=["acme/other"])
    monkeypatch.setenv("HF_TOKEN", "hf_valid_but_not_granted_0000")
    second = ws.cli("sync").error.splitlines()[0]
    assert second.startswith("error: acme/gated is gated and this token has no access")


def test_when_several_files_fail_every_one_is_named(ws: Workspace, hub: TestHub) -> None:
    ws.write('[models.g]\nrepo = "acme/gated"\n')
    result = ws.cli("sync")
    first = result.error.splitlines()[0]
    assert "(2 files failed: g/config.json, g/model.safetensors)" in first


def test_different_failures_keep_the_first_reason_and_name_the_rest(
    ws: Workspace, hub: TestHub
) -> None:
    hub.create_repo("acme/two").commit(
        {"a.safetensors": b"a" * 3000, "b.safetensors": b"b" * 2000, "ok.json": b"{}"}
    )
    ws.write('[models.t]\nrepo = "acme/two"\n')
    assert ws.cli("lock").exit_code == 0
    hub.add_fault(Fault("corrupt", origin="cdn", after_bytes=5, times=None))
    result = ws.cli("sync")
    assert result.exit_code == 1
    first = result.error.splitlines()[0]
    assert first.startswith("error: t/a.safetensors: downloaded bytes do not match the lock")
    assert first.endswith("(2 files failed: t/a.safetensors, t/b.safetensors)")
    assert (ws.root / "models/t/ok.json").exists(), "every other file still lands"
