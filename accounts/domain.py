"""accounts' rules: kinds of account and the role each acts in, who may manage whom, the shape
of names and passwords, refresh tokens, the login lockout. Pure: no database, no HTTP, no clock
reads."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from shared.auth import Role
from shared.errors import Forbidden, InvalidInput


class Kind(StrEnum):
    """What a person does at the centre or in a unit; the token carries the role it maps to."""

    OPERATOR = "operator"  # 话务员: takes calls, answers on the spot
    DISPATCHER = "dispatcher"  # 派单员
    CALLBACK_OPERATOR = "callback_operator"  # 回访员
    SUPERVISOR = "supervisor"  # 督办、考评
    LEADER = "leader"  # 领导: reads the figures and screens, changes nothing
    UNIT = "unit"  # staff of one handling unit (承办单位)
    ADMIN = "admin"  # administers accounts and service clients


ROLE_OF: dict[Kind, Role] = {
    Kind.OPERATOR: Role.OPERATOR,
    Kind.DISPATCHER: Role.OPERATOR,
    Kind.CALLBACK_OPERATOR: Role.OPERATOR,
    Kind.SUPERVISOR: Role.SUPERVISOR,
    Kind.LEADER: Role.LEADER,
    Kind.UNIT: Role.UNIT,
    Kind.ADMIN: Role.ADMIN,
}
# Machines authenticate with client credentials.
CLIENT_ROLES = frozenset({Role.SERVICE, Role.GATEWAY, Role.CITIZEN})
# Supervisors manage the centre's staff and the units' staff; admins manage everyone.
SUPERVISOR_MANAGES = frozenset({Kind.OPERATOR, Kind.DISPATCHER, Kind.CALLBACK_OPERATOR, Kind.UNIT})
ADMINS = frozenset({Role.ADMIN, Role.SUPERVISOR})

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{2,63}$")
UNIT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def may_manage(actor: Role, kind: Kind) -> bool:
    return actor is Role.ADMIN or (actor is Role.SUPERVISOR and kind in SUPERVISOR_MANAGES)


def check_manage(actor: Role, kind: Kind) -> None:
    if not may_manage(actor, kind):
        raise Forbidden(f"Role '{actor.value}' may not manage '{kind.value}' accounts.")


def check_new_account(username: str, kind: Kind, unit_id: str | None) -> None:
    if not NAME.match(username):
        raise InvalidInput(
            "username: 3–64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit.",
            errors=[{"field": "username", "message": "not a valid account name"}],
        )
    if kind is Kind.UNIT and not unit_id:
        raise InvalidInput(
            "unit_id: a unit account belongs to one unit.",
            errors=[{"field": "unit_id", "message": "required for a unit account"}],
        )
    if kind is not Kind.UNIT and unit_id:
        raise InvalidInput(
            "unit_id: only unit accounts belong to a unit.",
            errors=[{"field": "unit_id", "message": "only for unit accounts"}],
        )
    if unit_id and not UNIT_ID.match(unit_id):
        raise InvalidInput(
            "unit_id: not a unit id.", errors=[{"field": "unit_id", "message": "not a unit id"}]
        )


def check_password(password: str, min_length: int, *, username: str = "") -> None:
    problem = None
    if len(password) < min_length:
        problem = f"at least {min_length} characters"
    elif username and username.lower() in password.lower():
        problem = "must not contain the account name"
    elif len(set(password)) < 4:
        problem = "too few different characters"
    if problem:
        raise InvalidInput(
            f"password: {problem}.", errors=[{"field": "password", "message": problem}]
        )


def new_password() -> str:
    """A temporary password an administrator hands over once."""
    return secrets.token_urlsafe(12)


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


# --- Refresh tokens: `<id>.<secret>`; the id finds the row, only a hash of the secret is kept.


@dataclass(frozen=True)
class RefreshToken:
    id: str
    secret: str

    @property
    def text(self) -> str:
        return f"{self.id}.{self.secret}"

    @property
    def digest(self) -> str:
        return digest(self.secret)


def new_refresh_token() -> RefreshToken:
    return RefreshToken(secrets.token_hex(16), secrets.token_urlsafe(32))


def parse_refresh_token(text: str) -> RefreshToken | None:
    token_id, _, secret = text.partition(".")
    if not token_id or not secret:
        return None
    return RefreshToken(token_id, secret)


def digest(secret: str) -> str:
    """High-entropy secrets (refresh tokens) need no slow hash: SHA-256 is enough."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)


def revocation_window(now: datetime, access_lifetime: timedelta, leeway: timedelta) -> datetime:
    """Revocations older than this concern only tokens that have expired anyway."""
    return now - access_lifetime - leeway


# --- Login lockout (登录锁定): a password guesser gets a few tries, then ever longer waits.


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int  # failed logins in a row that lock the name
    window: timedelta  # a failure this long after the last one (or the lock's end) starts afresh
    first_lockout: timedelta
    max_lockout: timedelta


@dataclass(frozen=True)
class LoginFailures:
    """One account name's failed password logins since its last successful one. Kept for any
    name tried, an account's or not, so that the answers never tell which names exist."""

    count: int = 0
    last_at: datetime | None = None
    locked_until: datetime | None = None


def after_failed_login(
    failures: LoginFailures, policy: LockoutPolicy, now: datetime
) -> LoginFailures:
    """One more failed password login for a name. Failures add up while each comes within
    `window` of the one before, or of the end of the lock it waited out; after a quiet `window`
    the count starts again. The `max_failures`-th failure locks the name for `first_lockout`,
    and each failure after it (once the lock is over) for twice as long as the one before, at
    most `max_lockout`: someone who mistyped a few times waits a minute, a guesser gets one
    try per hour. A lock is never shortened."""
    quiet_since = max((t for t in (failures.last_at, failures.locked_until) if t), default=None)
    fresh = failures.count == 0 or quiet_since is None or now - quiet_since >= policy.window
    count = 1 if fresh else failures.count + 1
    if count < policy.max_failures:
        return LoginFailures(count, now, None if fresh else failures.locked_until)
    doublings = min(count - policy.max_failures, 32)  # 2**32 first lockouts exceed any cap
    until = now + min(policy.first_lockout * 2**doublings, policy.max_lockout)
    if failures.locked_until is not None and failures.locked_until > until:
        until = failures.locked_until
    return LoginFailures(count, now, until)


def locked_for(failures: LoginFailures, now: datetime) -> timedelta | None:
    """How much longer the name is locked; None when it is not."""
    if failures.locked_until is None or failures.locked_until <= now:
        return None
    return failures.locked_until - now
