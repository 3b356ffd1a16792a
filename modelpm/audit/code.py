"""Which files of a model can run code on load, from paths and config files (pure).

    pickles     *.bin *.pt *.pth *.ckpt *.pkl *.pickle *.joblib    unpickled by torch.load, joblib
    python      *.py                                              imported with trust_remote_code
    auto_map    config.json / tokenizer_config.json / …           {"auto_map": {"AutoModel":
                                                                   "modeling_x.Model"}}

An ``auto_map`` value names a class in a module of the same repo (``modeling_x.Model``)
or of *another* repo (``other/repo--modeling_x.Model``), and tokenizers give a
``[slow, fast]`` pair. Code in another repo is not pinned by this lock: the
``from_pretrained`` call fetches that repo's ``main`` at load time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib")
CONFIG_FILES = ("config.json", "tokenizer_config.json", "preprocessor_config.json")


@dataclass(frozen=True)
class CodeReference:
    """One ``auto_map`` entry: which class, from which module, of which repo."""

    file: str  # the config that names it
    key: str  # "AutoModel", "AutoTokenizer", …
    reference: str  # as written
    repo: str | None  # another repo, or None for this one

    @property
    def module_file(self) -> str:
        """The ``.py`` file it names (``modeling_x.py``)."""
        target = self.reference.split("--", 1)[-1]
        return target.rsplit(".", 1)[0].replace(".", "/") + ".py"


def is_pickle(path: str) -> bool:
    return path.lower().endswith(PICKLE_SUFFIXES)


def is_python(path: str) -> bool:
    return path.endswith(".py")


def is_config(path: str) -> bool:
    return path.rsplit("/", 1)[-1] in CONFIG_FILES


def auto_map(path: str, data: bytes) -> list[CodeReference]:
    """The ``auto_map`` entries of a config file (none when it is not JSON or has none)."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return []
    mapping = document.get("auto_map") if isinstance(document, dict) else None
    if not isinstance(mapping, dict):
        return []
    found: list[CodeReference] = []
    for key, value in sorted(mapping.items()):
        for reference in value if isinstance(value, list) else [value]:
            if isinstance(reference, str) and reference:
                repo = reference.split("--", 1)[0] if "--" in reference else None
                found.append(CodeReference(path, str(key), reference, repo))
    return found
