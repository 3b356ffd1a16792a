"""The layout's rules, measured from the code: who may import what, no cycles, small modules.

Imports are read with ``ast`` from every module of the package, including imports
inside functions and under ``if TYPE_CHECKING`` (a cycle of type-only imports is
still a cycle to a reader). ``from package import name`` counts as an import of
``package.name`` when that is a module, else of the package.
"""

from __future__ import annotations

import ast
import statistics
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "modelpm"
HUB_CLIENTS = {"huggingface_hub", "httpx2"}
# The official ModelScope client is a test extra (conformance tests only): no module uses it.
MODELSCOPE_CLIENT = {"modelscope", "modelscope_hub", "requests"}
CLI_LIBRARIES = {"typer", "rich", "click"}
S3_CLIENTS = {"obstore", "boto3", "botocore", "minio", "s3fs"}
# What the in-memory source may use: the interface it implements, nothing of the logic.
INTERFACES = {
    "modelpm.errors",
    "modelpm.sources.base",
    "modelpm.transfer.origin",
    "modelpm.transfer.transport",
    "modelpm.values",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


@cache
def imports_of(name: str) -> frozenset[str]:
    """Every module ``name`` imports (modelpm's own resolved to modules, others by top name)."""
    path = modules()[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in modules() else base)
    return frozenset(item if item.startswith("modelpm") else item.split(".")[0] for item in found)


def importers_of(targets: set[str]) -> dict[str, set[str]]:
    return {
        name: set(imports_of(name) & targets) for name in modules() if imports_of(name) & targets
    }


def in_package(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_only_the_hf_source_imports_the_hub_client() -> None:
    offenders = {
        name: found
        for name, found in importers_of(HUB_CLIENTS).items()
        if not in_package(name, "modelpm.sources.hf")
    }
    assert offenders == {}


def test_only_the_remote_store_client_imports_the_s3_library() -> None:
    # Reading objects during a sync is the engine's plain HTTP: only writing, listing and
    # deleting in the bucket load obstore.
    assert set(importers_of(S3_CLIENTS)) == {"modelpm.store.remote.client"}
    assert importers_of(S3_CLIENTS)["modelpm.store.remote.client"] == {"obstore"}


def test_nothing_imports_the_official_modelscope_client() -> None:
    assert importers_of(MODELSCOPE_CLIENT) == {}


def test_only_the_cli_imports_typer_and_rich() -> None:
    offenders = {
        name: found
        for name, found in importers_of(CLI_LIBRARIES).items()
        if not in_package(name, "modelpm.cli")
    }
    assert offenders == {}


def test_nothing_imports_the_cli_but_the_entry_point() -> None:
    importers = {
        name
        for name in modules()
        if not in_package(name, "modelpm.cli")
        and any(in_package(item, "modelpm.cli") for item in imports_of(name))
    }
    assert importers <= {"modelpm.entry", "modelpm.__main__"}
    # Before deciding to load the CLI, the entry point reads only what prints without typer.
    printers = {
        "modelpm.cli.messages",
        "modelpm.cli.consoles",
        "modelpm.cli.status_view",
        "modelpm.cli.verify_view",
    }
    assert {item for item in imports_of("modelpm.entry") if item.startswith("modelpm.cli")} == {
        *printers,
        "modelpm.cli.main",
    }
    for printer in printers:
        assert "typer" not in {item.split(".")[0] for item in imports_of(printer)}, printer


def test_the_core_never_imports_the_testing_package() -> None:
    offenders = {
        name
        for name in modules()
        if not in_package(name, "modelpm.testing")
        and any(in_package(item, "modelpm.testing") for item in imports_of(name))
    }
    assert offenders == set()


def test_the_test_hub_is_an_independent_oracle() -> None:
    """It imports nothing of modelpm but itself; the in-memory source only the interfaces."""
    for name in modules():
        if not in_package(name, "modelpm.testing"):
            continue
        own = {item for item in imports_of(name) if item.startswith("modelpm")}
        outside = {item for item in own if not in_package(item, "modelpm.testing")}
        allowed = INTERFACES if name == "modelpm.testing.memory" else set()
        assert outside <= allowed, (name, outside - allowed)
        assert not imports_of(name) & HUB_CLIENTS, name


def test_the_transfer_engine_and_the_planner_know_no_source() -> None:
    for name in modules():
        if any(in_package(name, f"modelpm.{part}") for part in ("transfer", "plan", "place")):
            sources = {item for item in imports_of(name) if in_package(item, "modelpm.sources")}
            assert sources == set(), name


def test_there_is_no_import_cycle() -> None:
    graph = {name: {item for item in imports_of(name) if item in modules()} for name in modules()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                component.append(item)
                if item == node:
                    break
            if len(component) > 1 or node in graph[node]:
                cycles.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for name in graph:
        if name not in index:
            visit(name)
    assert cycles == []


def test_modules_are_small() -> None:
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()
    }
    assert {name: size for name, size in sizes.items() if size > 400} == {}
    assert statistics.median(sizes.values()) <= 150


def test_every_module_says_what_it_owns() -> None:
    missing = [
        name
        for name, path in modules().items()
        if ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) is None
    ]
    assert missing == []


def test_the_data_path_has_one_package_per_step() -> None:
    for step in ("manifest", "resolve", "lockfile", "plan", "transfer", "store", "place"):
        assert f"modelpm.{step}" in modules(), step
    assert "modelpm.sources.base" in modules() and "modelpm.sources.hf" in modules()
    assert "modelpm.sources.modelscope" in modules()


NOOP = """
import sys
from modelpm.entry import answer_noop_sync
assert answer_noop_sync(["sync"])
loaded = {name.split(".")[0] for name in sys.modules}
print(",".join(sorted(loaded & {"huggingface_hub", "httpx2", "http", "ssl", "urllib3",
                                 "typer", "rich", "click", "filelock", "tomlkit",
                                 "concurrent", "obstore"})))
"""


@pytest.mark.usefixtures("hub")
def test_a_noop_sync_loads_no_hub_network_or_cli_library(
    tmp_path: Path, hub: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from support import make_workspace

    from modelpm.testing import TestHub

    assert isinstance(hub, TestHub)
    ws = make_workspace(tmp_path, hub, monkeypatch)
    hub.create_repo("acme/m").commit({"config.json": b"{}", "w.safetensors": b"w" * 5000})
    ws.write('[models.m]\nrepo = "acme/m"\n')
    assert ws.cli("sync").exit_code == 0
    hub.reset_stats()
    done = subprocess.run(
        [sys.executable, "-c", NOOP], cwd=ws.root, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
    assert hub.request_count == 0
