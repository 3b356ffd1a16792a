"""The remote store's settings, without a server: addresses, [settings], the environment,
the AWS shared files, request signing and the order of origins."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from modelpm.config import Overrides, RemoteSettings, build_config
from modelpm.errors import ManifestError, UsageError
from modelpm.manifest import parse_manifest
from modelpm.s3url import AwsCredentials, S3Address, digest_of_name, object_name, parse_s3_url
from modelpm.store.remote.account import resolve_account
from modelpm.store.remote.sigv4 import sign
from modelpm.values import Digest

SHA = "68d45e2340b8a7b1d8c5f0b1a5e4e2c1d1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6"


def test_addresses_parse_and_name_their_keys() -> None:
    address = parse_s3_url("s3://team-models/modelpm/v1/")
    assert address == S3Address("team-models", "modelpm/v1")
    assert str(address) == "s3://team-models/modelpm/v1"
    digest = Digest("sha256", SHA)
    assert address.object_key(digest) == f"modelpm/v1/objects/sha256/68/{SHA}"
    assert address.marker_key == "modelpm/v1/modelpm-remote.json"
    assert parse_s3_url("s3://bucket").key("objects/x") == "objects/x"
    assert digest_of_name(object_name(digest)) == digest
    git = Digest("git-sha1", "0f" + "1" * 38)
    assert digest_of_name(object_name(git)) == git


@pytest.mark.parametrize(
    "name",
    [
        "objects/sha256/69/" + SHA,  # the folder does not match the digest
        "objects/sha256/68/" + SHA[:40],  # a sha256 key with a git-sha1 length
        "objects/md5/68/" + SHA,
        "modelpm-remote.json",
        "objects/sha256/68/" + SHA + ".tmp",
    ],
)
def test_keys_modelpm_never_writes_name_no_object(name: str) -> None:
    assert digest_of_name(name) is None


@pytest.mark.parametrize(
    "text",
    ["https://bucket/x", "s3://", "s3://B/x", "s3://a/x", "s3://bucket/a//b", "s3://bucket/../x"],
)
def test_bad_addresses_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_s3_url(text)


def test_the_manifest_takes_remote_and_remote_push() -> None:
    text = '[settings]\nremote = "s3://team-models/modelpm/"\nremote-push = true\n'
    settings = parse_manifest(text, Path("/p/models.toml")).settings
    assert (settings.remote, settings.remote_push) == ("s3://team-models/modelpm", True)
    with pytest.raises(ManifestError, match=r"\[settings\] remote: 'http://x' is not an s3://"):
        parse_manifest('[settings]\nremote = "http://x"\n', Path("/p/models.toml"))
    with pytest.raises(ManifestError, match="remote-push: expected true or false, got str"):
        parse_manifest('[settings]\nremote-push = "yes"\n', Path("/p/models.toml"))


def remote_of(
    env: dict[str, str], toml: str = "", *, no_remote: bool = False, push: bool = False
) -> RemoteSettings | None:
    settings = parse_manifest(toml, Path("/p/models.toml")).settings
    overrides = Overrides(no_remote=no_remote, push=push)
    return build_config(settings, Path("/p"), overrides, env=env).remote


def test_the_environment_wins_over_the_manifest_and_flags_win_over_both() -> None:
    toml = '[settings]\nremote = "s3://from-file/x"\nremote-push = true\n'
    remote = remote_of({}, toml)
    assert remote is not None and str(remote.address) == "s3://from-file/x"
    assert (remote.push, remote.push_required) == (True, False)
    remote = remote_of({"MODELPM_REMOTE": "s3://from-env/y"}, toml)
    assert remote is not None and str(remote.address) == "s3://from-env/y"
    assert remote_of({"MODELPM_REMOTE": "s3://from-env/y"}, toml, no_remote=True) is None
    remote = remote_of({"MODELPM_REMOTE": "s3://b-1/y"}, push=True)
    assert remote is not None and (remote.push, remote.push_required) == (True, True)
    assert remote_of({}) is None
    with pytest.raises(UsageError, match="MODELPM_REMOTE: 'gs://x' is not an s3:// address"):
        remote_of({"MODELPM_REMOTE": "gs://x"})


def test_the_aws_variables_are_read_as_the_aws_cli_reads_them() -> None:
    env = {
        "MODELPM_REMOTE": "s3://b-1/p",
        "AWS_ENDPOINT_URL": "http://generic:1",
        "AWS_ENDPOINT_URL_S3": "http://s3-only:2/",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "AKIDX",
        "AWS_SECRET_ACCESS_KEY": "the-secret",
        "AWS_SESSION_TOKEN": "the-token",
    }
    remote = remote_of(env)
    assert remote is not None
    assert (remote.endpoint, remote.region) == ("http://s3-only:2", "eu-west-1")
    assert remote.credentials == AwsCredentials("AKIDX", "the-secret", "the-token")
    assert "the-secret" not in repr(remote) and "the-token" not in repr(remote)
    assert "AKIDX" not in repr(remote)
    with pytest.raises(UsageError, match="AWS_ENDPOINT_URL must be an http"):
        remote_of({**env, "AWS_ENDPOINT_URL_S3": "s3-only:2"})


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_profile_is_read_from_the_shared_files(tmp_path: Path) -> None:
    config = write(
        tmp_path / "config",
        "[default]\nregion = us-west-2\n\n[profile dev]\nregion = eu-central-1\n"
        "endpoint_url = http://minio.local:9000\naws_access_key_id = FROMCONFIG\n"
        "aws_secret_access_key = config-secret\n",
    )
    credentials = write(
        tmp_path / "credentials",
        "[dev]\naws_access_key_id = FROMCREDS\naws_secret_access_key = creds-secret\n",
    )
    base = RemoteSettings(S3Address("b-1"), config_file=config, credentials_file=credentials)
    dev = resolve_account(RemoteSettings(**{**vars(base), "profile": "dev"}))
    assert (dev.endpoint, dev.region, dev.path_style) == (
        "http://minio.local:9000",
        "eu-central-1",
        True,
    )
    assert dev.credentials == AwsCredentials("FROMCREDS", "creds-secret")  # credentials first
    assert dev.url("b-1", "p/objects/x") == "http://minio.local:9000/b-1/p/objects/x"
    default = resolve_account(base)
    assert (default.endpoint, default.region, default.path_style) == (
        "https://s3.us-west-2.amazonaws.com",
        "us-west-2",
        False,
    )
    assert default.credentials is None  # anonymous: a public bucket
    assert default.url("b-1", "k") == "https://b-1.s3.us-west-2.amazonaws.com/k"
    env_wins = RemoteSettings(
        **{**vars(base), "profile": "dev", "region": "ap-south-1", "endpoint": "http://e:1"}
    )
    account = resolve_account(env_wins)
    assert (account.endpoint, account.region) == ("http://e:1", "ap-south-1")
    with pytest.raises(UsageError, match="AWS_PROFILE: the profile 'nope' is in neither"):
        resolve_account(RemoteSettings(**{**vars(base), "profile": "nope"}))


def test_requests_are_signed_over_the_headers_the_engine_never_changes() -> None:
    """Host, payload marker and date only, so the engine may add Range; whether the
    signature is right, the real server says (tests/test_remote_store.py)."""
    credentials = AwsCredentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    headers = sign(
        "GET",
        "https://examplebucket.s3.amazonaws.com/test.txt",
        "us-east-1",
        credentials,
        now=datetime(2013, 5, 24, tzinfo=timezone.utc),
    )
    assert headers["x-amz-date"] == "20130524T000000Z"
    assert headers["authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature="
    )
    assert headers["host"] == "examplebucket.s3.amazonaws.com"
    again = sign(
        "GET",
        "https://examplebucket.s3.amazonaws.com:443/test.txt",
        "us-east-1",
        credentials,
        now=datetime(2013, 5, 24, tzinfo=timezone.utc),
    )
    assert again == headers  # the default port is not part of the host
