"""Personal data at rest (个人信息保护): the citizen's phone and name are stored encrypted, and
found by a keyed blind index.

- **Encryption.** AES-256-GCM (`cryptography`'s AESGCM), a fresh 96-bit nonce per value, the
  column's name as associated data (a value copied into another column does not decrypt).
  A stored value reads `enc:<key id>:<base64 of nonce + ciphertext + tag>`, so keys rotate:
  `INTAKE_ENCRYPTION_KEYS` lists `id:base64key` pairs, the current key first; older keys still
  decrypt, and `python -m intake.keys reencrypt` rewrites every value under the current key.
- **Blind index.** HMAC-SHA256 of the normalised phone (or the channel identity, such as a
  Weibo handle) under `INTAKE_BLIND_INDEX_KEY`, its own key: the repeat detection and the
  operators' caller history (来电历史) find a citizen's tickets through the indexed
  `intake_tickets.citizen_index` without decrypting anything.
- **Development keys.** With no keys configured, the embedded run (and the demo) uses keys
  derived from a phrase in this file, with a loud warning: the data is then as good as clear.
  A distributed run without them refuses to start (`MissingKeys`).

The ORM reads and writes the columns as clear text through `Encrypted`; only the database sees
ciphertext.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

from intake.config import IntakeSettings, settings
from shared.settings import PlatformSettings, platform_settings

log = logging.getLogger(__name__)

PREFIX = "enc:"
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
DEVELOPMENT_KEY_ID = "dev"
_DEVELOPMENT_PHRASE = b"hotline12345 intake development key: public, never for real data"
NONCE_BYTES = 12


class MissingKeys(RuntimeError):
    """intake cannot start: its encryption or blind-index key is not configured (or is bad)."""


@dataclass(frozen=True)
class KeyRing:
    """The keys in force: `current` encrypts; every key in `keys` decrypts."""

    current: str
    keys: dict[str, AESGCM]
    index_key: bytes
    development: bool = False

    def encrypt(self, value: str, column: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.keys[self.current].encrypt(nonce, value.encode(), column.encode())
        return f"{PREFIX}{self.current}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str, column: str) -> str:
        """The clear value; a value without the prefix is a row from before encryption (the
        migration and `reencrypt` leave none) and is returned as it is."""
        if not stored.startswith(PREFIX):
            return stored
        key_id, _, body = stored[len(PREFIX) :].partition(":")
        key = self.keys.get(key_id)
        if key is None:
            raise MissingKeys(
                f"{column} is encrypted with key '{key_id}', which INTAKE_ENCRYPTION_KEYS does "
                "not list: keep old keys in the list until `python -m intake.keys reencrypt` "
                "has run."
            )
        raw = base64.b64decode(body)
        try:
            return key.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], column.encode()).decode()
        except InvalidTag:
            raise MissingKeys(f"{column}: a value does not decrypt under key '{key_id}'.") from None

    def key_id_of(self, stored: str | None) -> str | None:
        """The key a stored value is encrypted with (None: clear or missing)."""
        if not stored or not stored.startswith(PREFIX):
            return None
        return stored[len(PREFIX) :].partition(":")[0]

    def blind_index(self, value: str | None) -> str | None:
        """The keyed blind index of a phone or a channel identity (None for None)."""
        if not value:
            return None
        return hmac.new(self.index_key, value.encode(), hashlib.sha256).hexdigest()[:48]


def _decode_key(raw: str, what: str) -> bytes:
    try:
        return base64.b64decode(raw.strip(), altchars=b"-_" if "-" in raw or "_" in raw else None)
    except (binascii.Error, ValueError):
        raise MissingKeys(f"{what}: not base64.") from None


def parse_encryption_keys(raw: str) -> tuple[str, dict[str, AESGCM]]:
    """`id:base64key,id:base64key`, current first → (current id, {id: AESGCM})."""
    keys: dict[str, AESGCM] = {}
    order: list[str] = []
    for entry in filter(None, (e.strip() for e in raw.split(","))):
        key_id, sep, material = entry.partition(":")
        if not sep or not KEY_ID.match(key_id):
            raise MissingKeys(
                "INTAKE_ENCRYPTION_KEYS: each entry is `id:base64key` (id: letters, digits, - "
                "or _, at most 16), the current key first, e.g. `k2:…,k1:…`."
            )
        key = _decode_key(material, f"INTAKE_ENCRYPTION_KEYS '{key_id}'")
        if len(key) not in (16, 24, 32):
            raise MissingKeys(
                f"INTAKE_ENCRYPTION_KEYS '{key_id}': {len(key)} bytes; an AES key is 16, 24 or "
                "32 bytes (32 recommended)."
            )
        if key_id in keys:
            raise MissingKeys(f"INTAKE_ENCRYPTION_KEYS: key id '{key_id}' appears twice.")
        keys[key_id] = AESGCM(key)
        order.append(key_id)
    if not order:
        raise MissingKeys("INTAKE_ENCRYPTION_KEYS: no key given.")
    return order[0], keys


def development_keys_allowed(platform: PlatformSettings) -> bool:
    """The embedded run (one process, `make run` and the tests) and the demo may run on the
    public development keys; a distributed deployment may not."""
    return platform.load_demo or not platform.distributed


HOW_TO = (
    "Generate them with `python -m intake.keys generate` and set INTAKE_ENCRYPTION_KEYS "
    "(`id:base64key`, the current key first; old keys stay listed until re-encryption) and "
    "INTAKE_BLIND_INDEX_KEY (base64, 32 bytes or more)."
)


def build_key_ring(config: IntakeSettings, platform: PlatformSettings) -> KeyRing:
    """The configured keys; or, where allowed, the development keys with a loud warning; or
    `MissingKeys` saying what to set."""
    development = _development_ring()
    if config.encryption_keys and config.blind_index_key:
        current, keys = parse_encryption_keys(config.encryption_keys)
        index_key = _decode_key(config.blind_index_key, "INTAKE_BLIND_INDEX_KEY")
        if len(index_key) < 32:
            raise MissingKeys(f"INTAKE_BLIND_INDEX_KEY: {len(index_key)} bytes; give 32 or more.")
        if development_keys_allowed(platform):
            # A demo database moving to real keys: its rows still read, and reencrypt moves them.
            keys = {**development.keys, **keys}
        return KeyRing(current, keys, index_key)
    missing = [
        name
        for name, value in (
            ("INTAKE_ENCRYPTION_KEYS", config.encryption_keys),
            ("INTAKE_BLIND_INDEX_KEY", config.blind_index_key),
        )
        if not value
    ]
    if not development_keys_allowed(platform):
        raise MissingKeys(
            f"intake stores citizens' phones and names encrypted and will not start without "
            f"{' and '.join(missing)}. {HOW_TO}"
        )
    log.warning(
        "\n%s\nintake: %s not set: citizens' phones and names are encrypted with the PUBLIC "
        "development keys (as good as clear). Fine for the demo, never for real data. %s\n%s",
        "!" * 78,
        " and ".join(missing),
        HOW_TO,
        "!" * 78,
    )
    return development


def _development_ring() -> KeyRing:
    key = hashlib.sha256(_DEVELOPMENT_PHRASE + b" encryption").digest()
    index_key = hashlib.sha256(_DEVELOPMENT_PHRASE + b" blind index").digest()
    return KeyRing(DEVELOPMENT_KEY_ID, {DEVELOPMENT_KEY_ID: AESGCM(key)}, index_key, True)


@lru_cache
def key_ring() -> KeyRing:
    """The process's keys, from intake's settings (read once)."""
    return build_key_ring(settings(), platform_settings())


def blind_index(value: str | None) -> str | None:
    return key_ring().blind_index(value)


class Encrypted(TypeDecorator[str]):
    """A text column stored encrypted under the current key (AES-GCM, the column's name as
    associated data) and read back as clear text."""

    impl = String
    cache_ok = True

    def __init__(self, column: str, length: int = 400) -> None:
        super().__init__(length)
        self.column = column

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else key_ring().encrypt(value, self.column)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else key_ring().decrypt(value, self.column)
