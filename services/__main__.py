"""`python -m services [names…]` serves the named services (all five by default) in one
uvicorn process. Other commands:

    python -m services migrate [names…]      run migrations and exit
    python -m services tokens                print the demo bearer tokens
    python -m services demo INTAKE_URL ROUTING_URL CALLBACK_URL
                                             post and play the demo tickets against running services
    python -m services analytics rebuild     rebuild analytics' read model by replaying events
    python -m services accounts create --role unit --unit U-XXX --name …
                                             administer accounts and clients (see accounts/cli.py)

Outside the embedded demo, serving refuses to start while a secret setting still has its
development value, and names each one (shared.settings.default_secrets).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from services import DEFAULT_PORTS, EMBEDDED_PORT, SERVICE_NAMES
from shared import logs, tracing
from shared.settings import PlatformSettings, platform_settings


def _serve(argv: list[str]) -> None:
    import uvicorn

    from services import demo
    from services.bootstrap import build_app
    from shared.settings import platform_settings

    parser = argparse.ArgumentParser(prog="python -m services")
    parser.add_argument(
        "names",
        nargs="*",
        metavar="service",
        help=f"services to run: {', '.join(SERVICE_NAMES)} (default: all)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in SERVICE_NAMES]
    if unknown:
        parser.error(
            f"unknown service {', '.join(unknown)}; choose from {', '.join(SERVICE_NAMES)}"
        )
    names = tuple(args.names) or SERVICE_NAMES
    port = args.port or (DEFAULT_PORTS[names[0]] if len(names) == 1 else EMBEDDED_PORT)
    platform = platform_settings()
    check_secrets(names, platform)
    base = f"http://{'localhost' if args.host in ('127.0.0.1', '0.0.0.0') else args.host}:{port}"
    print(
        f"12345 hotline — {', '.join(names)} "
        f"({'distributed: Kafka ' + str(platform.kafka_bootstrap) if platform.distributed else 'embedded: data in ' + str(platform.data_dir)})"
    )
    print(f"  API docs:  {base}/docs\n  health:    {base}/healthz   {base}/readyz")
    if platform.load_demo and "accounts" in names:
        print(demo.login_help(base))
    sys.stdout.flush()
    # uvicorn's own proxy headers would trust X-Forwarded-For from 127.0.0.1 and rewrite the
    # client address first; HOTLINE_TRUSTED_PROXIES (shared/http.py) is the one switch.
    uvicorn.run(build_app(names), host=args.host, port=port, log_level="info", proxy_headers=False)


def check_secrets(names: tuple[str, ...], platform: PlatformSettings) -> None:
    """Refuse to serve with a development secret, except in the embedded demo (a warning)."""
    from services.bootstrap import load_specs
    from shared.settings import default_secrets, secrets_message
    from web.settings import web_settings

    # Every process serves the pages beside its services (web.install): their cookie key too.
    settings = {s.name: s.settings for s in load_specs(names)} | {"web": web_settings()}
    missing = default_secrets(platform, settings)
    if missing and not platform.demo:
        print(f"refusing to start: {secrets_message(missing)}", file=sys.stderr)
        raise SystemExit(2)
    if missing:
        banner = "!" * 100
        logging.getLogger("services").warning(
            "\n%s\nDEMO ONLY: %s\n%s", banner, secrets_message(missing), banner
        )
    if platform.distributed and "accounts" not in names and not platform.auth_accounts_url:
        logging.getLogger("services").warning(
            "HOTLINE_AUTH_ACCOUNTS_URL is not set: revoked tokens are accepted until they expire"
        )


async def _migrate(names: list[str]) -> None:
    from services.bootstrap import load_specs
    from shared import db, migrations
    from shared.settings import platform_settings

    platform = platform_settings()
    for spec in load_specs(names or list(SERVICE_NAMES)):
        engine = db.create_engine(spec.settings.resolved_database_url(spec.name, platform))
        await migrations.upgrade(engine, spec.name)
        await engine.dispose()
        print(f"{spec.name}: migrated to head")


async def _demo(urls: list[str]) -> None:
    import httpx

    from services import demo

    if len(urls) != 3:
        raise SystemExit("usage: python -m services demo INTAKE_URL ROUTING_URL CALLBACK_URL")
    async with (
        httpx.AsyncClient(base_url=urls[0], timeout=10) as intake,
        httpx.AsyncClient(base_url=urls[1], timeout=10) as routing,
        httpx.AsyncClient(base_url=urls[2], timeout=10) as callback,
    ):
        played = await demo.play(intake, routing, callback)
    print(f"demo: {played} tickets played through to the callback")


def _serves(rest: list[str]) -> bool:
    """What follows a service's name asks to serve it: nothing, an option, or more services
    (`intake routing`), rather than one of its commands (`intake train`)."""
    return not rest or rest[0].startswith("-") or rest[0] in SERVICE_NAMES


def main(argv: list[str]) -> None:
    platform = platform_settings()
    logs.configure(platform.log_format)  # text, or one JSON object per line (docs/operations.md)
    tracing.configure(platform.traces)  # off unless asked for
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    if command == "migrate":
        asyncio.run(_migrate(rest))
    elif command == "tokens":
        from services import demo

        for label, token in demo.tokens().items():
            print(f"{label:<32} {token}")
    elif command == "demo":
        asyncio.run(_demo(rest))
    elif command == "accounts" and not _serves(rest):
        # `accounts create …` administers; `accounts --port 8106` serves the service.
        from accounts.cli import main as accounts_cli

        accounts_cli(rest)
    elif command == "analytics" and rest[:1] == ["rebuild"]:
        from analytics.rebuild import main as rebuild

        rebuild(rest[1:])
    elif command == "intake" and not _serves(rest):
        # `intake train|predict|models …` (docs/suggestions.md); `intake --port …` serves.
        from intake.cli import main as intake_cli

        intake_cli(rest)
    elif command == "deadletters":  # list | replay (docs/faults.md)
        from services.deadletters_cli import main as deadletters

        deadletters(rest)
    else:
        _serve(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
