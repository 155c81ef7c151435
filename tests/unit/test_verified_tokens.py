"""The verified-token cache (shared.auth.VerifiedTokens): what a token proved is kept until it
expires, for at most `max_age`, for a bounded number of tokens, and for that token only."""

from __future__ import annotations

from typing import Any

from shared.auth import Principal, Role, VerifiedTokens

OPERATOR = Principal("op.li", Role.OPERATOR, token_id="t-1")


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def claims(exp: float | None = 1_000.0) -> dict[str, Any]:
    return {"sub": "op.li", "role": "operator", "iat": 900} | ({"exp": exp} if exp else {})


def test_a_token_is_known_until_it_expires_with_the_leeway() -> None:
    clock = Clock(950.0)
    verified = VerifiedTokens(clock=clock)
    verified.keep("token-a", OPERATOR, claims(exp=1_000.0), leeway=30)
    assert verified.get("token-a") == (OPERATOR, claims(exp=1_000.0))
    clock.now = 1_029.9
    assert verified.get("token-a") is not None
    clock.now = 1_030.0  # exp + leeway: verified again (and refused there as expired)
    assert verified.get("token-a") is None
    clock.now = 950.0
    assert verified.get("token-a") is None  # dropped, not merely hidden


def test_no_token_is_known_longer_than_max_age() -> None:
    clock = Clock(0.0)
    verified = VerifiedTokens(max_age=60.0, clock=clock)
    verified.keep("token-a", OPERATOR, claims(exp=10_000.0), leeway=0)
    clock.now = 59.0
    assert verified.get("token-a") is not None
    clock.now = 60.0
    assert verified.get("token-a") is None


def test_only_the_same_token_is_known() -> None:
    verified = VerifiedTokens(clock=Clock(0.0))
    verified.keep("header.claims.signature", OPERATOR, claims(), leeway=0)
    assert verified.get("header.claims.signaturf") is None
    assert verified.get("header.claims.signature") is not None


def test_a_token_without_exp_is_not_kept() -> None:
    verified = VerifiedTokens(clock=Clock(0.0))
    verified.keep("token-a", OPERATOR, claims(exp=None), leeway=30)
    assert verified.get("token-a") is None


def test_the_oldest_goes_when_full() -> None:
    verified = VerifiedTokens(size=2, clock=Clock(0.0))
    for token in ("one", "two", "three"):
        verified.keep(token, OPERATOR, claims(), leeway=0)
    assert verified.get("one") is None
    assert verified.get("two") is not None and verified.get("three") is not None
