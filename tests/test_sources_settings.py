"""The keys that say where a model comes from: ``source``, ``mirrors``, ``[settings] source``,
``modelscope-endpoint``; the repo URLs ``add`` accepts; the machine's source order
(``MODELPM_SOURCES``, the user config file). Pure parsing, no server."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelpm.config import build_config
from modelpm.errors import ManifestError, UsageError
from modelpm.manifest.model import Mirror, ModelSpec
from modelpm.manifest.parse import parse_manifest
from modelpm.manifest.reference import Reference, parse_reference

PATH = Path("/project/models.toml")


def parse(text: str) -> dict[str, ModelSpec]:
    manifest = parse_manifest(text, PATH)
    return {spec.name: spec for spec in manifest.models}


def test_source_defaults_and_the_default_revision_follows_it() -> None:
    specs = parse(
        '[models.a]\nrepo = "o/a"\n\n[models.b]\nsource = "modelscope"\nrepo = "o/b"\n'
        '\n[models.c]\nsource = "modelscope"\nrepo = "o/c"\nrevision = "v1"\n'
    )
    assert [(s.source, s.revision) for s in specs.values()] == [
        ("hf", "main"),
        ("modelscope", "master"),
        ("modelscope", "v1"),
    ]
    settings = parse_manifest('[settings]\nsource = "modelscope"\n[models.a]\nrepo = "o/a"\n', PATH)
    assert settings.settings.source == "modelscope"
    assert (settings.models[0].source, settings.models[0].revision) == ("modelscope", "master")


def test_mirrors_parse_in_order_and_stay_out_of_the_fingerprint() -> None:
    plain = parse('[models.a]\nrepo = "g/bert"\n')["a"]
    mirrored = parse(
        '[models.a]\nrepo = "g/bert"\nmirrors = ["modelscope:tiansz/bert", "hf:other/copy@v2"]\n'
    )["a"]
    assert mirrored.mirrors == (
        Mirror("modelscope", "tiansz/bert"),
        Mirror("hf", "other/copy", "v2"),
    )
    assert [m.wanted_revision for m in mirrored.mirrors] == ["master", "v2"]
    assert mirrored.fingerprint() == plain.fingerprint()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('source = "gitee"\nrepo = "o/a"', "[models.a] source: 'gitee' is not a source"),
        ('source = "modelscope"\nrepo = "bert"', "repo: 'bert' is not a ModelScope repo id"),
        (
            'source = "modelscope"\nrepo = "o/a"\nrepo-type = "space"',
            "ModelScope has models and datasets, not spaces",
        ),
        ('repo = "o/a"\nmirrors = "modelscope:o/b"', "mirrors: expected a list of strings"),
        ('repo = "o/a"\nmirrors = ["o/b"]', "'o/b' is not SOURCE:REPO[@REVISION]"),
        ('repo = "o/a"\nmirrors = ["gitee:o/b"]', "'gitee:o/b' is not SOURCE:REPO[@REVISION]"),
        ('repo = "o/a"\nmirrors = ["hf:o/b@"]', "has an empty revision after '@'"),
        ('repo = "o/a"\nmirrors = ["hf:o/a"]', "is listed twice or is the model itself"),
        ('repo = "o/a"\nmirrors = ["modelscope:x"]', "'x' is not a ModelScope repo id"),
    ],
)
def test_bad_source_keys_name_the_model_and_key(table: str, message: str) -> None:
    with pytest.raises(ManifestError) as caught:
        parse(f"[models.a]\n{table}\n")
    assert message in caught.value.message and caught.value.exit_code == 2


def test_settings_modelscope_endpoint_is_checked() -> None:
    manifest = parse_manifest('[settings]\nmodelscope-endpoint = "https://ms.example/"\n', PATH)
    assert manifest.settings.modelscope_endpoint == "https://ms.example"
    with pytest.raises(ManifestError) as caught:
        parse_manifest('[settings]\nmodelscope-endpoint = "ms.example"\n', PATH)
    assert "modelscope-endpoint 'ms.example' is not an http(s) URL" in caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("google-bert/bert-base-uncased", Reference("google-bert/bert-base-uncased")),
        ("https://huggingface.co/org/name", Reference("org/name", "hf", "model")),
        ("https://hf.co/gpt2/tree/main", Reference("gpt2", "hf", "model", "main")),
        (
            "https://huggingface.co/datasets/org/set/tree/refs%2Fconvert%2Fparquet",
            Reference("org/set", "hf", "dataset", "refs/convert/parquet"),
        ),
        ("https://huggingface.co/spaces/org/app", Reference("org/app", "hf", "space")),
        (
            "https://modelscope.cn/models/Qwen/Qwen2.5-0.5B-Instruct/summary",
            Reference("Qwen/Qwen2.5-0.5B-Instruct", "modelscope", "model"),
        ),
        (
            "https://www.modelscope.cn/datasets/o/d/tree/v1",
            Reference("o/d", "modelscope", "dataset", "v1"),
        ),
        ("https://modelscope.ai/models/o/m", Reference("o/m", "modelscope", "model")),
    ],
)
def test_pasted_urls_name_source_type_repo_and_revision(text: str, expected: Reference) -> None:
    assert parse_reference(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("https://example.com/o/n", "is not a Hugging Face or ModelScope repo URL"),
        ("ftp://huggingface.co/o/n", "is not a Hugging Face or ModelScope repo URL"),
        ("https://modelscope.cn/o/n", "does not name a ModelScope model or dataset"),
        ("https://huggingface.co/", "does not name a repo"),
        ("https://huggingface.co/o/n/blob/main/config.json", "names a file or folder inside o/n"),
    ],
)
def test_urls_that_name_no_repo_are_refused(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_reference(text)
    assert message in caught.value.message


def test_the_machine_order_comes_from_modelpm_sources_then_the_user_config(
    tmp_path: Path,
) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    assert build_config(None, None, env=env).source_order == ()
    config_file = tmp_path / "modelpm" / "config.toml"
    config_file.parent.mkdir()
    config_file.write_text('sources = ["modelscope", "hf"]\n')
    assert build_config(None, None, env=env).source_order == ("modelscope", "hf")
    env["MODELPM_SOURCES"] = " hf , modelscope,hf"
    assert build_config(None, None, env=env).source_order == ("hf", "modelscope")


@pytest.mark.parametrize(
    ("variable", "file", "message"),
    [
        ("modelscope,gitee", None, "MODELPM_SOURCES: unknown source 'gitee'"),
        (None, 'sources = "hf"', "sources must be a list of source names"),
        (None, 'source = ["hf"]', "unknown key 'source'"),
        (None, "sources = [", "invalid TOML"),
        (None, 'sources = ["hg"]', "sources: unknown source 'hg'"),
    ],
)
def test_a_bad_machine_order_is_a_usage_error(
    tmp_path: Path, variable: str | None, file: str | None, message: str
) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    if variable is not None:
        env["MODELPM_SOURCES"] = variable
    if file is not None:
        (tmp_path / "modelpm").mkdir()
        (tmp_path / "modelpm" / "config.toml").write_text(file + "\n")
    with pytest.raises(UsageError) as caught:
        build_config(None, None, env=env)
    assert message in caught.value.message and caught.value.exit_code == 2
