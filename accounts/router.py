"""accounts' routes: the OAuth 2.0 token endpoint (password, client credentials, refresh),
sign-out, the public keys and the revocation list, and account administration."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import domain, service
from accounts.domain import Kind
from accounts.models import Account, Client
from accounts.schemas import (
    AccountCreated,
    AccountIn,
    AccountOut,
    ClientCreated,
    ClientIn,
    ClientOut,
    LogoutIn,
    MeOut,
    PasswordChangeIn,
    PasswordResetIn,
    PasswordResetOut,
    RevocationsOut,
    RevokeIn,
    TokenOut,
)
from shared.auth import (
    REVOCATIONS_PATH,
    Principal,
    Role,
    current_principal,
    jwks,
    require,
    revocations_of,
)
from shared.clock import SystemClock
from shared.errors import InvalidInput
from shared.problems import AUTHENTICATED, WITH_BODY, problem_responses
from shared.runtime import session_dependency
from shared.settings import PlatformSettings, platform_settings

router = APIRouter(tags=["accounts"])

Session = Annotated[AsyncSession, Depends(session_dependency("accounts"))]

# The problems the routes that take a token may answer (a route adds its own: 404, 409 …).
SIGNED_IN = problem_responses(*AUTHENTICATED)
SIGNED_IN_WITH_BODY = problem_responses(*AUTHENTICATED, *WITH_BODY)


def signed_in(*statuses: int, body: bool = False) -> dict[int | str, dict[str, Any]]:
    return {**(SIGNED_IN_WITH_BODY if body else SIGNED_IN), **problem_responses(*statuses)}


def wall_time() -> datetime:
    """Credentials live in real time: a token's iat and exp are checked against the wall clock
    by every service, so accounts dates what it issues and revokes by it too (not by the
    injectable clock, which tests and simulations move through business days)."""
    return SystemClock().now()


Now = Annotated[datetime, Depends(wall_time)]
Anyone = Annotated[Principal, Depends(current_principal)]
Admin = Annotated[Principal, Depends(require(Role.ADMIN, Role.SUPERVISOR))]
ClientAdmin = Annotated[Principal, Depends(require(Role.ADMIN))]


def _platform(request: Request) -> PlatformSettings:
    platform: PlatformSettings | None = getattr(request.app.state, "platform", None)
    return platform or platform_settings()


Platform = Annotated[PlatformSettings, Depends(_platform)]


def _tokens_out(tokens: service.Tokens) -> TokenOut:
    return TokenOut(
        access_token=tokens.access_token,
        expires_in=tokens.expires_in,
        refresh_token=tokens.refresh_token,
        role=tokens.principal.role,
        unit_id=tokens.principal.unit_id,
    )


def _basic(request: Request) -> tuple[str, str] | None:
    """Client credentials in an HTTP Basic header (RFC 6749 §2.3.1)."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return client_id, secret


def _missing(*names: str) -> InvalidInput:
    return InvalidInput(
        f"{', '.join(names)}: required for this grant type.",
        errors=[{"field": n, "message": "required"} for n in names],
    )


@router.post(
    "/api/v1/auth/token",
    response_model=TokenOut,
    response_model_exclude_none=True,
    responses=problem_responses(401, 413, 422, 429),
)
async def token(
    request: Request,
    session: Session,
    platform: Platform,
    now: Now,
    grant_type: Annotated[str, Form(pattern="^(password|client_credentials|refresh_token)$")],
    username: Annotated[str | None, Form(max_length=64)] = None,
    password: Annotated[str | None, Form(max_length=200)] = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=200)] = None,
    refresh_token: Annotated[str | None, Form(max_length=200)] = None,
    scope: Annotated[str, Form(max_length=200)] = "",
) -> TokenOut:
    """Log in, OAuth 2.0 style (form-encoded): `grant_type=password` with `username` and
    `password` (people: an access token and a rotating refresh token); `client_credentials`
    with `client_id` and `client_secret`, in the form or as HTTP Basic (services, gateways);
    `refresh_token` (a new access token and a new refresh token; the old one is used up).

    A wrong name or password is a 401 with `"error": "invalid_grant"`. After
    `ACCOUNTS_LOGIN_MAX_FAILURES` (5) failed password logins in a row for one account name, the
    name is locked (登录锁定): every password login for it, with the right password too, is a
    429 with `Retry-After` (seconds) and `"error": "invalid_grant"`, for
    `ACCOUNTS_LOGIN_LOCKOUT_SECONDS` (60), then twice as long at each further failure, at most
    `ACCOUNTS_LOGIN_LOCKOUT_MAX_SECONDS` (3600). Names that are no account are counted and
    locked the same way, so the answers never tell which names exist. A successful login, or
    an administrator's password reset, clears the count."""
    try:
        return _tokens_out(
            await _grant(
                request,
                session,
                platform,
                now,
                grant_type,
                username,
                password,
                client_id,
                client_secret,
                refresh_token,
            )
        )
    except service.RefreshReused as reused:
        async with session.begin():
            await service.revoke_family(session, reused.family, now)
        raise
    except service.LoginFailed as failed:
        async with session.begin():
            await service.count_failed_login(session, failed.username, now)
        raise


async def _grant(
    request: Request,
    session: AsyncSession,
    platform: PlatformSettings,
    now: datetime,
    grant_type: str,
    username: str | None,
    password: str | None,
    client_id: str | None,
    client_secret: str | None,
    refresh_token: str | None,
) -> service.Tokens:
    async with session.begin():
        if grant_type == "password":
            if not username or password is None:
                raise _missing("username", "password")
            tokens = await service.login(session, username, password, platform, now)
        elif grant_type == "client_credentials":
            basic = _basic(request)
            if basic:
                client_id, client_secret = basic
            if not client_id or client_secret is None:
                raise _missing("client_id", "client_secret")
            tokens = await service.client_credentials(
                session, client_id, client_secret, platform, now
            )
        else:
            if not refresh_token:
                raise _missing("refresh_token")
            tokens = await service.refresh(session, refresh_token, platform, now)
    return tokens


@router.post("/api/v1/auth/logout", status_code=204, responses=signed_in(body=True))
async def logout(
    request: Request,
    session: Session,
    platform: Platform,
    now: Now,
    who: Anyone,
    body: LogoutIn | None = None,
) -> None:
    """Sign out: this access token is revoked, and the refresh token's family if given."""
    async with session.begin():
        await service.logout(
            session, who, body.refresh_token if body else None, None, platform, now
        )
    revocations_of(request.app).invalidate()


@router.get("/api/v1/auth/me", response_model=MeOut, responses=signed_in())
async def me(who: Anyone) -> MeOut:
    """Who the bearer token says you are."""
    return MeOut(subject=who.subject, role=who.role, unit_id=who.unit_id, issuer=who.issuer)


@router.post("/api/v1/auth/password", status_code=204, responses=signed_in(404, body=True))
async def change_password(
    request: Request, session: Session, now: Now, who: Anyone, body: PasswordChangeIn
) -> None:
    """Change your own password; your other sessions are signed out."""
    async with session.begin():
        await service.change_own_password(
            session, who.subject, body.current_password, body.new_password, now
        )
    revocations_of(request.app).invalidate()


@router.get("/.well-known/jwks.json", tags=["accounts"])
async def well_known_jwks(platform: Platform) -> dict[str, Any]:
    """The public keys access tokens are signed with (several during a key rotation)."""
    return jwks(platform)


@router.get(REVOCATIONS_PATH, response_model=RevocationsOut)
async def revocation_list(session: Session, platform: Platform, now: Now) -> dict[str, Any]:
    """What services refuse besides expired tokens: revoked token ids, and subjects (hashed)
    whose tokens issued until an instant are revoked. Services cache it for
    HOTLINE_AUTH_REVOCATION_TTL_SECONDS."""
    return await service.revocations(session, platform, now)


@router.post("/api/v1/auth/revocations", status_code=204, responses=signed_in(404, body=True))
async def revoke(
    request: Request, session: Session, platform: Platform, now: Now, who: Admin, body: RevokeIn
) -> None:
    """Revoke one access token by `token_id` (its jti), or every token of a `subject`."""
    if bool(body.token_id) == bool(body.subject):
        raise InvalidInput(
            "Name either token_id or subject.",
            errors=[{"field": "token_id", "message": "either token_id or subject"}],
        )
    async with session.begin():
        if body.token_id:
            await service.revoke_token(
                session,
                body.token_id,
                by=who.subject,
                reason="revoked",
                expires_at=None,
                platform=platform,
                now=now,
            )
        elif body.subject:
            account = await session.get(Account, body.subject)
            if account is not None:
                domain.check_manage(who.role, Kind(account.kind))
            elif who.role is not Role.ADMIN:
                await service.get_client(session, body.subject)  # 404 if neither
                domain.check_manage(who.role, Kind.ADMIN)
            await service.revoke_subject(session, body.subject, now)
    revocations_of(request.app).invalidate()


# --- Accounts --------------------------------------------------------------------------------


def _account_out(account: Account) -> AccountOut:
    return AccountOut(
        username=account.username,
        display_name=account.display_name,
        kind=Kind(account.kind),
        role=Role(account.role),
        unit_id=account.unit_id,
        disabled=account.disabled,
        created_at=account.created_at,
        created_by=account.created_by,
        password_changed_at=account.password_changed_at,
    )


@router.post(
    "/api/v1/accounts",
    status_code=201,
    response_model=AccountCreated,
    responses=signed_in(409, body=True),
)
async def create_account(session: Session, now: Now, who: Admin, body: AccountIn) -> AccountCreated:
    """Create an account: centre staff, or staff of any unit in the directory. Supervisors
    create operators', dispatchers', callback operators' and units' accounts; admins any."""
    domain.check_manage(who.role, body.kind)
    async with session.begin():
        account, generated = await service.create_account(
            session,
            username=body.username,
            display_name=body.display_name,
            kind=body.kind,
            unit_id=body.unit_id,
            password=body.password,
            by=who.subject,
            now=now,
        )
    return AccountCreated(**_account_out(account).model_dump(), temporary_password=generated)


@router.get("/api/v1/accounts", response_model=list[AccountOut], responses=signed_in())
async def list_accounts(
    session: Session,
    who: Admin,
    unit_id: Annotated[str | None, Query(max_length=64)] = None,
    kind: Kind | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[AccountOut]:
    """Accounts, by name; a supervisor sees the accounts it may manage."""
    kinds = None if who.role is Role.ADMIN else sorted(domain.SUPERVISOR_MANAGES)
    rows = await service.list_accounts(
        session, unit_id=unit_id, kind=kind, kinds=kinds, limit=limit, offset=offset
    )
    return [_account_out(a) for a in rows]


async def _managed(session: AsyncSession, who: Principal, username: str) -> Account:
    account = await service.get_account(session, username)
    domain.check_manage(who.role, Kind(account.kind))
    return account


@router.get("/api/v1/accounts/{username}", response_model=AccountOut, responses=signed_in(404))
async def get_account(session: Session, who: Admin, username: str) -> AccountOut:
    return _account_out(await _managed(session, who, username))


@router.post(
    "/api/v1/accounts/{username}/disable", response_model=AccountOut, responses=signed_in(404)
)
async def disable_account(
    request: Request, session: Session, now: Now, who: Admin, username: str
) -> AccountOut:
    """Disable an account: it cannot log in, and its tokens are revoked."""
    async with session.begin():
        account = await _managed(session, who, username)
        await service.set_disabled(session, account, True, now)
    revocations_of(request.app).invalidate()
    return _account_out(account)


@router.post(
    "/api/v1/accounts/{username}/enable", response_model=AccountOut, responses=signed_in(404)
)
async def enable_account(session: Session, now: Now, who: Admin, username: str) -> AccountOut:
    async with session.begin():
        account = await _managed(session, who, username)
        await service.set_disabled(session, account, False, now)
    return _account_out(account)


@router.post(
    "/api/v1/accounts/{username}/password",
    response_model=PasswordResetOut,
    responses=signed_in(404, body=True),
)
async def reset_password(
    request: Request,
    session: Session,
    now: Now,
    who: Admin,
    username: str,
    body: PasswordResetIn | None = None,
) -> PasswordResetOut:
    """Reset a password (omit it for a temporary one, shown once); the account's tokens are
    revoked."""
    async with session.begin():
        account = await _managed(session, who, username)
        generated = await service.reset_password(
            session, account, body.password if body else None, now
        )
    revocations_of(request.app).invalidate()
    return PasswordResetOut(username=username, temporary_password=generated)


# --- Service clients -------------------------------------------------------------------------


def _client_out(client: Client) -> ClientOut:
    return ClientOut(
        client_id=client.client_id,
        name=client.name,
        role=Role(client.role),
        disabled=client.disabled,
        created_at=client.created_at,
        created_by=client.created_by,
    )


@router.post(
    "/api/v1/clients",
    status_code=201,
    response_model=ClientCreated,
    responses=signed_in(409, body=True),
)
async def create_client(
    session: Session, now: Now, who: ClientAdmin, body: ClientIn
) -> ClientCreated:
    """A client for the client-credentials grant (a service, a gateway, the mini-program)."""
    async with session.begin():
        client, secret = await service.create_client(
            session,
            client_id=body.client_id,
            name=body.name,
            role=body.role,
            secret=body.client_secret,
            by=who.subject,
            now=now,
        )
    return ClientCreated(**_client_out(client).model_dump(), client_secret=secret)


@router.get("/api/v1/clients", response_model=list[ClientOut], responses=signed_in())
async def list_clients(session: Session, who: ClientAdmin) -> list[ClientOut]:
    return [_client_out(c) for c in await service.list_clients(session)]


@router.post(
    "/api/v1/clients/{client_id}/disable", response_model=ClientOut, responses=signed_in(404)
)
async def disable_client(
    request: Request, session: Session, now: Now, who: ClientAdmin, client_id: str
) -> ClientOut:
    async with session.begin():
        client = await service.get_client(session, client_id)
        await service.disable_client(session, client, now)
    revocations_of(request.app).invalidate()
    return _client_out(client)
