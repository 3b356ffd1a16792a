"""A pickle's imports, as picklescan reads them (chosen by measurement: README, Dependencies).

picklescan walks the opcode stream (of every pickle in the file, and of every
``.pkl`` member of a ``torch.save`` zip) without unpickling anything, and rates
each ``module.name`` it would import: innocuous (a known-safe list), suspicious
(unknown) or dangerous (``os.system``, ``subprocess``, ``builtins.exec``/``eval``,
``runpy``, ``pickle.loads``, …). Bytes that are no pickle import nothing (as
``torch.load`` would fail on them before running anything); a file picklescan
reports it could not scan carries an error. picklescan is imported on the first
scan only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Safety = Literal["innocuous", "suspicious", "dangerous"]


@dataclass(frozen=True, order=True)
class PickleImport:
    module: str
    name: str
    safety: Safety

    def __str__(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True)
class PickleScan:
    scanner: str  # "picklescan 1.0.5": a record from another version is scanned again
    imports: tuple[PickleImport, ...] = ()
    error: str | None = None  # could not be read as a pickle

    @property
    def dangerous(self) -> tuple[str, ...]:
        return tuple(str(item) for item in self.imports if item.safety == "dangerous")

    def to_json(self) -> dict[str, Any]:
        return {
            "scanner": self.scanner,
            "imports": [[i.module, i.name, i.safety] for i in self.imports],
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: Any) -> PickleScan:
        """A recorded scan; ValueError (or KeyError, TypeError) if the record is damaged."""
        imports = []
        for module, name, safety in data["imports"]:
            if safety not in ("innocuous", "suspicious", "dangerous"):
                raise ValueError(f"unknown safety {safety!r}")
            imports.append(PickleImport(str(module), str(name), safety))
        error = data["error"]
        return cls(str(data["scanner"]), tuple(imports), None if error is None else str(error))


def scanner_name() -> str:
    from importlib.metadata import version

    return f"picklescan {version('picklescan')}"


def scan_pickle(path: Path, repo_path: str) -> PickleScan:
    """Scan the object at ``path``; ``repo_path``'s suffix tells picklescan what it is."""
    from picklescan.scanner import scan_bytes  # not on any path that scans nothing

    suffix = "." + repo_path.rsplit(".", 1)[-1].lower() if "." in repo_path else None
    with path.open("rb") as handle:
        result = scan_bytes(handle, repo_path, suffix)
    found = sorted({PickleImport(g.module, g.name, g.safety.value.lower()) for g in result.globals})
    error = "picklescan could not scan it" if result.scan_err else None
    return PickleScan(scanner_name(), tuple(found), error)
