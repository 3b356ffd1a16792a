"""models.toml parsing: normalisation, defaults and every error a user can make."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelpm.errors import ManifestError
from modelpm.manifest import ModelSpec, parse_manifest

DESIGN_EXAMPLE = """
[settings]
endpoint = "https://hf-mirror.example/"
dest-root = "models"

[models.bert-zh]
repo = "google-bert/bert-base-chinese"
revision = "main"
include = ["*.json", "*.txt", "*.safetensors"]
exclude = ["*.h5", "*.msgpack"]
dest = "models/bert-zh"

[models.squad]
repo = "rajpurkar/squad"
repo-type = "dataset"
"""


def parse(text: str) -> object:
    return parse_manifest(text, Path("/project/models.toml"))


def test_design_example_parses_with_defaults() -> None:
    manifest = parse_manifest(DESIGN_EXAMPLE, Path("/project/models.toml"))
    assert manifest.settings.endpoint == "https://hf-mirror.example"
    bert, squad = manifest.models
    assert bert == ModelSpec(
        name="bert-zh",
        repo="google-bert/bert-base-chinese",
        revision="main",
        include=("*.json", "*.txt", "*.safetensors"),
        exclude=("*.h5", "*.msgpack"),
        dest="models/bert-zh",
    )
    assert squad.repo_type == "dataset"
    assert squad.revision == "main"
    assert squad.include is None
    assert squad.dest == "models/squad"


def test_fingerprint_ignores_dest_and_pattern_order_but_not_patterns() -> None:
    base = ModelSpec(name="a", repo="o/r", include=("*.json", "*.txt"), dest="x")
    same = ModelSpec(name="a", repo="o/r", include=("*.txt", "*.json"), dest="elsewhere")
    other = ModelSpec(name="a", repo="o/r", include=("*.json",), dest="x")
    assert base.fingerprint() == same.fingerprint()
    assert base.fingerprint() != other.fingerprint()
    assert base.fingerprint() != ModelSpec(name="a", repo="o/r", revision="v1").fingerprint()


def test_single_string_pattern_is_accepted() -> None:
    manifest = parse_manifest('[models.a]\nrepo = "o/r"\ninclude = "*.json"\n', Path("m.toml"))
    assert manifest.models[0].include == ("*.json",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[models.a]\nrepo = \n", "invalid TOML: Invalid value (at line 2, column 8)"),
        ('[models.a]\nrepo = "o/r"\nrevison = "x"\n', "[models.a]: unknown key 'revison'"),
        ("[models.a]\nrepo = 3\n", "[models.a] repo: expected a string, got an integer"),
        ('[models.a]\nrevision = "x"\n', "[models.a]: missing key 'repo'"),
        ('[models.a]\nrepo = "o/r/x"\n', "[models.a] repo: 'o/r/x' is not a valid repo id"),
        ('[models.a]\nrepo = "o/-r"\n', "is not a valid repo id"),
        ('[models.a]\nrepo = "o/r--x"\n', "is not a valid repo id"),
        ('[models.a]\nrepo = "o/r"\nrepo-type = "repo"\n', "repo-type: 'repo' is not one"),
        ('[models.a]\nrepo = "o/r"\ninclude = []\n', "include: the list is empty"),
        ('[models.a]\nrepo = "o/r"\ninclude = [1]\n', "include: expected a list of glob"),
        ('[models.a]\nrepo = "o/r"\nexclude = [""]\n', "exclude: a pattern is empty"),
        ('[models.a]\nrepo = "o/r"\ndest = "../x"\n', "dest: '../x' points outside"),
        ('[models.a]\nrepo = "o/r"\ndest = "/abs"\n', "dest: '/abs' is absolute"),
        ('[models.a]\nrepo = "o/r"\ndest = "a/../../b"\n', "points outside"),
        ('[models.a]\nrepo = "o/r"\nrevision = ""\n', "revision: must be a branch"),
        ("[models]\na = 1\n", "'a' must be a table, got an integer"),
        ('[model.a]\nrepo = "o/r"\n', "unknown key 'model'"),
        ('[settings]\nendpoint = "ftp://x"\n', "endpoint 'ftp://x' is not an http(s) URL"),
        ('[settings]\nmirror = "x"\n', "[settings]: unknown key 'mirror'"),
        ('[models."a b"]\nrepo = "o/r"\n', "model name must start"),
        (
            '[models.a]\nrepo = "o/r"\ndest = "m"\n[models.b]\nrepo = "o/s"\ndest = "m/"\n',
            "models 'a' and 'b' have the same dest 'm'",
        ),
        (
            '[models.a]\nrepo = "o/r"\ndest = "m"\n[models.b]\nrepo = "o/s"\ndest = "m/b"\n',
            "are nested ('m' contains 'm/b')",
        ),
    ],
)
def test_errors_name_file_model_and_key(text: str, expected: str) -> None:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text, Path("/p/models.toml"))
    message = caught.value.message
    assert message.startswith("models.toml"), message
    assert expected in message, message
    assert caught.value.exit_code == 2


def test_load_missing_file_hints_init(tmp_path: Path) -> None:
    from modelpm.manifest import load_manifest

    with pytest.raises(ManifestError) as caught:
        load_manifest(tmp_path / "models.toml")
    assert caught.value.hint is not None and "modelpm init" in caught.value.hint
