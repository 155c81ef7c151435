"""`python -m web --port 8100`: the pages as their own deployment (distributed mode), calling
the services at `WEB_SERVICE_URLS`."""

from __future__ import annotations

import argparse
import sys

import uvicorn

from shared.settings import secrets_message, service_default_secrets
from web.app import build
from web.settings import web_settings


def main() -> None:
    parser = argparse.ArgumentParser(description="12345 hotline web pages")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    missing = service_default_secrets(web_settings())
    if missing:  # the pages on their own are never the embedded demo
        print(f"refusing to start: {secrets_message(missing)}", file=sys.stderr)
        raise SystemExit(2)
    uvicorn.run(build(), host=args.host, port=args.port, proxy_headers=False)


if __name__ == "__main__":
    main()
