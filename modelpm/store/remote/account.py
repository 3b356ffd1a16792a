"""Where the remote store's bucket is served and with which key, as the AWS CLI finds them.

The environment (read by :mod:`modelpm.config`) wins; what it leaves open is
taken from the profile (``AWS_PROFILE``, else ``default``) in the shared
files, the credentials file before the config file::

    ~/.aws/credentials   [default] / [dev]                aws_access_key_id, aws_secret_access_key,
                                                          aws_session_token
    ~/.aws/config        [default] / [profile dev]        the same keys, region, endpoint_url

Endpoint: ``AWS_ENDPOINT_URL_S3``, ``AWS_ENDPOINT_URL``, the profile's
``endpoint_url``, else AWS itself (``https://s3.<region>.amazonaws.com``, the
bucket as a virtual host). A custom endpoint (MinIO, SeaweedFS, Ceph, R2) is
addressed path-style, and may be ``http://``, as the AWS CLI allows. Without
any key the bucket is read anonymously (a public bucket). Other providers of
the AWS tools (SSO, instance metadata, ``credential_process``) are not read.
Invariant: an :class:`Account`'s repr and every message name no secret.
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from modelpm.config import RemoteSettings
from modelpm.errors import UsageError
from modelpm.s3url import AwsCredentials

DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Account:
    """How to reach the bucket: endpoint, region, addressing, and the key (hidden)."""

    endpoint: str  # scheme://host[:port]
    region: str
    path_style: bool
    credentials: AwsCredentials | None

    def url(self, bucket: str, key: str) -> str:
        """The URL of ``key`` in ``bucket`` (the key URI-encoded as S3 expects)."""
        path = quote(key, safe="/~")
        if self.path_style:
            return f"{self.endpoint}/{bucket}/{path}"
        parts = urlsplit(self.endpoint)
        return f"{parts.scheme}://{bucket}.{parts.netloc}/{path}"

    @property
    def allow_http(self) -> bool:
        return self.endpoint.startswith("http://")


def resolve_account(settings: RemoteSettings, home: Path | None = None) -> Account:
    """The account of ``settings``, completed from the profile's shared files."""
    home = home or Path.home()
    profile = settings.profile or "default"
    config_file = settings.config_file or home / ".aws" / "config"
    credentials_file = settings.credentials_file or home / ".aws" / "credentials"
    from_credentials = _section(credentials_file, profile)
    from_config = _section(config_file, profile if profile == "default" else f"profile {profile}")
    if settings.profile and from_credentials is None and from_config is None:
        raise UsageError(
            f"AWS_PROFILE: the profile {settings.profile!r} is in neither {credentials_file} "
            f"nor {config_file}",
            hint="name a profile from those files, or unset AWS_PROFILE",
        )
    merged = {**(from_config or {}), **(from_credentials or {})}
    credentials = settings.credentials
    if credentials is None and merged.get("aws_access_key_id"):
        credentials = AwsCredentials(
            merged["aws_access_key_id"],
            merged.get("aws_secret_access_key", ""),
            merged.get("aws_session_token") or None,
        )
    region = settings.region or merged.get("region") or DEFAULT_REGION
    endpoint = settings.endpoint or (from_config or {}).get("endpoint_url")
    if endpoint:
        if not endpoint.startswith(("http://", "https://")):
            raise UsageError(f"{config_file}: endpoint_url must be an http(s) URL")
        return Account(endpoint.rstrip("/"), region, True, credentials)
    return Account(f"https://s3.{region}.amazonaws.com", region, False, credentials)


def _section(path: Path, name: str) -> dict[str, str] | None:
    """One section of an AWS shared file (None: no such file or section)."""
    parser = configparser.RawConfigParser(default_section="\x00none")
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {type(exc).__name__}") from None
    if not parser.has_section(name):
        return None
    return {key: value.strip() for key, value in parser.items(name)}
