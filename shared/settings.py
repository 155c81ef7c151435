"""Settings shared by the whole platform and the base every service's settings extend.

The only switch between the embedded and the distributed run is configuration:
`HOTLINE_KAFKA_BOOTSTRAP` set or not, and each service's database URL.

Secrets have development defaults so that `make run` works out of the box. `default_secrets`
names every secret setting that still has one (or a `REPLACE_ME` placeholder): outside the
embedded demo the platform refuses to start while the list is not empty (`services/__main__.py`),
and the demo logs a loud warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_CONSUMER_BATCH_SIZE = 200
# The development signing key (Ed25519). Public in this repository: anyone can sign tokens with
# it, so it is used only when no key is configured, and only the embedded demo may start so.
DEV_AUTH_PRIVATE_KEY = """-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJIsJ0l6Fsp2FwA5Ng8It3dNch9eaFLuVdaOWE0OuSNa
-----END PRIVATE KEY-----
"""
DEV_CITIZEN_REF_SECRET = "dev-only-citizen-ref-secret"


class PlatformSettings(BaseSettings):
    """Settings every service reads (env prefix `HOTLINE_`)."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    data_dir: Path = Path("data")
    kafka_bootstrap: str | None = None
    kafka_topic: str = "tickets.lifecycle"
    kafka_dead_letter_topic: str = "tickets.lifecycle.dlq"
    kafka_partitions: int = 6
    kafka_replication_factor: int = 1
    # Apache Kafka supports the idempotent producer; the tansu test broker does not.
    kafka_idempotent_producer: bool = True
    consumer_max_attempts: int = 5
    consumer_backoff_seconds: float = 0.2
    # Events a consumer applies in one transaction (and one offset commit). Bounded so the bulk
    # inbox claim stays within the databases' limit on bound parameters in one statement.
    consumer_batch_size: int = Field(DEFAULT_CONSUMER_BATCH_SIZE, ge=1, le=5000)
    # A SQLite service's requests at its one connection at once; the others wait for a place
    # without holding anything, so that the outbox relay and the consumers queue behind this
    # many requests, not behind every request in flight (docs/performance.md: with 8, accept →
    # armed p99 0.8 s under an overload, with none 30 s).
    sqlite_request_slots: int = Field(8, ge=1, le=10_000)
    outbox_poll_seconds: float = 0.5
    outbox_batch_size: int = 200
    # How long the relay waits for the bus to confirm a batch before it lets go (it holds no
    # database transaction meanwhile; the batch stays in flight and is waited for again).
    outbox_publish_timeout_seconds: float = Field(10.0, gt=0)
    # Logs: readable text, or one JSON object per line for a log pipeline (shared/logs.py).
    log_format: Literal["text", "json"] = "text"
    # Traces: exporting is off by default; "console" prints finished spans (shared/tracing.py).
    traces: Literal["none", "console"] = "none"

    # --- Tokens (shared/auth.py). accounts signs; every service verifies with public keys. ---
    # The signing key, PEM (Ed25519 → EdDSA, or EC P-256 → ES256). Needed where tokens are
    # issued (accounts). Unset: the development key, which only the embedded demo accepts.
    auth_private_key: str | None = None
    # The signing key's id (`kid`); default: its RFC 7638 JWK thumbprint.
    auth_key_id: str | None = None
    # More public keys to accept (key rotation: the previous key stays here until its tokens
    # have expired), as a JWKS document ({"keys": [...]}) or PEM blocks.
    auth_public_keys: str = ""
    # Or learn the accepted keys from accounts' JWKS (cached; refetched for an unknown kid).
    auth_jwks_url: str | None = None
    auth_issuer: str = "hotline12345"
    auth_audience: str = "hotline12345"
    auth_access_token_minutes: float = Field(15.0, gt=0)
    auth_refresh_token_hours: float = Field(12.0, gt=0)
    auth_leeway_seconds: int = Field(30, ge=0)
    # Where a service not running beside accounts fetches the revocation list (distributed).
    auth_accounts_url: str | None = None
    # How long a service trusts its copy of the revocation list.
    auth_revocation_ttl_seconds: float = Field(10.0, ge=0)

    # --- Optional single sign-on: tokens of the city's OpenID Connect provider. ---
    oidc_issuer: str | None = None
    # Default: the `jwks_uri` of {issuer}/.well-known/openid-configuration.
    oidc_jwks_url: str | None = None
    oidc_audience: str | None = None
    # Claim paths (dots for nesting, e.g. realm_access.roles) and the provider's role names.
    oidc_subject_claim: str = "preferred_username"
    oidc_role_claim: str = "roles"
    oidc_unit_claim: str = "unit_id"
    # The provider's role → this platform's role, e.g. {"12345-operator": "operator"}; the
    # first mapped role the token carries wins.
    oidc_role_map: dict[str, str] = Field(default_factory=dict)

    # Pseudonymous citizen references are keyed hashes, so they cannot be reversed by hashing phones.
    citizen_ref_secret: str = DEV_CITIZEN_REF_SECRET
    load_demo: bool = False

    @property
    def distributed(self) -> bool:
        return bool(self.kafka_bootstrap)

    @property
    def demo(self) -> bool:
        """The embedded demo: the only run that may start with development secrets."""
        return self.load_demo and not self.distributed


class ServiceSettings(BaseSettings):
    """Base of each service's own settings; subclasses set their env prefix (e.g. `INTAKE_`)."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str | None = None

    def resolved_database_url(self, service: str, platform: PlatformSettings) -> str:
        """The configured URL, or one SQLite file per service under the data folder."""
        if self.database_url:
            return self.database_url
        path = (platform.data_dir / f"{service}.db").resolve()
        return f"sqlite+aiosqlite:///{path}"


@lru_cache
def platform_settings() -> PlatformSettings:
    return PlatformSettings()


# A setting is a secret by its name; its value is a development one if it is the field's
# default or carries a placeholder.
SECRET_NAME = re.compile(r"(secret|password|private_key|_key$|_keys$)")
NOT_SECRET = re.compile(r"public")
PLACEHOLDERS = ("replace_me", "replace-me", "change_me", "change-me", "changeme", "dev-only")
# Platform secrets only the named services use.
PLATFORM_SECRET_USERS: Mapping[str, frozenset[str]] = {
    "citizen_ref_secret": frozenset({"intake"}),
}


def _env_name(settings: BaseSettings, field: str) -> str:
    return f"{settings.model_config.get('env_prefix', '')}{field}".upper()


def _placeholder(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(_placeholder(k) or _placeholder(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_placeholder(v) for v in value)
    return isinstance(value, str) and any(p in value.lower() for p in PLACEHOLDERS)


def _development_value(value: Any, default: Any) -> bool:
    return value == default or not value or _placeholder(value)


def default_secrets(
    platform: PlatformSettings,
    services: Mapping[str, BaseSettings] = {},
) -> list[str]:
    """The environment names of the secret settings that still have a development value, for
    the services named (their own settings objects) and the platform settings they use."""
    missing: list[str] = []
    names = set(services)
    # The signing key: the development key signs (accounts) or is accepted (every service
    # without other keys configured).
    others = bool(platform.auth_public_keys.strip() or platform.auth_jwks_url)
    if _development_value(platform.auth_private_key, DEV_AUTH_PRIVATE_KEY) and (
        "accounts" in names or not others or platform.auth_private_key
    ):
        missing.append(_env_name(platform, "auth_private_key"))
    for field, users in PLATFORM_SECRET_USERS.items():
        if users & names:
            default = PlatformSettings.model_fields[field].get_default(call_default_factory=True)
            if _development_value(getattr(platform, field), default):
                missing.append(_env_name(platform, field))
    for settings in services.values():
        missing.extend(service_default_secrets(settings))
    return missing


def service_default_secrets(settings: BaseSettings) -> list[str]:
    """One service's secret settings (by name: secret, password, private key, …_key(s)) that
    are still at their development default or a placeholder."""
    missing = []
    for field, info in type(settings).model_fields.items():
        if not SECRET_NAME.search(field) or NOT_SECRET.search(field):
            continue
        value = getattr(settings, field)
        if isinstance(value, bool | int | float):  # a length or a count, not a secret
            continue
        default = info.get_default(call_default_factory=True)
        if _development_value(value, default):
            missing.append(_env_name(settings, field))
    return missing


def secrets_message(missing: Iterable[str]) -> str:
    names = ", ".join(missing)
    return (
        f"these secret settings still have their development values: {names}. "
        "Anyone who reads this repository knows them. Set each one (deploy/README.md says how "
        "to generate them); only the embedded demo (HOTLINE_LOAD_DEMO=true without "
        "HOTLINE_KAFKA_BOOTSTRAP) starts without them."
    )
