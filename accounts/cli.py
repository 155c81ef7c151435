"""`python -m services accounts …`: administer accounts and clients on accounts' database (run
where accounts' settings are, e.g. `kubectl exec` into its pod).

    python -m services accounts create --role unit --unit U-XXX --name 张三 [--username …]
    python -m services accounts list [--unit U-XXX]
    python -m services accounts disable USERNAME | enable USERNAME | password USERNAME
    python -m services accounts client --role service --id sla-worker --name "sla jobs"
    python -m services accounts keygen          # a new signing key for HOTLINE_AUTH_PRIVATE_KEY

Without --password a temporary password is generated and printed once.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import service
from accounts.config import settings
from accounts.domain import Kind
from shared import db, migrations
from shared.auth import Role
from shared.clock import SystemClock
from shared.errors import DomainError
from shared.settings import platform_settings


@asynccontextmanager
async def _session() -> AsyncIterator[AsyncSession]:
    engine = db.create_engine(settings().resolved_database_url("accounts", platform_settings()))
    try:
        await migrations.upgrade(engine, "accounts")
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            yield session
    finally:
        await engine.dispose()


def _username(kind: Kind, unit: str | None, name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", (unit or kind.value).lower()).strip("-")
    return f"{base}-{secrets.token_hex(3)}" if kind is Kind.UNIT or not name.isascii() else name


async def _run(args: argparse.Namespace) -> None:
    now = SystemClock().now()
    async with _session() as session, session.begin():
        if args.command == "create":
            kind = Kind(args.role)
            username = args.username or _username(kind, args.unit, args.name)
            account, generated = await service.create_account(
                session,
                username=username,
                display_name=args.name,
                kind=kind,
                unit_id=args.unit,
                password=args.password,
                by="cli",
                now=now,
                check_unit=not args.allow_unknown_unit,
            )
            print(
                f"created {account.kind} account {account.username} ({account.role}"
                f"{', unit ' + account.unit_id if account.unit_id else ''})"
            )
            if generated:
                print(f"temporary password (shown once): {generated}")
        elif args.command == "list":
            for a in await service.list_accounts(session, unit_id=args.unit, limit=10_000):
                state = "disabled" if a.disabled else "active"
                print(
                    f"{a.username:<32} {a.kind:<18} {a.unit_id or '-':<14} {state:<9} {a.display_name}"
                )
        elif args.command in ("disable", "enable"):
            account = await service.get_account(session, args.username)
            await service.set_disabled(session, account, args.command == "disable", now)
            print(f"{args.username}: {args.command}d")
        elif args.command == "password":
            account = await service.get_account(session, args.username)
            generated = await service.reset_password(session, account, args.password, now)
            print(f"{args.username}: password reset; its tokens are revoked")
            if generated:
                print(f"temporary password (shown once): {generated}")
        elif args.command == "client":
            client, secret = await service.create_client(
                session,
                client_id=args.id,
                name=args.name,
                role=Role(args.role),
                secret=None,
                by="cli",
                now=now,
            )
            print(f"created client {client.client_id} ({client.role})")
            print(f"client secret (shown once): {secret}")


def keygen() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from shared.auth import load_signing_key

    pem = (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    key = load_signing_key(pem)
    public = key.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    print(f"# kid {key.kid} ({key.algorithm})\n# HOTLINE_AUTH_PRIVATE_KEY (accounts only):")
    print(pem, end="")
    print("# its public key, for HOTLINE_AUTH_PUBLIC_KEYS (every service):")
    print(public.decode(), end="")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m services accounts")
    sub = p.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create an account")
    create.add_argument("--role", required=True, choices=[k.value for k in Kind])
    create.add_argument("--unit", help="the unit id (unit accounts)")
    create.add_argument("--name", required=True, help="the person's name")
    create.add_argument("--username", help="default: made from the unit or the name")
    create.add_argument("--password", help="default: a temporary one, printed once")
    create.add_argument(
        "--allow-unknown-unit",
        action="store_true",
        help="accept a unit accounts has not learned from routing's directory yet",
    )
    listing = sub.add_parser("list", help="list accounts")
    listing.add_argument("--unit")
    for name in ("disable", "enable"):
        sub.add_parser(name, help=f"{name} an account").add_argument("username")
    password = sub.add_parser("password", help="reset a password")
    password.add_argument("username")
    password.add_argument("--password", help="default: a temporary one, printed once")
    client = sub.add_parser("client", help="create a client (client-credentials grant)")
    client.add_argument("--role", required=True, choices=["service", "gateway", "citizen"])
    client.add_argument("--id", required=True)
    client.add_argument("--name", required=True)
    sub.add_parser("keygen", help="print a new Ed25519 signing key and its public key")
    return p


def main(argv: Sequence[str]) -> None:
    args = parser().parse_args(list(argv))
    if args.command == "keygen":
        keygen()
        return
    try:
        asyncio.run(_run(args))
    except DomainError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        raise SystemExit(2) from None
