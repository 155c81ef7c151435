"""Bearer tokens with roles: standard JWTs, signed by accounts, verified by every service.

An access token is a JWT signed with an asymmetric key (Ed25519 `EdDSA`, or `ES256`) whose id
is in the header (`kid`). Its claims: `iss`, `aud`, `sub`, `role`, `unit` (a unit's token),
`iat`, `exp` (short: `HOTLINE_AUTH_ACCESS_TOKEN_MINUTES`) and `jti`. accounts holds the private
key and serves the public keys at `/.well-known/jwks.json`; a service verifies with public keys
only (`HOTLINE_AUTH_PUBLIC_KEYS`, the configured key's public half, or `HOTLINE_AUTH_JWKS_URL`).
Several keys are accepted at once, so a key can be rotated.

Revocation: accounts serves the tokens and subjects revoked within the last access-token
lifetime (`GET /api/v1/auth/revocations`). A service keeps a copy for
`HOTLINE_AUTH_REVOCATION_TTL_SECONDS` (beside accounts in one process, accounts drops the copy
at once when it revokes). The trade-off: a revoked token still works for up to that many
seconds in another process; if accounts cannot be reached the last copy is kept (logged) and
the short access lifetime bounds the damage, instead of every service failing with accounts.

A token checked once is taken as checked until it expires, for five minutes at most
(`VerifiedTokens`: its signature cost a twentieth of accepting a report); revocation is checked
on every request all the same.

Optionally the tokens of the city's OpenID Connect provider are accepted too (`HOTLINE_OIDC_*`):
checked against the provider's JWKS, their roles mapped to this platform's roles.

Routers keep using `require(...)` and `Principal`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from shared import audit
from shared.errors import Forbidden, Unauthorized
from shared.settings import DEV_AUTH_PRIVATE_KEY, PlatformSettings, platform_settings

log = logging.getLogger(__name__)


class Role(StrEnum):
    GATEWAY = "gateway"  # channel gateways posting citizens' reports
    OPERATOR = "operator"  # hotline-centre operators, dispatchers and callback staff
    UNIT = "unit"  # a handling unit (承办单位), scoped to its unit id
    SUPERVISOR = "supervisor"  # the centre's supervisors and evaluators
    LEADER = "leader"  # leaders (领导): read the figures, the dashboard and the big screen only
    SERVICE = "service"  # another service of the platform
    CITIZEN = "citizen"  # the mini-program acting for one citizen
    ADMIN = "admin"  # administers accounts and service clients, nothing else


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    unit_id: str | None = None
    # The token's id (`jti`) and where it came from: not part of who the principal is.
    token_id: str | None = field(default=None, compare=False)
    issuer: str | None = field(default=None, compare=False)

    def is_centre(self) -> bool:
        return self.role in (Role.OPERATOR, Role.SUPERVISOR, Role.SERVICE)


# --- Keys ------------------------------------------------------------------------------------

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
ALGORITHMS = ("EdDSA", "ES256")


@dataclass(frozen=True)
class VerifyingKey:
    kid: str
    algorithm: str
    key: Any  # a cryptography public key


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str
    key: PrivateKey

    def verifying(self) -> VerifyingKey:
        return VerifyingKey(self.kid, self.algorithm, self.key.public_key())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(key: PublicKey, kid: str | None = None) -> dict[str, Any]:
    """The public key as a JWK, with its `kid` (default: the RFC 7638 thumbprint) and `alg`."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        jwk: dict[str, Any] = OKPAlgorithm.to_jwk(key, as_dict=True)
        required = {k: jwk[k] for k in ("crv", "kty", "x")}
        algorithm = "EdDSA"
    elif isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1":
        jwk = ECAlgorithm.to_jwk(key, as_dict=True)
        required = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
        algorithm = "ES256"
    else:
        raise ValueError("signing keys are Ed25519 or EC P-256")
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True).encode()
    thumbprint = _b64(hashlib.sha256(canonical).digest())
    return {**jwk, "kid": kid or thumbprint, "alg": algorithm, "use": "sig"}


@lru_cache(maxsize=16)
def load_signing_key(pem: str, kid: str | None = None) -> SigningKey:
    key = serialization.load_pem_private_key(pem.strip().encode(), password=None)
    if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("HOTLINE_AUTH_PRIVATE_KEY must be an Ed25519 or EC P-256 private key")
    jwk = public_jwk(key.public_key(), kid)
    return SigningKey(jwk["kid"], jwk["alg"], key)


def _derived_key(secret: str) -> SigningKey:
    """A throwaway key derived from any string (tests sign forged tokens with one)."""
    seed = hashlib.sha256(secret.encode()).digest()
    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    return SigningKey(public_jwk(key.public_key())["kid"], "EdDSA", key)


def signing_key(platform: PlatformSettings | None = None) -> SigningKey:
    """The configured signing key, or the development key when none is configured."""
    platform = platform or platform_settings()
    return load_signing_key(platform.auth_private_key or DEV_AUTH_PRIVATE_KEY, platform.auth_key_id)


def parse_public_keys(text: str) -> dict[str, VerifyingKey]:
    """A JWKS document or PEM public keys (each PEM's kid is its thumbprint)."""
    text = text.strip()
    if not text:
        return {}
    keys: dict[str, VerifyingKey] = {}
    if text.startswith("{"):
        for jwk in json.loads(text).get("keys", []):
            parsed = _from_jwk(jwk)
            if parsed:
                keys[parsed.kid] = parsed
        return keys
    marker = "-----END PUBLIC KEY-----"
    for block in text.split(marker):
        if "-----BEGIN" not in block:
            continue
        key = serialization.load_pem_public_key((block.strip() + "\n" + marker).encode())
        if not isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
            raise ValueError("HOTLINE_AUTH_PUBLIC_KEYS: keys are Ed25519 or EC P-256")
        jwk = public_jwk(key)
        keys[jwk["kid"]] = VerifyingKey(jwk["kid"], jwk["alg"], key)
    return keys


def _from_jwk(jwk: Mapping[str, Any]) -> VerifyingKey | None:
    try:
        parsed = jwt.PyJWK(dict(jwk))
    except jwt.PyJWTError:
        log.warning("ignoring a key of a JWKS that cannot be used: kid %s", jwk.get("kid"))
        return None
    kid = jwk.get("kid") or public_jwk(parsed.key)["kid"]
    return VerifyingKey(str(kid), parsed.algorithm_name, parsed.key)


def local_keys(platform: PlatformSettings) -> dict[str, VerifyingKey]:
    """The keys this process accepts from its configuration: the signing key's public half
    (the development key only when no other key is configured) and HOTLINE_AUTH_PUBLIC_KEYS."""
    return _local_keys(
        platform.auth_private_key,
        platform.auth_key_id,
        platform.auth_public_keys,
        bool(platform.auth_jwks_url),
    )


@lru_cache(maxsize=16)
def _local_keys(
    private_key: str | None, kid: str | None, public_keys: str, remote: bool
) -> dict[str, VerifyingKey]:
    keys = parse_public_keys(public_keys)
    if private_key or not (keys or remote):
        own = load_signing_key(private_key or DEV_AUTH_PRIVATE_KEY, kid).verifying()
        keys[own.kid] = own
    return keys


def jwks(platform: PlatformSettings | None = None) -> dict[str, Any]:
    """The public keys this platform's tokens are signed with (accounts' JWKS endpoint)."""
    platform = platform or platform_settings()
    return {"keys": [public_jwk(k.key, k.kid) for k in local_keys(platform).values()]}


# --- Issuing ---------------------------------------------------------------------------------


def issue_token(
    principal: Principal,
    secret: str | None = None,
    *,
    platform: PlatformSettings | None = None,
    lifetime: timedelta | None = None,
    now: datetime | None = None,
    token_id: str | None = None,
    audience: str | None = None,
    issuer: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """A signed access token for `principal`. `secret`: another private key (PEM); any other
    string stands for a key derived from it that no service accepts (forged tokens in tests)."""
    platform = platform or platform_settings()
    if secret is None:
        key = signing_key(platform)
    elif secret.lstrip().startswith("-----BEGIN"):
        key = load_signing_key(secret)
    else:
        key = _derived_key(secret)
    issued = int(now.timestamp() if now else time.time())
    lifetime = lifetime or timedelta(minutes=platform.auth_access_token_minutes)
    claims: dict[str, Any] = {
        **(extra or {}),
        "iss": issuer or platform.auth_issuer,
        "aud": audience or platform.auth_audience,
        "sub": principal.subject,
        "role": principal.role.value,
        "iat": issued,
        "exp": issued + int(lifetime.total_seconds()),
        "jti": token_id or uuid.uuid4().hex,
    }
    if principal.unit_id:
        claims["unit"] = principal.unit_id
    return jwt.encode(claims, key.key, algorithm=key.algorithm, headers={"kid": key.kid})


# --- Verifying -------------------------------------------------------------------------------


class RemoteKeySet:
    """A JWKS fetched over HTTP, cached; refetched (at most every `min_interval` s) when a
    token names a kid it does not hold."""

    def __init__(self, url: str, *, max_age: float = 300.0, min_interval: float = 30.0) -> None:
        self.url = url
        self.max_age = max_age
        self.min_interval = min_interval
        self.keys: dict[str, VerifyingKey] = {}
        self._fetched = float("-inf")
        self._lock = asyncio.Lock()

    def _stale(self, kid: str) -> bool:
        age = time.monotonic() - self._fetched
        return age > self.max_age or (kid not in self.keys and age > self.min_interval)

    async def get(self, kid: str) -> VerifyingKey | None:
        if self._stale(kid):
            async with self._lock:
                if self._stale(kid):
                    await self._fetch()
        return self.keys.get(kid)

    async def _fetch(self) -> None:
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(self.url)
                response.raise_for_status()
                document = response.json()
            self.keys = {k.kid: k for k in map(_from_jwk, document.get("keys", [])) if k}
        except (httpx.HTTPError, ValueError) as exc:
            log.warning(
                "could not fetch the JWKS at %s: %r; keeping %d keys", self.url, exc, len(self.keys)
            )
        self._fetched = time.monotonic()


@lru_cache(maxsize=8)
def remote_key_set(url: str) -> RemoteKeySet:
    return RemoteKeySet(url)


_oidc_jwks_urls: dict[str, str] = {}


async def _oidc_key_set(platform: PlatformSettings) -> RemoteKeySet:
    assert platform.oidc_issuer
    url = platform.oidc_jwks_url or _oidc_jwks_urls.get(platform.oidc_issuer)
    if not url:
        discovery = platform.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(discovery)
                response.raise_for_status()
                url = str(response.json()["jwks_uri"])
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            log.warning("OIDC discovery at %s failed: %r", discovery, exc)
            raise Unauthorized("The single sign-on provider's keys cannot be fetched.") from None
        _oidc_jwks_urls[platform.oidc_issuer] = url
    return remote_key_set(url)


def _header_and_issuer(token: str) -> tuple[dict[str, Any], str | None]:
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise Unauthorized("The bearer token is malformed.") from None
    issuer = claims.get("iss")
    return header, issuer if isinstance(issuer, str) else None


def _decode(
    token: str, key: VerifyingKey, *, issuer: str, audience: str, leeway: int
) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[key.algorithm],
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The bearer token has expired; log in again or refresh it.") from None
    except jwt.ImmatureSignatureError:
        raise Unauthorized(
            "The bearer token is not valid yet (iat or nbf in the future)."
        ) from None
    except jwt.InvalidAudienceError:
        raise Unauthorized(
            f"The bearer token is not meant for this platform (aud must be '{audience}')."
        ) from None
    except jwt.InvalidIssuerError:
        raise Unauthorized(
            f"The bearer token has the wrong issuer (iss must be '{issuer}')."
        ) from None
    except jwt.MissingRequiredClaimError as exc:
        raise Unauthorized(f"The bearer token lacks the '{exc.claim}' claim.") from None
    except jwt.PyJWTError:
        raise Unauthorized("The bearer token is not valid.") from None
    return claims


def _principal(claims: Mapping[str, Any], issuer: str) -> Principal:
    try:
        role = Role(claims["role"])
    except (ValueError, KeyError):
        raise Unauthorized("The bearer token's role is not valid.") from None
    unit = claims.get("unit")
    if role is Role.UNIT and not unit:
        raise Unauthorized("A unit token must name its unit.")
    jti = claims.get("jti")
    return Principal(
        subject=str(claims["sub"]),
        role=role,
        unit_id=str(unit) if unit else None,
        token_id=str(jti) if jti else None,
        issuer=issuer,
    )


def verify_token(token: str, platform: PlatformSettings | None = None) -> Principal:
    """Check a platform token against the locally configured keys only (no JWKS fetch, no
    revocation list): signature, kid, exp, iat, iss, aud and the role."""
    platform = platform or platform_settings()
    header, _issuer = _header_and_issuer(token)
    key = local_keys(platform).get(str(header.get("kid")))
    if key is None:
        raise Unauthorized("The bearer token is signed with an unknown key (kid).")
    claims = _decode(
        token,
        key,
        issuer=platform.auth_issuer,
        audience=platform.auth_audience,
        leeway=platform.auth_leeway_seconds,
    )
    return _principal(claims, platform.auth_issuer)


async def authenticate(token: str, platform: PlatformSettings) -> tuple[Principal, dict[str, Any]]:
    """Check a token of this platform, or of the configured OpenID Connect provider."""
    header, issuer = _header_and_issuer(token)
    kid = str(header.get("kid"))
    if platform.oidc_issuer and issuer == platform.oidc_issuer:
        return await _authenticate_oidc(token, kid, platform)
    key = local_keys(platform).get(kid)
    if key is None and platform.auth_jwks_url:
        key = await remote_key_set(platform.auth_jwks_url).get(kid)
    if key is None:
        raise Unauthorized("The bearer token is signed with an unknown key (kid).")
    claims = _decode(
        token,
        key,
        issuer=platform.auth_issuer,
        audience=platform.auth_audience,
        leeway=platform.auth_leeway_seconds,
    )
    return _principal(claims, platform.auth_issuer), claims


def claim(claims: Mapping[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def oidc_principal(claims: Mapping[str, Any], platform: PlatformSettings) -> Principal:
    """Map an OpenID Connect provider's claims to a principal (HOTLINE_OIDC_* settings)."""
    raw = claim(claims, platform.oidc_role_claim)
    held = [raw] if isinstance(raw, str) else list(raw or [])
    role = next(
        (platform.oidc_role_map[r] for r in platform.oidc_role_map if r in held),
        None,
    )
    if role is None:
        raise Forbidden("The single sign-on token carries no role of this platform.")
    subject = claim(claims, platform.oidc_subject_claim) or claims.get("sub")
    unit = claim(claims, platform.oidc_unit_claim)
    jti = claims.get("jti")
    return _principal(
        {"role": role, "sub": subject, "unit": unit, "jti": jti}, str(platform.oidc_issuer)
    )


async def _authenticate_oidc(
    token: str, kid: str, platform: PlatformSettings
) -> tuple[Principal, dict[str, Any]]:
    assert platform.oidc_issuer
    key = await (await _oidc_key_set(platform)).get(kid)
    if key is None:
        raise Unauthorized("The single sign-on token is signed with an unknown key (kid).")
    claims = _decode(
        token,
        key,
        issuer=platform.oidc_issuer,
        audience=platform.oidc_audience or platform.auth_audience,
        leeway=platform.auth_leeway_seconds,
    )
    return oidc_principal(claims, platform), claims


# --- Revocation ------------------------------------------------------------------------------

REVOCATIONS_PATH = "/api/v1/auth/revocations"


def subject_digest(subject: str) -> str:
    """How the revocation list names a subject (it does not list account names)."""
    return hashlib.sha256(subject.encode()).hexdigest()[:32]


class Revocations:
    """This process's copy of accounts' revocation list (one per app)."""

    def __init__(self) -> None:
        self.token_ids: frozenset[str] = frozenset()
        self.subjects: dict[str, float] = {}
        self._fetched = float("-inf")
        self._lock = asyncio.Lock()
        self._warned = False

    def invalidate(self) -> None:
        """accounts, in this process, revoked something: fetch the list before the next check."""
        self._fetched = float("-inf")

    def load(self, document: Mapping[str, Any]) -> None:
        self.token_ids = frozenset(document.get("tokens", []))
        self.subjects = {k: float(v) for k, v in document.get("subjects", {}).items()}

    async def refresh(self, app: FastAPI, platform: PlatformSettings) -> None:
        if time.monotonic() - self._fetched < platform.auth_revocation_ttl_seconds:
            return
        async with self._lock:
            if time.monotonic() - self._fetched < platform.auth_revocation_ttl_seconds:
                return
            runtimes = getattr(app.state, "runtimes", {})
            if "accounts" in runtimes:  # beside accounts: ask it in this process
                transport: httpx.AsyncBaseTransport | None = httpx.ASGITransport(app=app)
                base = "http://accounts"
            elif platform.auth_accounts_url:
                transport, base = None, platform.auth_accounts_url.rstrip("/")
            else:
                if not self._warned:
                    log.warning(
                        "no revocation list: accounts is not in this process and "
                        "HOTLINE_AUTH_ACCOUNTS_URL is not set; revoked tokens work until they expire"
                    )
                    self._warned = True
                self._fetched = time.monotonic()
                return
            try:
                async with httpx.AsyncClient(transport=transport, base_url=base, timeout=3) as c:
                    response = await c.get(REVOCATIONS_PATH)
                    response.raise_for_status()
                    self.load(response.json())
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("could not refresh the revocation list from %s: %r", base, exc)
            self._fetched = time.monotonic()

    def check(self, principal: Principal, claims: Mapping[str, Any]) -> None:
        if principal.token_id and principal.token_id in self.token_ids:
            raise Unauthorized("The bearer token has been revoked.")
        not_before = self.subjects.get(subject_digest(principal.subject))
        if not_before is not None and float(claims.get("iat", 0)) <= not_before:
            raise Unauthorized(
                "The bearer token has been revoked (signed out, disabled or password reset); log in again."
            )


class VerifiedTokens:
    """Tokens this app has verified (signature, kid, exp, iat, iss, aud, role), with what they
    said, until they expire or `max_age` seconds have passed. Checking an Ed25519 signature
    and decoding the header and claims twice cost about 0.4 ms a request, a twentieth of
    accepting a report (docs/performance.md); a gateway sends the same token for every report.

    Only what the token proves is kept: revocation is still checked on every request, after
    this. `max_age` bounds how long a key withdrawn from a JWKS keeps verifying what it signed,
    as the key set's own cache does. Kept by digest, so no bearer token sits in the cache."""

    def __init__(
        self, *, size: int = 4096, max_age: float = 300.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.size, self.max_age, self._clock = size, max_age, clock
        self._entries: dict[bytes, tuple[Principal, dict[str, Any], float]] = {}

    def get(self, token: str) -> tuple[Principal, dict[str, Any]] | None:
        digest = hashlib.sha256(token.encode()).digest()
        entry = self._entries.get(digest)
        if entry is None:
            return None
        principal, claims, until = entry
        if self._clock() >= until:
            del self._entries[digest]
            return None
        return principal, claims

    def keep(self, token: str, principal: Principal, claims: dict[str, Any], leeway: int) -> None:
        """Remember a token just verified: until its `exp` (with the leeway `_decode` allows)."""
        expires = claims.get("exp")
        if not isinstance(expires, int | float):  # nothing says until when: verified each time
            return
        until = min(float(expires) + leeway, self._clock() + self.max_age)
        if len(self._entries) >= self.size:  # the oldest kept goes first
            del self._entries[next(iter(self._entries))]
        self._entries[hashlib.sha256(token.encode()).digest()] = (principal, claims, until)


def verified_tokens_of(app: FastAPI) -> VerifiedTokens:
    verified: VerifiedTokens | None = getattr(app.state, "verified_tokens", None)
    if verified is None:
        verified = app.state.verified_tokens = VerifiedTokens()
    return verified


def revocations_of(app: FastAPI) -> Revocations:
    revocations: Revocations | None = getattr(app.state, "revocations", None)
    if revocations is None:
        revocations = app.state.revocations = Revocations()
    return revocations


def _platform_of(request: Request) -> PlatformSettings:
    platform: PlatformSettings | None = getattr(request.app.state, "platform", None)
    return platform or platform_settings()


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthorized("Send 'Authorization: Bearer <token>'.")
    platform = _platform_of(request)
    token, verified = credentials.credentials, verified_tokens_of(request.app)
    known = verified.get(token)
    if known is None:
        known = await authenticate(token, platform)
        verified.keep(token, *known, leeway=platform.auth_leeway_seconds)
    principal, claims = known
    revocations = revocations_of(request.app)
    await revocations.refresh(request.app, platform)
    revocations.check(principal, claims)
    audit.acting(principal.role.value, principal.subject)  # the events it causes name it
    return principal


def require(*roles: Role):  # type: ignore[no-untyped-def]
    """A dependency that admits only the given roles."""
    allowed = frozenset(roles)

    async def dependency(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if principal.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise Forbidden(f"Role '{principal.role.value}' may not do this; allowed: {names}.")
        return principal

    return dependency
