"""accounts' use cases: log in (password, client credentials, refresh), sign out, revoke,
administer accounts and clients, serve the revocation list; learn units from routing."""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import domain
from accounts.config import AccountsSettings, settings
from accounts.domain import Kind
from accounts.models import (
    Account,
    Client,
    KnownUnit,
    LoginThrottle,
    RefreshToken,
    RevokedToken,
)
from shared import metrics
from shared.auth import Principal, Role, issue_token, subject_digest
from shared.db import insert_for
from shared.errors import Conflict, InvalidInput, NotFound, TooManyRequests, Unauthorized
from shared.events import Event
from shared.events.routing import UnitChanged
from shared.settings import PlatformSettings

log = logging.getLogger(__name__)


def hasher(s: AccountsSettings | None = None) -> PasswordHasher:
    s = s or settings()
    return PasswordHasher(
        time_cost=s.argon2_time_cost,
        memory_cost=s.argon2_memory_kib,
        parallelism=s.argon2_parallelism,
    )


async def hash_secret(secret: str) -> str:
    """argon2id, off the event loop (it takes tens of milliseconds on purpose)."""
    return await asyncio.to_thread(hasher().hash, secret)


async def verify_secret(stored: str | None, secret: str) -> bool:
    """Whether `secret` matches; with no stored hash, the same work is done (no timing hint
    about which account names exist)."""
    target = stored or _dummy_hash()
    try:
        await asyncio.to_thread(hasher().verify, target, secret)
    except (VerificationError, InvalidHashError):
        return False
    return stored is not None


_DUMMY: dict[str, str] = {}


def _dummy_hash() -> str:
    if "hash" not in _DUMMY:
        _DUMMY["hash"] = hasher().hash(secrets.token_hex(16))
    return _DUMMY["hash"]


# --- Tokens ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_in: int
    principal: Principal
    refresh_token: str | None = None


def _access(
    principal: Principal,
    platform: PlatformSettings,
    now: datetime,
    not_before: datetime | None = None,
    **extra: Any,
) -> Tokens:
    lifetime = timedelta(minutes=platform.auth_access_token_minutes)
    if not_before is not None:
        # Services refuse tokens with iat <= the revocation's whole second: a token made in
        # that same second, after the revocation, is dated the next second (within leeway).
        first = datetime.fromtimestamp(int(not_before.timestamp()) + 1, tz=now.tzinfo)
        now = max(now, first)
    token = issue_token(principal, platform=platform, now=now, lifetime=lifetime, extra=extra)
    return Tokens(token, int(lifetime.total_seconds()), principal)


def _principal_of(account: Account) -> Principal:
    return Principal(account.username, Role(account.role), account.unit_id)


async def _new_refresh(
    session: AsyncSession,
    username: str,
    family: str | None,
    platform: PlatformSettings,
    now: datetime,
) -> str:
    token = domain.new_refresh_token()
    session.add(
        RefreshToken(
            id=token.id,
            secret_hash=token.digest,
            family=family or token.id,
            username=username,
            issued_at=now,
            expires_at=now + timedelta(hours=platform.auth_refresh_token_hours),
        )
    )
    return token.text


INVALID_LOGIN = "The account name or the password is wrong, or the account is disabled."


async def login(
    session: AsyncSession, username: str, password: str, platform: PlatformSettings, now: datetime
) -> Tokens:
    """A password login. A locked name is refused before its password is even checked (the
    right one too); a failure raises LoginFailed, for the caller to count; a success clears
    the name's failures."""
    throttle = await session.get(LoginThrottle, subject_digest(username))
    _refuse_if_locked(throttle, now)
    account = await session.get(Account, username)
    usable = account is not None and not account.disabled
    ok = await verify_secret(account.password_hash if account else None, password)
    if not (ok and usable and account):
        metrics.LOGINS_REFUSED.labels("invalid").inc()
        raise LoginFailed(username)
    if throttle is not None:
        await session.delete(throttle)
    if hasher().check_needs_rehash(account.password_hash):
        account.password_hash = await hash_secret(password)
    refresh = await _new_refresh(session, account.username, None, platform, now)
    tokens = _access(
        _principal_of(account), platform, now, account.tokens_not_before, kind=account.kind
    )
    return Tokens(tokens.access_token, tokens.expires_in, tokens.principal, refresh)


# --- Login lockout (登录锁定) ------------------------------------------------------------------


class LoginFailed(Unauthorized):
    """A wrong account name or password, to be counted towards the name's lockout in a
    transaction of its own (this error rolls back the one it is raised in)."""

    def __init__(self, username: str) -> None:
        super().__init__(INVALID_LOGIN, error="invalid_grant")
        self.username = username


def _failures(row: LoginThrottle | None) -> domain.LoginFailures:
    if row is None:
        return domain.LoginFailures()
    return domain.LoginFailures(row.failures, row.last_failed_at, row.locked_until)


def _refuse_if_locked(row: LoginThrottle | None, now: datetime) -> None:
    """429 with Retry-After while the name is locked. The answer is the same for every name,
    an account's or not, and says nothing about the password."""
    wait = domain.locked_for(_failures(row), now)
    if wait is None:
        return
    metrics.LOGINS_REFUSED.labels("locked").inc()
    seconds = max(1, math.ceil(wait.total_seconds()))
    raise TooManyRequests(
        "Too many failed logins with this account name: it is locked for a while. "
        f"Try again in {seconds} seconds.",
        error="invalid_grant",
        retry_after=seconds,
    )


async def count_failed_login(session: AsyncSession, username: str, now: datetime) -> None:
    """One more failure for the name, under a row lock (PostgreSQL) so that concurrent
    failures on several accounts processes all count; a new lock is logged and counted, with
    the name's digest only."""
    policy = settings().lockout_policy()
    key = subject_digest(username)
    # Create the row if it is missing and lock it: ON CONFLICT DO UPDATE takes the row lock
    # (DO NOTHING would not), so the pruning below cannot delete it from under a counter.
    await session.execute(
        insert_for(session, LoginThrottle.__table__)
        .values(subject=key, failures=0, last_failed_at=now, locked_until=None)
        .on_conflict_do_update(index_elements=["subject"], set_={"subject": key})
    )
    row = await session.scalar(
        select(LoginThrottle)
        .where(LoginThrottle.subject == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    before = _failures(row)
    after = domain.after_failed_login(before, policy, now)
    row.failures, row.last_failed_at, row.locked_until = after.count, now, after.locked_until
    if after.locked_until is not None and after.locked_until != before.locked_until:
        metrics.LOGIN_LOCKOUTS.inc()
        log.warning(
            "login locked for %d s after %d failed logins in a row (account name digest %s)",
            math.ceil((after.locked_until - now).total_seconds()),
            after.count,
            key,
        )
    # Names nobody tried for longer than any failure is remembered are forgotten.
    stale = now - policy.window - policy.max_lockout
    await session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.last_failed_at < stale, LoginThrottle.subject != key
        )
    )


async def client_credentials(
    session: AsyncSession,
    client_id: str,
    client_secret: str,
    platform: PlatformSettings,
    now: datetime,
) -> Tokens:
    client = await session.get(Client, client_id)
    ok = await verify_secret(client.secret_hash if client else None, client_secret)
    if not (ok and client and not client.disabled):
        raise Unauthorized(
            "The client id or secret is wrong, or the client is disabled.", error="invalid_client"
        )
    return _access(
        Principal(client.client_id, Role(client.role)),
        platform,
        now,
        client.tokens_not_before,
        client=True,
    )


async def refresh(
    session: AsyncSession, text: str, platform: PlatformSettings, now: datetime
) -> Tokens:
    """Rotate: the presented refresh token is used up and a new one of its family replaces it.
    A used token presented again means it was copied: the whole family is revoked."""
    parsed = domain.parse_refresh_token(text)
    row = await session.get(RefreshToken, parsed.id) if parsed else None
    if row is None or parsed is None or not domain.same_digest(row.secret_hash, parsed.digest):
        raise Unauthorized("The refresh token is not valid.", error="invalid_grant")
    if row.used_at is not None or row.revoked_at is not None:
        raise RefreshReused(row.family)
    if row.expires_at <= now:
        raise Unauthorized("The refresh token has expired; log in again.", error="invalid_grant")
    account = await session.get(Account, row.username)
    if account is None or account.disabled:
        raise Unauthorized(INVALID_LOGIN, error="invalid_grant")
    row.used_at = now
    new = await _new_refresh(session, account.username, row.family, platform, now)
    tokens = _access(
        _principal_of(account), platform, now, account.tokens_not_before, kind=account.kind
    )
    return Tokens(tokens.access_token, tokens.expires_in, tokens.principal, new)


class RefreshReused(Unauthorized):
    """A used or revoked refresh token came back: its family is to be revoked (in a
    transaction of its own, since this error rolls back the one it is raised in)."""

    def __init__(self, family: str) -> None:
        super().__init__(
            "The refresh token was already used or revoked; log in again.", error="invalid_grant"
        )
        self.family = family


async def revoke_family(session: AsyncSession, family: str, now: datetime) -> None:
    await _revoke_family(session, family, now)


async def _revoke_family(session: AsyncSession, family: str, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def _revoke_refresh_of(session: AsyncSession, username: str, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.username == username, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_token(
    session: AsyncSession,
    token_id: str,
    *,
    by: str,
    reason: str,
    expires_at: datetime | None,
    platform: PlatformSettings,
    now: datetime,
) -> None:
    """Revoke one access token by its `jti` (until it would have expired)."""
    if await session.get(RevokedToken, token_id):
        return
    longest = now + timedelta(
        minutes=platform.auth_access_token_minutes, seconds=platform.auth_leeway_seconds
    )
    session.add(
        RevokedToken(
            token_id=token_id,
            revoked_at=now,
            expires_at=expires_at or longest,
            revoked_by=by,
            reason=reason,
        )
    )


async def logout(
    session: AsyncSession,
    who: Principal,
    refresh_token: str | None,
    expires_at: datetime | None,
    platform: PlatformSettings,
    now: datetime,
) -> None:
    """Sign out: this access token and the refresh token's family (if given) are revoked."""
    if who.token_id:
        await revoke_token(
            session,
            who.token_id,
            by=who.subject,
            reason="logout",
            expires_at=expires_at,
            platform=platform,
            now=now,
        )
    parsed = domain.parse_refresh_token(refresh_token) if refresh_token else None
    row = await session.get(RefreshToken, parsed.id) if parsed else None
    if row is not None and parsed and domain.same_digest(row.secret_hash, parsed.digest):
        if row.username == who.subject:
            await _revoke_family(session, row.family, now)


async def revoke_subject(session: AsyncSession, subject: str, now: datetime) -> None:
    """Every token of an account or client issued until now is revoked."""
    account = await session.get(Account, subject)
    if account is not None:
        account.tokens_not_before = now
        await _revoke_refresh_of(session, subject, now)
        return
    client = await session.get(Client, subject)
    if client is None:
        raise NotFound(f"No account or client '{subject}'.")
    client.tokens_not_before = now


async def revocations(
    session: AsyncSession, platform: PlatformSettings, now: datetime
) -> dict[str, Any]:
    """What services refuse: revoked token ids that have not expired yet, and subjects whose
    tokens issued until an instant are revoked (only within the access-token lifetime)."""
    since = domain.revocation_window(
        now,
        timedelta(minutes=platform.auth_access_token_minutes),
        timedelta(seconds=platform.auth_leeway_seconds),
    )
    token_ids = (
        await session.scalars(select(RevokedToken.token_id).where(RevokedToken.expires_at > now))
    ).all()
    subjects: dict[str, float] = {}
    rows = [
        *(
            await session.execute(
                select(Account.username, Account.tokens_not_before).where(
                    Account.tokens_not_before > since
                )
            )
        ).all(),
        *(
            await session.execute(
                select(Client.client_id, Client.tokens_not_before).where(
                    Client.tokens_not_before > since
                )
            )
        ).all(),
    ]
    for subject, not_before in rows:
        if not_before is not None:
            subjects[subject_digest(subject)] = float(int(not_before.timestamp()))
    return {
        "generated_at": now.isoformat(),
        "tokens": sorted(token_ids),
        "subjects": subjects,
    }


# --- Administration --------------------------------------------------------------------------


async def _taken(session: AsyncSession, name: str) -> bool:
    """Accounts and clients share one namespace: a name is one token subject."""
    return (await session.get(Account, name)) is not None or (
        await session.get(Client, name)
    ) is not None


async def _check_unit(session: AsyncSession, unit_id: str) -> None:
    unit = await session.get(KnownUnit, unit_id)
    if unit is None or unit.retired:
        what = "is retired" if unit else "is not in the directory routing announced"
        raise InvalidInput(
            f"unit_id: unit '{unit_id}' {what}.",
            errors=[{"field": "unit_id", "message": f"unknown unit {unit_id}"}],
        )


async def create_account(
    session: AsyncSession,
    *,
    username: str,
    display_name: str,
    kind: Kind,
    unit_id: str | None,
    password: str | None,
    by: str,
    now: datetime,
    check_unit: bool = True,
) -> tuple[Account, str | None]:
    """A new account; without a password a temporary one is made and returned (once)."""
    domain.check_new_account(username, kind, unit_id)
    generated = None
    if password is None:
        password = generated = domain.new_password()
    else:
        domain.check_password(password, settings().password_min_length, username=username)
    if unit_id and check_unit:
        await _check_unit(session, unit_id)
    if await _taken(session, username):
        raise Conflict(f"username: '{username}' is taken.", allowed=[])
    account = Account(
        username=username,
        display_name=display_name,
        kind=kind.value,
        role=domain.ROLE_OF[kind].value,
        unit_id=unit_id,
        password_hash=await hash_secret(password),
        disabled=False,
        created_at=now,
        created_by=by,
        password_changed_at=now,
    )
    session.add(account)
    return account, generated


async def get_account(session: AsyncSession, username: str) -> Account:
    account = await session.get(Account, username)
    if account is None:
        raise NotFound(f"No account '{username}'.")
    return account


async def list_accounts(
    session: AsyncSession,
    *,
    unit_id: str | None = None,
    kind: Kind | None = None,
    kinds: Sequence[Kind] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[Account]:
    statement = select(Account).order_by(Account.username).limit(limit).offset(offset)
    if unit_id:
        statement = statement.where(Account.unit_id == unit_id)
    if kind:
        statement = statement.where(Account.kind == kind.value)
    if kinds is not None:
        statement = statement.where(or_(*(Account.kind == k.value for k in kinds)))
    return (await session.scalars(statement)).all()


async def set_disabled(
    session: AsyncSession, account: Account, disabled: bool, now: datetime
) -> None:
    account.disabled = disabled
    if disabled:
        account.tokens_not_before = now
        await _revoke_refresh_of(session, account.username, now)


async def reset_password(
    session: AsyncSession, account: Account, password: str | None, now: datetime
) -> str | None:
    generated = None
    if password is None:
        password = generated = domain.new_password()
    else:
        domain.check_password(password, settings().password_min_length, username=account.username)
    account.password_hash = await hash_secret(password)
    account.password_changed_at = account.tokens_not_before = now
    await _revoke_refresh_of(session, account.username, now)
    # The person has a new password from an administrator: a lockout on the name is lifted.
    await session.execute(
        delete(LoginThrottle).where(LoginThrottle.subject == subject_digest(account.username))
    )
    return generated


async def change_own_password(
    session: AsyncSession, username: str, current: str, new: str, now: datetime
) -> None:
    account = await get_account(session, username)
    if not await verify_secret(account.password_hash, current):
        raise Unauthorized("The current password is wrong.", error="invalid_grant")
    await reset_password(session, account, new, now)


async def create_client(
    session: AsyncSession,
    *,
    client_id: str,
    name: str,
    role: Role,
    secret: str | None,
    by: str,
    now: datetime,
) -> tuple[Client, str]:
    if role not in domain.CLIENT_ROLES:
        allowed = ", ".join(sorted(r.value for r in domain.CLIENT_ROLES))
        raise InvalidInput(
            f"role: a client acts as one of {allowed}.",
            errors=[{"field": "role", "message": f"one of {allowed}"}],
        )
    domain.check_new_account(client_id, Kind.OPERATOR, None)
    secret = secret or domain.new_client_secret()
    domain.check_password(secret, 24)
    if await _taken(session, client_id):
        raise Conflict(f"client_id: '{client_id}' is taken.", allowed=[])
    client = Client(
        client_id=client_id,
        name=name,
        role=role.value,
        secret_hash=await hash_secret(secret),
        disabled=False,
        created_at=now,
        created_by=by,
    )
    session.add(client)
    return client, secret


async def get_client(session: AsyncSession, client_id: str) -> Client:
    client = await session.get(Client, client_id)
    if client is None:
        raise NotFound(f"No client '{client_id}'.")
    return client


async def list_clients(session: AsyncSession) -> Sequence[Client]:
    return (await session.scalars(select(Client).order_by(Client.client_id))).all()


async def disable_client(session: AsyncSession, client: Client, now: datetime) -> None:
    client.disabled = True
    client.tokens_not_before = now


# --- What accounts learns from routing -------------------------------------------------------


async def note_unit(session: AsyncSession, event: Event[UnitChanged]) -> None:
    data = event.data
    unit = await session.get(KnownUnit, data.unit_id)
    if unit is None:
        unit = KnownUnit(unit_id=data.unit_id, name=data.unit_name, retired=False)
        session.add(unit)
    unit.name = data.unit_name
    unit.retired = data.change == "retired"
