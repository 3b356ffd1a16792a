"""Which pickle scanner the audit uses, by measurement: detection, false alarms, speed.

    pip install picklescan fickling modelscan torch==2.13.0 && python benchmarks/pickle_scanners.py

Each scanner reads crafted pickles (:mod:`modelpm.testing.pickles`: calls to
``os.system``, ``subprocess``, ``exec``, ``runpy``, obfuscated ``STACK_GLOBAL``,
a nested ``pickle.loads``, a malicious ``torch.save`` zip, a legacy file with a
second pickle behind a benign one, …) and benign ones (a state dict, a real
``torch.save`` file when torch is installed), then large files for speed. A
scanner that is not installed is left out of the table.
"""

from __future__ import annotations

import argparse
import importlib
import pickle
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modelpm.testing import pickles as p

MALICIOUS: dict[str, bytes] = {
    "os.system (protocol 0)": p.call("os", "system", "echo pwned", protocol=0),
    "posix.system (protocol 2)": p.call("posix", "system", "echo pwned"),
    "subprocess.Popen": p.call("subprocess", "Popen", "echo"),
    "builtins.exec": p.call("builtins", "exec", "import os"),
    "builtins.eval (STACK_GLOBAL)": p.stack_global("builtins", "eval", "1+1"),
    "runpy._run_code": p.call("runpy", "_run_code", "print(1)"),
    "STACK_GLOBAL from the memo": p.memo_global("subprocess", "check_output", "id"),
    "pickle.loads of a payload": p.nested(p.call("posix", "system", "id")),
    "importlib + getattr chain": p.getattr_chain("os", "system", "id"),
    "webbrowser.open": p.call("webbrowser", "open", "http://127.0.0.1/"),
    "shutil.rmtree": p.call("shutil", "rmtree", "/nonexistent"),
    "torch zip, malicious data.pkl": p.torch_zip({"data.pkl": p.call("posix", "system", "id")}),
    "legacy: benign, then malicious": p.concatenated(
        p.benign_state_dict(), p.call("posix", "system", "id")
    ),
}
BENIGN: dict[str, bytes] = {
    "OrderedDict state dict": p.benign_state_dict(50),
    "plain data": pickle.dumps({"a": [1, 2.5, "x"], "b": (None, True)}, protocol=4),
}


def picklescan(path: Path) -> tuple[bool, list[str]]:
    scanner: Any = importlib.import_module("picklescan.scanner")
    result = scanner.scan_file_path(str(path))
    found = [f"{g.module}.{g.name}" for g in result.globals if g.safety.value != "innocuous"]
    return result.issues_count > 0 or bool(result.scan_err), found


def fickling(path: Path) -> tuple[bool, list[str]]:
    module: Any = importlib.import_module("fickling")
    result = module.scan_file(str(path), graceful=True)
    return not result.is_safe, [str(r) for r in result.results][:1]


def modelscan(path: Path) -> tuple[bool, list[str]]:
    module: Any = importlib.import_module("modelscan.modelscan")
    scan = module.ModelScan()
    report = scan.scan(str(path))
    issues = report["summary"]["total_issues"]
    return issues > 0, [str(issue.details.operator) for issue in scan.issues.all_issues][:3]


SCANNERS: dict[str, Callable[[Path], tuple[bool, list[str]]]] = {
    "picklescan": picklescan,
    "fickling": fickling,
    "modelscan": modelscan,
}


def available() -> dict[str, Callable[[Path], tuple[bool, list[str]]]]:
    found = {}
    for name, scan in SCANNERS.items():
        try:
            importlib.import_module(name if name != "picklescan" else "picklescan.scanner")
        except ImportError:
            continue
        found[name] = scan
    return found


def suffix(name: str) -> str:
    return ".bin" if "torch" in name or "legacy" in name else ".pkl"


def detection(folder: Path, scanners: dict[str, Callable[[Path], tuple[bool, list[str]]]]) -> None:
    cases = {**{k: (v, True) for k, v in MALICIOUS.items()}, **benign_cases(folder)}
    print("| case | should flag | " + " | ".join(scanners) + " |")
    print("|---|---|" + "---|" * len(scanners))
    for name, (data, bad) in cases.items():
        path = folder / (name.replace(" ", "_").replace("/", "_") + suffix(name))
        path.write_bytes(data)
        cells = []
        for scan in scanners.values():
            try:
                flagged, _ = scan(path)
                cells.append("flagged" if flagged else "clean")
            except Exception as exc:  # noqa: BLE001 - a crash is a result here
                cells.append(f"error ({type(exc).__name__})")
        print(f"| {name} | {'yes' if bad else 'no'} | " + " | ".join(cells) + " |")


def benign_cases(folder: Path) -> dict[str, tuple[bytes, bool]]:
    cases = {name: (data, False) for name, data in BENIGN.items()}
    try:
        torch: Any = importlib.import_module("torch")
    except ImportError:
        return cases
    target = folder / "state.pt"
    torch.save({"w": torch.zeros(4, 4), "b": torch.ones(4)}, target)
    cases["torch.save state dict"] = (target.read_bytes(), False)
    return cases


def speed(folder: Path, scanners: dict[str, Callable[[Path], tuple[bool, list[str]]]]) -> None:
    many = folder / "many_opcodes.pkl"
    many.write_bytes(pickle.dumps([float(i) for i in range(2_000_000)], protocol=4))
    files = [("2 M opcodes, 18 MB plain pickle", many)]
    try:
        torch: Any = importlib.import_module("torch")
        big = folder / "pytorch_model.bin"
        torch.save({f"layer.{i}": torch.zeros(1024, 1024) for i in range(100)}, big)
        files.append(("torch.save zip, 419 MB, 100 tensors", big))
    except ImportError:
        pass
    print("\n| file | " + " | ".join(scanners) + " |")
    print("|---|" + "---|" * len(scanners))
    for label, path in files:
        cells = []
        for scan in scanners.values():
            times = []
            for _ in range(3):
                start = time.perf_counter()
                try:
                    scan(path)
                except Exception as exc:  # noqa: BLE001 - a crash is a result here
                    cells.append(f"error ({type(exc).__name__})")
                    break
                times.append(time.perf_counter() - start)
            else:
                cells.append(f"{statistics.median(times):.2f} s")
        print(f"| {label} | " + " | ".join(cells) + " |")


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    scanners = available()
    with tempfile.TemporaryDirectory() as folder:
        detection(Path(folder), scanners)
        speed(Path(folder), scanners)


if __name__ == "__main__":
    main()
