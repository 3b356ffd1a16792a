"""What a model may place: the ``[settings]`` policy, overridden per model.

allow-unsafe-pickle = false   (default) a pickle whose scan finds a dangerous call is
                              never placed: sync fails naming the file and the call
allow-remote-code = true      (default) false: a model that ships code (*.py) or names
                              code in an ``auto_map`` is refused
"""

from __future__ import annotations

from dataclasses import dataclass

from modelpm.manifest.model import ModelSpec, Settings


@dataclass(frozen=True)
class Policy:
    allow_unsafe_pickle: bool = False
    allow_remote_code: bool = True


def policy_for(spec: ModelSpec, settings: Settings) -> Policy:
    pickle = spec.allow_unsafe_pickle
    code = spec.allow_remote_code
    return Policy(
        settings.allow_unsafe_pickle if pickle is None else pickle,
        settings.allow_remote_code if code is None else code,
    )
