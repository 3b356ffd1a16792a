"""A hostile ModelScope endpoint is bounded as a hostile Hub is (tests/test_hardening_net.py):
an API call that never answers, an answer that drips or never ends, and a dataset listing
whose pages never end all fail in one line within seconds, instead of hanging the lock or
filling memory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import Workspace, bounded_lock_failure, make_workspace

from modelpm.testing import Fault, TestHub


@pytest.fixture
def ws(tmp_path: Path, hub: TestHub, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    workspace = make_workspace(tmp_path, hub, monkeypatch)
    monkeypatch.setenv("MODELPM_STALL_TIMEOUT", "0.5")
    hub.create_repo("acme/m", site="modelscope").commit({"config.json": b"{}"})
    hub.create_repo("acme/set", repo_type="dataset", site="modelscope").commit({"a.jsonl": b"1"})
    workspace.write(
        '[settings]\nsource = "modelscope"\n\n[models.m]\nrepo = "acme/m"\n\n'
        '[models.set]\nrepo = "acme/set"\nrepo-type = "dataset"\n'
    )
    return workspace


def hostile(route: str, **answer: object) -> Fault:
    return Fault("answer", origin="modelscope", path_contains=route, times=None, **answer)  # type: ignore[arg-type]


def test_an_api_call_that_never_answers_is_cut_by_the_stall_timeout(
    ws: Workspace, hub: TestHub
) -> None:
    hub.add_fault(hostile("/commits", seconds=60))
    assert "cannot reach" in bounded_lock_failure(ws, 20)


def test_an_answer_that_drips_is_cut_at_its_deadline(
    ws: Workspace, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("modelpm.sources.modelscope.api.BODY_DEADLINE", 1.0)
    hub.add_fault(Fault("drip", origin="modelscope", path_contains="/commits", seconds=0.2))
    assert "an answer still arriving after 1 s" in bounded_lock_failure(ws, 20)


def test_an_endless_body_is_refused_not_read_into_memory(
    ws: Workspace, hub: TestHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("modelpm.sources.modelscope.api.MAX_BODY", 2 * 1024 * 1024)
    fault = hostile(
        "/commits",
        status=200,
        body='{"Code": 200, "Data": [' * 100,
        endless=True,
        headers={"Content-Type": "application/json"},
    )
    hub.add_fault(fault)
    assert "an answer of more than 2 MiB" in bounded_lock_failure(ws, 30)


def test_dataset_pages_that_never_end_are_refused(ws: Workspace, hub: TestHub) -> None:
    # Every page is full (200 entries), and the same: a listing that would never end.
    files = [{"Path": f"f{index}.jsonl", "Type": "blob", "Size": 1} for index in range(200)]
    page = json.dumps({"Code": 200, "Success": True, "Data": {"Files": files}})
    hub.add_fault(
        hostile("/repo/tree", status=200, body=page, headers={"Content-Type": "application/json"})
    )
    assert "page 2 repeats entries of an earlier page" in bounded_lock_failure(ws, 30)


def test_an_api_redirect_to_an_invalid_url_is_one_line(ws: Workspace, hub: TestHub) -> None:
    # Found by the fuzzer: a Location with a broken IPv6 literal made urljoin raise.
    hub.add_fault(hostile("/api/v1/", status=301, body="[]", headers={"Location": "http://[::1"}))
    assert "a redirect to an invalid URL" in bounded_lock_failure(ws, 20)
