"""The test run's secrets: a fresh signing key and non-development values for every secret
setting the tests do not set themselves, put in the environment before any setting is read."""

from __future__ import annotations

import os
import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519


def new_private_key_pem() -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def use_test_keys() -> None:
    os.environ.setdefault("HOTLINE_AUTH_PRIVATE_KEY", new_private_key_pem())
    os.environ.setdefault("HOTLINE_CITIZEN_REF_SECRET", "test-" + secrets.token_urlsafe(24))
    os.environ.setdefault("CALLBACK_RATING_SECRET", "test-" + secrets.token_urlsafe(24))
    # argon2id at its cheapest (the production cost is a setting): tests hash many passwords.
    os.environ.setdefault("ACCOUNTS_ARGON2_TIME_COST", "1")
    os.environ.setdefault("ACCOUNTS_ARGON2_MEMORY_KIB", "8192")
    os.environ.setdefault("ACCOUNTS_ARGON2_PARALLELISM", "1")
