"""The test hub itself: git ids, ranges, pagination, tokens, faults on the wire, control plane."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from support import random_bytes

from modelpm.testing import Fault, RemoteTestHub, TestHub


def get(
    url: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, headers=headers or {})
        response = connection.getresponse()
        try:
            body = response.read()
        except http.client.IncompleteRead as exc:
            body = exc.partial
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        connection.close()


def git(*args: str, cwd: Path) -> str:
    env = {
        "GIT_AUTHOR_NAME": "testhub",
        "GIT_AUTHOR_EMAIL": "testhub@localhost",
        "GIT_COMMITTER_NAME": "testhub",
        "GIT_COMMITTER_EMAIL": "testhub@localhost",
        "GIT_AUTHOR_DATE": "1704067260 +0000",
        "GIT_COMMITTER_DATE": "1704067260 +0000",
        "HOME": str(cwd),
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_commit_ids_are_the_ones_git_computes(hub: TestHub, tmp_path: Path) -> None:
    files = {
        "a.txt": b"hello\n",
        "sub/b.txt": b"world\n",
        "sub/deeper/c.json": b"{}",
        "sub-file": b"x",
        "model.safetensors": b"weights",
    }
    repo = hub.create_repo("acme/git")
    sha = repo.commit(files, message="first")
    work = tmp_path / "git"
    work.mkdir()
    git("init", "-q", cwd=work)
    for path, data in files.items():
        target = work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.endswith(".safetensors"):  # stored as its LFS pointer in git
            item = repo.files()[path]
            data = (
                f"version https://git-lfs.github.com/spec/v1\noid sha256:{item.sha256}\n"
                f"size {item.size}\n"
            ).encode()
        target.write_bytes(data)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "first", cwd=work)
    assert sha == git("rev-parse", "HEAD", cwd=work)
    listed = repo.files()
    assert listed["a.txt"].git_sha1 == git("hash-object", "a.txt", cwd=work)
    assert listed["model.safetensors"].lfs
    assert listed["model.safetensors"].git_sha1 == git("hash-object", "model.safetensors", cwd=work)


def test_resolve_serves_ranges_and_416(hub: TestHub) -> None:
    data = random_bytes(5000, 1)
    hub.create_repo("acme/r").commit({"data.txt": data})
    url = f"{hub.endpoint}/acme/r/resolve/main/data.txt"
    status, headers, body = get(url, {"Range": "bytes=100-199"})
    assert (status, body, headers["content-range"]) == (206, data[100:200], "bytes 100-199/5000")
    status, _, body = get(url, {"Range": "bytes=4990-"})
    assert (status, body) == (206, data[4990:])
    status, headers, _ = get(url, {"Range": "bytes=5000-"})
    assert status == 416 and headers["content-range"] == "bytes */5000"
    status, headers, body = get(url, method="HEAD")
    assert status == 200 and body == b"" and headers["content-length"] == "5000"
    assert headers["x-repo-commit"] == hub.repo("acme/r").resolve("main")


def test_lfs_redirects_to_an_expiring_cdn_link(hub: TestHub) -> None:
    hub.create_repo("acme/l").commit({"w.bin": random_bytes(1000, 2)})
    status, headers, _ = get(f"{hub.endpoint}/acme/l/resolve/main/w.bin", method="HEAD")
    assert status == 302
    location = headers["location"]
    assert location.startswith(hub.cdn_endpoint + "/lfs/")
    assert headers["x-linked-size"] == "1000"
    assert get(location)[0] == 200
    assert get(location.replace("sig=", "sig=0"))[0] == 403
    hub.add_fault(Fault("expire_cdn"))
    assert get(location)[0] == 403
    assert get(location)[0] == 200


def test_tree_pagination_uses_absolute_link_headers(hub: TestHub) -> None:
    hub.create_repo("acme/p").commit({f"f{i}.txt": b"x" for i in range(5)})
    hub.page_size = 2
    url = f"{hub.endpoint}/api/models/acme/p/tree/main?recursive=true&expand=false"
    seen: list[str] = []
    while url:
        status, headers, body = get(url)
        assert status == 200
        seen += [entry["path"] for entry in json.loads(body)]
        link = headers.get("link", "")
        url = link[1 : link.index(">")] if link else ""
        assert not url or url.startswith(hub.endpoint)
    assert seen == [f"f{i}.txt" for i in range(5)]


def test_typed_errors_and_tokens(hub: TestHub) -> None:
    hub.create_repo("acme/private", private=True).commit({"a": b"1"})
    hub.create_repo("acme/gated", gated=True).commit({"a": b"1"})
    hub.add_token("hf_good", repos=["acme/private"])
    status, headers, _ = get(f"{hub.endpoint}/api/models/acme/private")
    assert (status, headers["x-error-code"]) == (401, "RepoNotFound")
    assert (
        get(f"{hub.endpoint}/api/models/acme/private", {"Authorization": "Bearer hf_good"})[0]
        == 200
    )
    status, headers, _ = get(
        f"{hub.endpoint}/api/models/acme/private", {"Authorization": "Bearer hf_bad"}
    )
    assert status == 401 and headers["x-error-message"].startswith("Invalid credentials")
    assert get(f"{hub.endpoint}/api/models/acme/gated")[0] == 200, "gated metadata is public"
    status, headers, _ = get(f"{hub.endpoint}/acme/gated/resolve/main/a")
    assert (status, headers["x-error-code"]) == (401, "GatedRepo")
    status, headers, _ = get(
        f"{hub.endpoint}/acme/gated/resolve/main/a", {"Authorization": "Bearer hf_good"}
    )
    assert (status, headers["x-error-code"]) == (403, "GatedRepo")
    status, headers, _ = get(f"{hub.endpoint}/api/models/acme/gated/revision/nope")
    assert (status, headers["x-error-code"]) == (404, "RevisionNotFound")
    status, headers, _ = get(
        f"{hub.endpoint}/acme/private/resolve/main/zz", {"Authorization": "Bearer hf_good"}
    )
    assert (status, headers["x-error-code"]) == (404, "EntryNotFound")
    assert headers["x-repo-commit"] == hub.repo("acme/private").resolve("main")


@pytest.mark.parametrize(
    ("fault", "expected_length"),
    [
        (Fault("drop", after_bytes=1000), 1000),
        (Fault("reset", after_bytes=1000), None),
        (Fault("truncate"), 9999),
        (Fault("corrupt", after_bytes=10), 10000),
        (Fault("stall", after_bytes=10, seconds=0.3), 10000),
        (Fault("throttle", rate=100_000), 10000),
    ],
)
def test_body_faults_on_the_wire(hub: TestHub, fault: Fault, expected_length: int | None) -> None:
    data = random_bytes(10000, 3)
    hub.create_repo("acme/f").commit({"d.txt": data})
    hub.add_fault(fault)
    began = time.monotonic()
    try:
        status, _, body = get(f"{hub.endpoint}/acme/f/resolve/main/d.txt")
    except ConnectionResetError:
        assert fault.kind == "reset"
        return
    elapsed = time.monotonic() - began
    assert status == 200
    if expected_length is not None:
        assert len(body) == expected_length
    if fault.kind == "corrupt":
        assert body != data and body[:10] == data[:10] and body[11:] == data[11:]
    if fault.kind == "stall":
        assert elapsed >= 0.3
    if fault.kind == "throttle":
        assert elapsed >= 0.08
    assert get(f"{hub.endpoint}/acme/f/resolve/main/d.txt")[2] == data, "fault used up"


def test_status_fault_with_retry_after_and_ignore_range(hub: TestHub) -> None:
    hub.create_repo("acme/s").commit({"d.txt": b"0123456789"})
    hub.add_fault(Fault("status", status=429, retry_after=3, times=2))
    for _ in range(2):
        status, headers, _ = get(f"{hub.endpoint}/acme/s/resolve/main/d.txt")
        assert status == 429 and headers["retry-after"] == "3"
    hub.add_fault(Fault("ignore_range"))
    status, _, body = get(f"{hub.endpoint}/acme/s/resolve/main/d.txt", {"Range": "bytes=5-"})
    assert (status, body) == (200, b"0123456789")
    assert [r.status for r in hub.requests] == [429, 429, 200]


def test_control_plane_of_a_hub_in_another_process(tmp_path: Path) -> None:
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "config.json").write_bytes(b"{}")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "modelpm.testing",
            "serve",
            "--repo",
            f"acme/x={folder}",
            "--tag",
            "acme/x:v1=main",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        remote = RemoteTestHub(info["endpoint"])
        assert get(f"{info['endpoint']}/acme/x/resolve/v1/config.json")[2] == b"{}"
        assert remote.stats()["request_count"] == 1
        remote.add_fault(Fault("status", status=500))
        assert get(f"{info['endpoint']}/acme/x/resolve/main/config.json")[0] == 500
        remote.reset_stats()
        assert remote.stats()["request_count"] == 0
        remote.clear_faults()
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
        if process.stdout is not None:
            process.stdout.close()


def test_a_token_never_issued_is_refused_on_every_hub_route(hub: TestHub) -> None:
    hub.create_repo("acme/open").commit({"a.txt": b"1", "w.bin": b"2"})
    hub.create_repo("acme/private", private=True).commit({"a.txt": b"1"})
    hub.create_repo("acme/gated", gated=True).commit({"a.txt": b"1"})
    hub.add_token("hf_issued", repos=["acme/open"])
    _, headers, _ = get(f"{hub.endpoint}/acme/open/resolve/main/w.bin", method="HEAD")
    cdn_link = headers["location"]
    bad = {"Authorization": "Bearer hf_never_issued"}
    routes = [
        ("GET", "/api/models/acme/open"),
        ("GET", "/api/models/acme/open/revision/main"),
        ("GET", "/api/models/acme/open/tree/main?recursive=true"),
        ("GET", "/api/models/acme/open/refs"),
        ("GET", "/api/models/acme/open/commits/main"),
        ("POST", "/api/models/acme/open/paths-info/main"),
        ("GET", "/api/models/acme/private"),
        ("GET", "/api/models/acme/missing"),
        ("GET", "/api/datasets/acme/open"),
        ("GET", "/api/whoami-v2"),
        ("GET", "/acme/open/resolve/main/a.txt"),
        ("HEAD", "/acme/open/resolve/main/a.txt"),
        ("HEAD", "/acme/open/resolve/main/w.bin"),
        ("GET", "/acme/gated/resolve/main/a.txt"),
        ("GET", "/acme/private/resolve/main/a.txt"),
    ]
    for method, route in routes:
        status, headers, body = get(f"{hub.endpoint}{route}", bad, method=method)
        assert status == 401, (method, route)
        assert headers["x-error-message"] == "Invalid credentials in Authorization header"
        assert "x-error-code" not in headers, "a code would make the client say 'not found'"
        if method != "HEAD":
            assert json.loads(body) == {"error": "Invalid credentials in Authorization header"}
    assert get(cdn_link, bad)[0] == 200, "the CDN checks its signed link, not tokens"
    assert get(f"{hub.endpoint}/_testhub/stats", bad)[0] == 200, "nor does the control plane"
    issued = {"Authorization": "Bearer hf_issued"}
    assert get(f"{hub.endpoint}/acme/open/resolve/main/a.txt", issued)[2] == b"1"
    status, headers, _ = get(f"{hub.endpoint}/acme/gated/resolve/main/a.txt", issued)
    assert (status, headers["x-error-code"]) == (403, "GatedRepo")


@pytest.mark.parametrize("throttled", [False, True])
def test_bytes_sent_are_counted_exactly_when_a_client_hangs_up_mid_body(
    hub: TestHub, throttled: bool
) -> None:
    size = 64 * 1024 * 1024
    hub.create_repo("acme/big").commit({"w.bin": random_bytes(size, 5)})
    _, headers, _ = get(f"{hub.endpoint}/acme/big/resolve/main/w.bin", method="HEAD")
    parts = urlsplit(headers["location"])
    if throttled:
        hub.add_fault(Fault("throttle", origin="cdn", rate=200 * 1024 * 1024, times=None))
    hub.reset_stats()
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    connection.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
    response = connection.getresponse()
    received = len(response.read(2 * 1024 * 1024))
    connection.close()  # hang up, mid-body
    settled, last = 0, -1
    for _ in range(100):  # until the server's count stops moving (its send failed)
        time.sleep(0.05)
        settled, last = (settled + 1 if hub.bytes_sent == last else 0), hub.bytes_sent
        if settled == 4:
            break
    # What the kernel took from the server, no more: the received bytes plus what was
    # still in the two sockets' buffers when the client hung up.
    assert received <= hub.bytes_sent <= received + 16 * 1024 * 1024
