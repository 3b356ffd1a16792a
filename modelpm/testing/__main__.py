"""``python -m modelpm.testing serve --repo acme/tiny=./folder``: a test hub in its own process.

Prints one JSON line ``{"endpoint", "cdn_endpoint", "modelscope_endpoint", "repos": {id:
sha}, "ms_repos": {id: sha}}`` once it listens, then serves until SIGTERM or SIGINT.
``--ms-repo`` serves a folder on the ModelScope face. Control it with
:class:`modelpm.testing.RemoteTestHub` (at any of its endpoints).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from modelpm.testing.hub import Site, TestHub


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m modelpm.testing")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve folders as repos on 127.0.0.1")
    serve.add_argument(
        "--repo",
        action="append",
        default=[],
        metavar="ID=FOLDER",
        help="serve FOLDER as repo ID (prefix the id with 'dataset:' for datasets)",
    )
    serve.add_argument(
        "--ms-repo",
        action="append",
        default=[],
        metavar="ID=FOLDER",
        help="serve FOLDER as repo ID on the ModelScope face ('dataset:' prefix likewise)",
    )
    serve.add_argument("--tag", action="append", default=[], metavar="ID:TAG=REV")
    serve.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args(argv)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with TestHub(page_size=args.page_size) as hub:
        shas: dict[str, str] = {}
        ms_shas: dict[str, str] = {}
        sites: tuple[tuple[list[str], Site, dict[str, str]], ...] = (
            (args.repo, "hf", shas),
            (args.ms_repo, "modelscope", ms_shas),
        )
        for specs, site, found in sites:
            for spec in specs:
                repo_id, _, folder = spec.partition("=")
                repo_type = "model"
                if ":" in repo_id:
                    repo_type, _, repo_id = repo_id.partition(":")
                repo = hub.create_repo(repo_id, repo_type=repo_type, site=site)
                found[repo_id] = repo.commit_folder(Path(folder))
        for spec in args.tag:
            target, _, rev = spec.partition("=")
            repo_id, _, tag = target.rpartition(":")
            hub.repo(repo_id).create_tag(tag, rev or "main")
        print(
            json.dumps(
                {
                    "endpoint": hub.endpoint,
                    "cdn_endpoint": hub.cdn_endpoint,
                    "modelscope_endpoint": hub.modelscope_endpoint,
                    "repos": shas,
                    "ms_repos": ms_shas,
                }
            ),
            flush=True,
        )
        while not stop.wait(0.2):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
