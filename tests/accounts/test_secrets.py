"""Outside the embedded demo the platform refuses to start with a development secret and names
each one; the demo warns."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.config import AccountsSettings
from callback.config import CallbackSettings
from intake.config import IntakeSettings
from services.__main__ import check_secrets
from services.stack import free_port
from shared.settings import DEV_AUTH_PRIVATE_KEY, PlatformSettings, default_secrets
from tests.keys import new_private_key_pem

SECRETS = (
    "HOTLINE_AUTH_PRIVATE_KEY",
    "HOTLINE_AUTH_PUBLIC_KEYS",
    "HOTLINE_CITIZEN_REF_SECRET",
    "CALLBACK_RATING_SECRET",
    "INTAKE_OPEN311_API_KEYS",
    "INTAKE_ENCRYPTION_KEYS",
    "INTAKE_BLIND_INDEX_KEY",
    "WEB_SESSION_SECRET",
)


@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch) -> None:
    """No secret in the environment: every setting at its development default."""
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)


def services() -> dict[str, object]:
    return {
        "intake": IntakeSettings(),
        "callback": CallbackSettings(),
        "accounts": AccountsSettings(),
    }


def test_every_development_secret_is_named(bare: None) -> None:
    missing = default_secrets(PlatformSettings(), services())  # type: ignore[arg-type]
    assert set(missing) >= {
        "HOTLINE_AUTH_PRIVATE_KEY",
        "HOTLINE_CITIZEN_REF_SECRET",
        "CALLBACK_RATING_SECRET",
        "INTAKE_OPEN311_API_KEYS",
    }
    if "encryption_keys" in IntakeSettings.model_fields:
        assert {"INTAKE_ENCRYPTION_KEYS", "INTAKE_BLIND_INDEX_KEY"} <= set(missing)
    # A placeholder is no better, and the development key set explicitly neither.
    placeholder = PlatformSettings(auth_private_key="REPLACE_ME", citizen_ref_secret="REPLACE_ME")
    assert "HOTLINE_AUTH_PRIVATE_KEY" in default_secrets(placeholder, {"intake": IntakeSettings()})
    assert "HOTLINE_CITIZEN_REF_SECRET" in default_secrets(
        placeholder, {"intake": IntakeSettings()}
    )
    explicit = PlatformSettings(auth_private_key=DEV_AUTH_PRIVATE_KEY)
    assert "HOTLINE_AUTH_PRIVATE_KEY" in default_secrets(explicit, {})


def test_set_secrets_pass(bare: None) -> None:
    platform = PlatformSettings(auth_private_key=new_private_key_pem(), citizen_ref_secret="s" * 40)
    callback = CallbackSettings(rating_secret="r" * 40)
    assert default_secrets(platform, {"callback": callback}) == []
    # routing's process verifies with public keys only: no private key needed there.
    verifier = PlatformSettings(auth_public_keys='{"keys": []}', auth_jwks_url="http://accounts/x")
    assert default_secrets(verifier, {}) == []
    assert default_secrets(verifier, {"accounts": AccountsSettings()}) == [
        "HOTLINE_AUTH_PRIVATE_KEY"
    ]


def test_the_demo_warns_and_starts(bare: None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        check_secrets(("callback", "accounts"), PlatformSettings(load_demo=True))
    assert "DEMO ONLY" in caplog.text and "HOTLINE_AUTH_PRIVATE_KEY" in caplog.text
    with pytest.raises(SystemExit):  # the distributed run is never the demo
        check_secrets(
            ("callback",), PlatformSettings(load_demo=True, kafka_bootstrap="127.0.0.1:9")
        )


def test_a_real_start_outside_the_demo_is_refused(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    env |= {"HOTLINE_LOAD_DEMO": "false", "HOTLINE_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "services", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "refusing to start" in done.stderr
    for name in (
        "HOTLINE_AUTH_PRIVATE_KEY",
        "HOTLINE_CITIZEN_REF_SECRET",
        "CALLBACK_RATING_SECRET",
        "WEB_SESSION_SECRET",
    ):
        assert name in done.stderr
    assert not (tmp_path / "intake.db").exists()  # nothing was started


def test_services_named_after_one_with_commands_are_served_not_taken_for_a_command(
    tmp_path: Path,
) -> None:
    """`intake routing` serves both (refused here for its secrets, as serving is), where
    `intake train` would be intake's own command."""
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    env |= {"HOTLINE_LOAD_DEMO": "false", "HOTLINE_DATA_DIR": str(tmp_path)}
    for names in (["intake", "routing"], ["accounts", "intake"]):
        done = subprocess.run(
            [sys.executable, "-m", "services", *names, "--port", str(free_port())],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        assert "refusing to start" in done.stderr and "invalid choice" not in done.stderr


def test_the_cli_creates_an_account_for_any_unit(tmp_path: Path) -> None:
    env = os.environ | {"ACCOUNTS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/a.db"}
    run = [sys.executable, "-m", "services", "accounts"]
    done = subprocess.run(
        [
            *run,
            "create",
            "--role",
            "unit",
            "--unit",
            "U-XQ-01",
            "--name",
            "张三",
            "--username",
            "zhang.san",
            "--allow-unknown-unit",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "zhang.san" in done.stdout and "temporary password" in done.stdout
    refused = subprocess.run(
        [*run, "create", "--role", "unit", "--unit", "U-XQ-02", "--name", "李四"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "U-XQ-02" in refused.stderr
    listed = subprocess.run([*run, "list"], env=env, capture_output=True, text=True, timeout=60)
    assert "zhang.san" in listed.stdout and "U-XQ-01" in listed.stdout
