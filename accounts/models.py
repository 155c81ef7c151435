"""accounts' tables: people's accounts, service clients, refresh tokens, revoked token ids, the
login lockout's failure counts, and the units it learned from routing's directory events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import Instant, new_metadata
from shared.inbox import Inbox
from shared.outbox import Outbox


class Base(DeclarativeBase):
    metadata = new_metadata()


metadata = Base.metadata
outbox = Outbox(metadata, "accounts")
inbox = Inbox(metadata, "accounts")


class Account(Base):
    """A person who logs in (the username is the token's subject)."""

    __tablename__ = "accounts_accounts"
    __table_args__ = (Index("ix_accounts_accounts_unit", "unit_id"),)

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(24))  # domain.Kind
    role: Mapped[str] = mapped_column(String(16))  # shared.auth.Role
    unit_id: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(Instant())
    created_by: Mapped[str] = mapped_column(String(64))
    password_changed_at: Mapped[datetime] = mapped_column(Instant())
    # Tokens issued at or before this instant are revoked (disabled, password reset, sign out
    # everywhere).
    tokens_not_before: Mapped[datetime | None] = mapped_column(Instant(), index=True)


class Client(Base):
    """A machine: another service, a channel gateway, the mini-program backend."""

    __tablename__ = "accounts_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(256))
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(Instant())
    created_by: Mapped[str] = mapped_column(String(64))
    tokens_not_before: Mapped[datetime | None] = mapped_column(Instant(), index=True)


class RefreshToken(Base):
    """One refresh token; a login starts a family, each refresh replaces the token by the next
    of its family. Presenting a used one again revokes the family (it was stolen)."""

    __tablename__ = "accounts_refresh_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    family: Mapped[str] = mapped_column(String(32), index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    issued_at: Mapped[datetime] = mapped_column(Instant())
    expires_at: Mapped[datetime] = mapped_column(Instant())
    used_at: Mapped[datetime | None] = mapped_column(Instant())
    revoked_at: Mapped[datetime | None] = mapped_column(Instant())


class RevokedToken(Base):
    """An access token revoked before it expired (sign out, or an administrator's revocation)."""

    __tablename__ = "accounts_revoked_tokens"

    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    revoked_at: Mapped[datetime] = mapped_column(Instant())
    # Until when it matters: the token's expiry (or the longest access lifetime if unknown).
    expires_at: Mapped[datetime] = mapped_column(Instant(), index=True)
    revoked_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))


class LoginThrottle(Base):
    """Failed password logins for one account name since its last successful one, and until
    when the name is locked (登录锁定; accounts.domain.after_failed_login). In the database, so
    every accounts process counts the same failures. Keyed by a digest of the name: names that
    are no account, or a password typed into the name field, are not kept in clear."""

    __tablename__ = "accounts_login_throttles"

    subject: Mapped[str] = mapped_column(String(32), primary_key=True)  # auth.subject_digest
    failures: Mapped[int]
    last_failed_at: Mapped[datetime] = mapped_column(Instant(), index=True)
    locked_until: Mapped[datetime | None] = mapped_column(Instant())


class KnownUnit(Base):
    """A handling unit, as routing's directory events announce it (unit accounts must name one)."""

    __tablename__ = "accounts_units"

    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    retired: Mapped[bool] = mapped_column(default=False)
