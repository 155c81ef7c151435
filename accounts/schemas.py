"""accounts' HTTP models."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from accounts.domain import Kind
from shared.auth import Role


class TokenOut(BaseModel):
    """An OAuth 2.0 token response (RFC 6749 §5.1)."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds until the access token expires")
    refresh_token: str | None = Field(
        None, description="rotating: each use returns a new one and uses this one up"
    )
    role: Role
    unit_id: str | None = None


class LogoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str | None = Field(None, max_length=200)


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(max_length=200)
    new_password: str = Field(max_length=200)


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=64, examples=["zhang.wei"])
    display_name: str = Field(min_length=1, max_length=128, examples=["张伟"])
    kind: Kind
    unit_id: str | None = Field(None, max_length=64, examples=["U-BJ01-CG"])
    password: str | None = Field(
        None, max_length=200, description="omit it to get a temporary password, shown once"
    )


class AccountOut(BaseModel):
    username: str
    display_name: str
    kind: Kind
    role: Role
    unit_id: str | None
    disabled: bool
    created_at: datetime
    created_by: str
    password_changed_at: datetime


class AccountCreated(AccountOut):
    temporary_password: str | None = None


class PasswordResetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str | None = Field(None, max_length=200)


class PasswordResetOut(BaseModel):
    username: str
    temporary_password: str | None = None


class ClientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(max_length=64, examples=["gateway-weibo"])
    name: str = Field(min_length=1, max_length=128)
    role: Role
    client_secret: str | None = Field(None, max_length=200)


class ClientOut(BaseModel):
    client_id: str
    name: str
    role: Role
    disabled: bool
    created_at: datetime
    created_by: str


class ClientCreated(ClientOut):
    client_secret: str = Field(description="shown once; only its argon2 hash is kept")


class RevokeIn(BaseModel):
    """Revoke one access token by its id, or every token of an account or client."""

    model_config = ConfigDict(extra="forbid")

    token_id: str | None = Field(None, max_length=64)
    subject: str | None = Field(None, max_length=64)


class RevocationsOut(BaseModel):
    generated_at: str
    tokens: list[str]
    subjects: dict[str, float] = Field(
        description="sha256(subject)[:32] → tokens issued at or before this epoch second are revoked"
    )


class MeOut(BaseModel):
    subject: str
    role: Role
    unit_id: str | None
    issuer: str | None
