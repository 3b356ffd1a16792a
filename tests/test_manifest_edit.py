"""`remove` cuts exactly one table: names that share a prefix, quoted keys and comments."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelpm.manifest import parse_manifest
from modelpm.manifest.edit import remove_model

PATH = Path("/project/models.toml")


def removed(text: str, name: str) -> str:
    return remove_model(parse_manifest(text, PATH), text, name)[0]


def test_a_name_that_prefixes_another_removes_only_its_own_table() -> None:
    text = (
        '[models.bert]\nrepo = "acme/bert"\n\n'
        '[models."bert.v2"]\nrepo = "acme/bert2"\n\n'
        '[models.bert-large]\nrepo = "acme/large"\n'
    )
    assert removed(text, "bert") == (
        '[models."bert.v2"]\nrepo = "acme/bert2"\n\n[models.bert-large]\nrepo = "acme/large"\n'
    )
    assert removed(text, "bert.v2") == (
        '[models.bert]\nrepo = "acme/bert"\n\n[models.bert-large]\nrepo = "acme/large"\n'
    )


def test_the_comment_that_opens_the_file_stays() -> None:
    text = '# top comment\n[models.tiny]\nrepo = "acme/tiny"\n\n[models.squad]\nrepo = "a/s"\n'
    assert removed(text, "tiny") == '# top comment\n\n[models.squad]\nrepo = "a/s"\n'


def test_a_section_comment_between_tables_stays_and_a_glued_comment_goes() -> None:
    text = (
        "[settings]\n"
        'dest-root = "models"\n'
        "\n"
        "# tiny: the small one (goes with it)\n"
        "[models.tiny]\n"
        'repo = "acme/tiny"\n'
        'include = [\n  "*.json",  # configs\n  # and nothing else\n]\n'
        "\n"
        "# ===== datasets below =====\n"
        "\n"
        "[models.squad]\n"
        'repo = "acme/squad"\n'
    )
    assert removed(text, "tiny") == (
        "[settings]\n"
        'dest-root = "models"\n'
        "\n"
        "# ===== datasets below =====\n"
        "\n"
        "[models.squad]\n"
        'repo = "acme/squad"\n'
    )


@pytest.mark.parametrize(
    "header", ['[models."tiny"]', "[ models . tiny ]  # note", "[models.'tiny']"]
)
def test_header_spellings_toml_allows(header: str) -> None:
    text = f'{header}\nrepo = "acme/tiny"\n\n[models.other]\nrepo = "acme/other"\n'
    assert removed(text, "tiny") == '[models.other]\nrepo = "acme/other"\n'
