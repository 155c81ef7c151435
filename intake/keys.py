"""intake's keys from the command line.

    python -m intake.keys generate     # a fresh INTAKE_ENCRYPTION_KEYS entry and blind-index key
    python -m intake.keys reencrypt    # every phone and name under the current key, indexes anew

Rotation: put the new key first in INTAKE_ENCRYPTION_KEYS (`k2:…,k1:…`), restart, run
`reencrypt`, then drop the old key. `reencrypt` also encrypts rows still in clear (written
before migration 0004 without keys) and recomputes the blind index from the phone, so it is
also the step after changing INTAKE_BLIND_INDEX_KEY (an index of a channel identity cannot be
recomputed: such tickets stop counting as the same citizen's for repeats).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import sys
from dataclasses import dataclass

from sqlalchemy import Column, MetaData, String, Table, select, update
from sqlalchemy.engine import Connection

from intake.config import settings
from intake.protection import KeyRing, key_ring
from shared.db import create_engine
from shared.settings import platform_settings

BATCH = 500
NAME, PHONE = "intake_tickets.citizen_name", "intake_tickets.citizen_phone"

# The columns as stored (ciphertext), not through the ORM's `Encrypted` type.
_stored = Table(
    "intake_tickets",
    MetaData(),
    Column("id", String(32), primary_key=True),
    Column("citizen_name", String(400)),
    Column("citizen_phone", String(400)),
    Column("citizen_index", String(48)),
)


@dataclass
class Rewritten:
    rows: int = 0  # rows read
    changed: int = 0  # rows written


def reencrypt_rows(connection: Connection, ring: KeyRing | None = None) -> Rewritten:
    """Every ticket's phone and name under the current key and its blind index from the phone;
    rows already so are left alone. In pages by id, so a large table is not read at once."""
    ring = ring or key_ring()
    done, after = Rewritten(), ""
    t = _stored.c
    while True:
        rows = connection.execute(
            select(t.id, t.citizen_name, t.citizen_phone, t.citizen_index)
            .where(t.id > after)
            .order_by(t.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return done
        for row in rows:
            done.rows += 1
            values = _rewritten(ring, row.citizen_name, row.citizen_phone, row.citizen_index)
            if values:
                connection.execute(update(_stored).where(t.id == row.id).values(**values))
                done.changed += 1
        after = rows[-1].id


def _rewritten(
    ring: KeyRing, name: str | None, phone: str | None, index: str | None
) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for column, field, stored in ((NAME, "citizen_name", name), (PHONE, "citizen_phone", phone)):
        if stored is not None and ring.key_id_of(stored) != ring.current:
            values[field] = ring.encrypt(ring.decrypt(stored, column), column)
    if phone is not None:
        fresh = ring.blind_index(ring.decrypt(phone, PHONE))
        if fresh != index:
            values["citizen_index"] = fresh
    return values


def generate(key_id: str = "k1") -> str:
    encryption = base64.b64encode(os.urandom(32)).decode()
    index = base64.b64encode(os.urandom(32)).decode()
    return f"INTAKE_ENCRYPTION_KEYS={key_id}:{encryption}\nINTAKE_BLIND_INDEX_KEY={index}"


async def reencrypt() -> Rewritten:
    url = settings().resolved_database_url("intake", platform_settings())
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(reencrypt_rows)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m intake.keys", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("generate", help="print a fresh key pair for the environment")
    new.add_argument("--id", default="k1", help="the new encryption key's id (default k1)")
    commands.add_parser("reencrypt", help="every phone and name under the current key")
    args = parser.parse_args(argv)
    if args.command == "generate":
        print(generate(args.id))
        return 0
    done = asyncio.run(reencrypt())
    print(
        f"intake: {done.rows} tickets read, {done.changed} rewritten under key {key_ring().current}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
