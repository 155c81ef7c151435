"""`python -m services deadletters …`: list the dead letters and replay them after a fix.

    python -m services deadletters list [--all] [--json]
    python -m services deadletters replay --event-id ID [--event-id ID …] [--again]
    python -m services deadletters replay --all

The bus is chosen as the services choose it: Kafka when `HOTLINE_KAFKA_BOOTSTRAP` is set
(`tickets.lifecycle.dlq`), else the embedded bus in `HOTLINE_DATA_DIR/bus.db`. `list` shows the
pending dead letters (`--all`: the replayed ones too) with the consumer, the origin and the
error. `replay` re-publishes each chosen event's original envelope to `tickets.lifecycle` once
and records the replay (shared/deadletters.py says where and why that is exactly-once).
Also runs as `python -m services.deadletters_cli …`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from uuid import UUID

from shared.deadletters import DeadLetterStore, replay, store_for
from shared.settings import PlatformSettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m services deadletters",
        description="List the dead letters of the ticket bus and replay them after a fix.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="the dead letters, pending ones by default")
    listing.add_argument("--all", action="store_true", help="the replayed ones too")
    listing.add_argument("--json", action="store_true", help="one JSON object a line")
    replaying = commands.add_parser("replay", help="re-publish dead-lettered events")
    chosen = replaying.add_mutually_exclusive_group(required=True)
    chosen.add_argument(
        "--event-id", action="append", type=UUID, default=[], help="an event to replay"
    )
    chosen.add_argument("--all", action="store_true", help="every pending dead letter")
    replaying.add_argument(
        "--again", action="store_true", help="also events whose dead letters were replayed"
    )
    return parser


async def _run(args: argparse.Namespace, store: DeadLetterStore) -> int:
    try:
        if args.command == "list":
            letters = [d for d in await store.dead_letters() if args.all or d.pending]
            for letter in letters:
                print(
                    json.dumps(letter.as_json(), ensure_ascii=False)
                    if args.json
                    else letter.describe()
                )
            if not args.json:
                print(f"{len(letters)} dead letter(s){'' if args.all else ' pending'}")
            return 0
        done = await replay(store, event_ids=args.event_id, everything=args.all, again=args.again)
        for event_id, where in done.published:
            print(f"replayed {event_id} → {where}")
        for what, why in done.skipped:
            print(f"skipped {what}: {why}", file=sys.stderr)
        print(
            f"{len(done.published)} event(s) replayed, {len(done.recorded)} dead letter(s) recorded"
        )
        return 1 if args.event_id and not done.published else 0
    finally:
        await store.close()


async def run(argv: list[str]) -> int:
    """The command in a running event loop; its exit status."""
    args = _parser().parse_args(argv)
    # Not the cached platform_settings(): the environment of this call decides the bus.
    return await _run(args, store_for(PlatformSettings()))


def main(argv: list[str]) -> None:
    raise SystemExit(asyncio.run(run(argv)))


if __name__ == "__main__":
    main(sys.argv[1:])
