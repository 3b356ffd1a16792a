"""The manifest, ``models.toml``: what the project asks for.

:mod:`~modelpm.manifest.model` holds the values, :mod:`~modelpm.manifest.parse`
the strict reader, :mod:`~modelpm.manifest.edit` the edits that keep every byte
the user wrote outside them.
"""

from modelpm.manifest.model import MANIFEST_NAME, Manifest, ModelSpec, Settings
from modelpm.manifest.parse import load_manifest, parse_manifest

__all__ = ["MANIFEST_NAME", "Manifest", "ModelSpec", "Settings", "load_manifest", "parse_manifest"]
