"""One frozen configuration per run: flags > environment > ``[settings]`` > defaults.

This is the only module that reads modelpm's settings from the environment
(each a documented variable, see the README):

    MODELPM_HOME            the store (then [settings] store, then $XDG_CACHE_HOME/modelpm,
                            then ~/.cache/modelpm)
    HF_ENDPOINT             the Hub or a mirror (then [settings] endpoint; see
                            modelpm.sources.endpoints for every source's rule)
    MODELSCOPE_ENDPOINT     ModelScope (then MODELSCOPE_DOMAIN, [settings] modelscope-endpoint)
    MODELPM_SOURCES         which sources this machine tries first for bytes, e.g.
                            "modelscope,hf" (then `sources` in the user config file)
    MODELPM_JOBS            files fetched in parallel
    MODELPM_CONNECTIONS     connections per large file
    MODELPM_STALL_TIMEOUT   seconds without a byte before a connection is retried
    MODELPM_RETRY_DELAY     the first delay before a retry
    HF_HUB_OFFLINE          (or TRANSFORMERS_OFFLINE) no network at all (the hub's;
                            the remote store is not the hub and is still used)
    MODELPM_REMOTE          the remote store, s3://bucket/prefix (then [settings] remote)
    AWS_*                   the remote store's endpoint, region, profile and credentials,
                            as the AWS tools read them (see :func:`s3_access`)
    HF_HUB_CACHE            where `modelpm export hf-cache` writes by default, as the
                            official client reads it (then HUGGINGFACE_HUB_CACHE, then
                            $HF_HOME/hub, then $XDG_CACHE_HOME/huggingface/hub)

Per-machine preferences live outside the project, in the user config file
(read here and nowhere else; the variable wins over it)::

    $XDG_CONFIG_HOME/modelpm/config.toml   (default ~/.config/modelpm/config.toml)
        sources = ["modelscope", "hf"]

A bad value is a :class:`~modelpm.errors.UsageError` (exit 2) when the
configuration is built, whatever the command. Tokens are not configuration:
each source looks its own up when it is opened and keeps it inside itself, so
no settings object can print one. The remote store's AWS credentials from the
environment are kept in an :class:`~modelpm.s3url.AwsCredentials`, which
never shows them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from modelpm import tomlcompat
from modelpm.errors import UsageError
from modelpm.manifest.model import Settings
from modelpm.s3url import AwsCredentials, S3Address, parse_s3_url
from modelpm.sources.endpoints import ENDPOINTS
from modelpm.urls import endpoint_problem, shown
from modelpm.values import SOURCE_KINDS, LinkMode, SourceKind, is_source_kind

if TYPE_CHECKING:
    from modelpm.transfer.options import TransferOptions

DEFAULT_JOBS = 8
_TRUE = ("1", "ON", "YES", "TRUE")


@dataclass(frozen=True)
class Overrides:
    """What flags and keyword arguments of the library API set; None: not given."""

    store: Path | None = None
    endpoint: str | None = None  # the Hub endpoint
    jobs: int | None = None
    connections: int | None = None
    no_remote: bool = False  # --no-remote: this run ignores the remote store
    push: bool = False  # --push: upload what sync fetched; a failed upload fails the run


@dataclass(frozen=True)
class RemoteSettings:
    """The remote store and how to reach it, as far as the environment says.

    The profile's shared files (``~/.aws/config``, ``~/.aws/credentials``) are read
    only when the remote store is opened (:mod:`modelpm.store.remote.account`).
    """

    address: S3Address
    push: bool = False  # upload what sync fetched ([settings] remote-push, or --push)
    push_required: bool = False  # --push: a failed upload fails the sync
    endpoint: str | None = None  # AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL
    region: str | None = None  # AWS_REGION, then AWS_DEFAULT_REGION
    profile: str | None = None  # AWS_PROFILE, then AWS_DEFAULT_PROFILE
    config_file: Path | None = None  # AWS_CONFIG_FILE (default ~/.aws/config)
    credentials_file: Path | None = None  # AWS_SHARED_CREDENTIALS_FILE
    credentials: AwsCredentials | None = None  # AWS_ACCESS_KEY_ID and its secret


@dataclass(frozen=True)
class Config:
    store_root: Path
    endpoints: Mapping[SourceKind, str]
    jobs: int = DEFAULT_JOBS
    connections: int | None = None  # per large file, when set
    stall_timeout: float | None = None  # seconds without a byte, when set
    retry_delay: float | None = None  # the first delay before a retry, when set
    offline: bool = False  # the environment asks for no network (HF_HUB_OFFLINE)
    link: LinkMode = "hardlink"  # how files reach destinations ([settings] link)
    hf_hub_cache: Path | None = None  # the official client's cache folder
    remote: RemoteSettings | None = None  # the shared remote store, when one is set
    # The sources this machine tries first for bytes, in order (MODELPM_SOURCES, the user
    # config file); empty: each model's own source, then its mirrors (workflow/origins.py).
    source_order: tuple[SourceKind, ...] = ()

    @property
    def transfer(self) -> TransferOptions:
        """The transfer engine's knobs: its defaults, then what this run set."""
        from modelpm.transfer.options import TransferOptions  # not on the no-op path

        options = TransferOptions()
        if self.connections is not None:
            options = replace(options, connections=self.connections)
        if self.stall_timeout is not None:  # one knob: no byte, or too few bytes, that long
            options = replace(
                options, stall_timeout=self.stall_timeout, rate_window=self.stall_timeout
            )
        if self.retry_delay is not None:
            options = replace(options, retry=replace(options.retry, backoff=self.retry_delay))
        return options


def build_config(
    settings: Settings | None,
    project_root: Path | None,
    overrides: Overrides | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """The configuration of one run in ``project_root`` (None: outside any project)."""
    env = os.environ if env is None else env
    settings = settings or Settings()
    overrides = overrides or Overrides()
    jobs = overrides.jobs if overrides.jobs is not None else _whole(env, "MODELPM_JOBS")
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {jobs}")
    connections = overrides.connections or _whole(env, "MODELPM_CONNECTIONS")
    stall = _seconds(env, "MODELPM_STALL_TIMEOUT", positive=True)
    retry_delay = _seconds(env, "MODELPM_RETRY_DELAY")
    return Config(
        store_root=_store_root(settings, project_root, overrides, env).resolve(),
        endpoints=_endpoints(settings, overrides, env),
        jobs=jobs or DEFAULT_JOBS,
        connections=connections,
        stall_timeout=stall,
        retry_delay=retry_delay,
        link=settings.link,
        offline=any(
            env.get(name, "").strip().upper() in _TRUE
            for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
        ),
        hf_hub_cache=official_hub_cache(env),
        remote=_remote(settings, overrides, env),
        source_order=_source_order(env),
    )


def _remote(
    settings: Settings, overrides: Overrides, env: Mapping[str, str]
) -> RemoteSettings | None:
    """The remote store: ``MODELPM_REMOTE``, then ``[settings] remote``."""
    raw = env.get("MODELPM_REMOTE", "").strip()
    if overrides.no_remote or not (raw or settings.remote):
        return None
    try:
        address = parse_s3_url(raw or settings.remote or "")
    except ValueError as exc:
        raise UsageError(
            f"MODELPM_REMOTE: {exc}", hint='write it like "s3://team-models/modelpm"'
        ) from None
    return replace(
        s3_access(address, env),
        push=settings.remote_push or overrides.push,
        push_required=overrides.push,
    )


def s3_access(address: S3Address, env: Mapping[str, str] | None = None) -> RemoteSettings:
    """How to reach ``address`` (the remote store, an export's target) as the AWS CLI
    reaches S3: endpoint, region, profile and key from the environment first."""
    env = os.environ if env is None else env

    def first(*names: str) -> str | None:
        return next((env[name].strip() for name in names if env.get(name, "").strip()), None)

    endpoint = first("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
    if endpoint is not None and not _is_http_url(endpoint):
        raise UsageError(f"AWS_ENDPOINT_URL must be an http(s) URL, not {endpoint!r}")
    key, secret = first("AWS_ACCESS_KEY_ID"), first("AWS_SECRET_ACCESS_KEY")
    credentials = None
    if key and secret:
        credentials = AwsCredentials(key, secret, first("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"))
    config_file, credentials_file = first("AWS_CONFIG_FILE"), first("AWS_SHARED_CREDENTIALS_FILE")
    return RemoteSettings(
        address=address,
        endpoint=endpoint.rstrip("/") if endpoint else None,
        region=first("AWS_REGION", "AWS_DEFAULT_REGION"),
        profile=first("AWS_PROFILE", "AWS_DEFAULT_PROFILE"),
        config_file=Path(config_file).expanduser() if config_file else None,
        credentials_file=Path(credentials_file).expanduser() if credentials_file else None,
        credentials=credentials,
    )


def official_hub_cache(env: Mapping[str, str]) -> Path:
    """The cache folder ``huggingface_hub`` uses with this environment (its constants.py)."""
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if env.get(name):
            return Path(env[name]).expanduser()
    home = env.get("HF_HOME") or os.path.join(
        env.get("XDG_CACHE_HOME") or "~/.cache", "huggingface"
    )
    return Path(home).expanduser() / "hub"


def _store_root(
    settings: Settings, project_root: Path | None, overrides: Overrides, env: Mapping[str, str]
) -> Path:
    if overrides.store is not None:
        return overrides.store.expanduser()
    if env.get("MODELPM_HOME"):
        return Path(env["MODELPM_HOME"]).expanduser()
    if settings.store and project_root is not None:
        return project_root / Path(settings.store).expanduser()
    cache = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "modelpm"


def _endpoints(
    settings: Settings, overrides: Overrides, env: Mapping[str, str]
) -> dict[SourceKind, str]:
    configured: dict[SourceKind, str | None] = {"hf": overrides.endpoint or None}
    in_file: dict[SourceKind, str | None] = {
        "hf": settings.endpoint,
        "modelscope": settings.modelscope_endpoint,
    }
    endpoints: dict[SourceKind, str] = {}
    for kind, rule in ENDPOINTS.items():
        named = next(((name, env[name]) for name in rule.env if env.get(name, "").strip()), None)
        raw = configured.get(kind) or (named[1] if named else None) or in_file.get(kind)
        chosen = rule.normalise(raw or rule.default)
        problem = endpoint_problem(chosen)
        if problem is not None:
            where = named[0] if named and raw == named[1] else "the endpoint"
            raise UsageError(
                f"{where} {shown(chosen)!r} {problem}",
                hint=f"set it like {rule.default!r}; a token goes in the source's token "
                f"variable ({rule.token_env}), never in the URL",
            )
        endpoints[kind] = chosen
    return endpoints


def _is_http_url(text: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in text


def user_config_path(env: Mapping[str, str]) -> Path:
    """The per-machine config file: $XDG_CONFIG_HOME/modelpm/config.toml."""
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "modelpm" / "config.toml"


_USER_KEYS = ("sources",)


def _source_order(env: Mapping[str, str]) -> tuple[SourceKind, ...]:
    """MODELPM_SOURCES, else the user config file's ``sources``; () when neither says."""
    raw = env.get("MODELPM_SOURCES", "").strip()
    if raw:
        return _kinds([part.strip() for part in raw.split(",")], "MODELPM_SOURCES")
    path = user_config_path(env)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    try:
        data = tomlcompat.loads(text)
    except tomlcompat.TOMLDecodeError as exc:
        raise UsageError(
            f"{path}: invalid TOML: {exc}", hint="fix the syntax at that line"
        ) from None
    unknown = [key for key in data if key not in _USER_KEYS]
    if unknown:
        raise UsageError(
            f"{path}: unknown key {unknown[0]!r}", hint=f"allowed keys: {', '.join(_USER_KEYS)}"
        )
    sources = data.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(item, str) for item in sources):
        raise UsageError(f'{path}: sources must be a list of source names, e.g. ["modelscope"]')
    return _kinds(sources, f"{path}: sources")


def _kinds(names: list[str], where: str) -> tuple[SourceKind, ...]:
    kinds: list[SourceKind] = []
    for name in names:
        if not is_source_kind(name):
            raise UsageError(
                f"{where}: unknown source {name!r}",
                hint=f"sources are {', '.join(SOURCE_KINDS)}, separated by commas",
            )
        if name not in kinds:
            kinds.append(name)
    return tuple(kinds)


def _whole(env: Mapping[str, str], name: str) -> int | None:
    """A whole number of at least 1, or None when unset."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise UsageError(
            f"{name} must be a whole number of at least 1, not {raw!r}",
            hint=f"set {name} to a number such as 8, or unset it for the default",
        )
    return int(raw)


def _seconds(env: Mapping[str, str], name: str, *, positive: bool = False) -> float | None:
    """A number of seconds (more than 0 if ``positive``, else at least 0), or None when unset."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf") or (positive and value == 0):
        least = "more than 0" if positive else "0 or more"
        raise UsageError(
            f"{name} must be a number of seconds ({least}), not {raw!r}",
            hint=f"set {name} to a number of seconds such as 30, or unset it for the default",
        )
    return value
