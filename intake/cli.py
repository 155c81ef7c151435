"""intake's suggestion-model commands, over the run's data folder (HOTLINE_DATA_DIR):

    python -m services intake train --from-csv FILE [--use] [--target T …]
                                                             train, evaluate on a held-out 20%,
                                                             store as a new version: the category,
                                                             and urgency and kind where the file
                                                             has those columns
    python -m services intake train --from-tickets [--days N] [--use] [--target T …]
                                                             the same from intake's handled tickets,
                                                             and the lead unit too
    python -m services intake predict --from-csv FILE [--version V] [--target T]
                                                             CSV to standard output: the rows plus
                                                             suggestion_1..3, probability_1..3
    python -m services intake models list | use VERSION | rollback | off [--target T]
    python -m services intake models overrides [--days N] [--replay]
                                                             per category: how often operators
                                                             chose another category than the
                                                             suggestion they were shown (with
                                                             --replay: than the model in use
                                                             would pre-fill now)

(`python -m intake.cli …` runs the same.) Progress goes to standard error.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from intake import classify, examples, learning, modelstore, overrides, training

T = TypeVar("T")

PREDICT_BATCH = 256


def progress_bar(out: IO[str] = sys.stderr) -> learning.Progress:
    """A one-line text progress bar per stage."""
    last: dict[str, int] = {}

    def show(stage: str, done: int, total: int) -> None:
        share = done / total if total else 1.0
        filled = int(30 * share)
        if last.get(stage) == filled and done != total:
            return
        last[stage] = filled
        end = "\n" if done >= total else ""
        out.write(f"\r{stage} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}{end}")
        out.flush()

    return show


def _summary(evaluation: dict[str, Any]) -> str:
    if "accuracy" not in evaluation:
        return "not evaluated (too few examples to hold any out)"
    return (
        f"held-out {evaluation['n']}: accuracy {100 * evaluation['accuracy']:.1f}%, "
        f"macro-F1 {100 * evaluation['macro_f1']:.1f}, "
        f"top-3 {100 * evaluation['top3_accuracy']:.1f}%, "
        f"p50 {evaluation['p50_ms']} ms, p99 {evaluation['p99_ms']} ms"
    )


def _train(
    found: dict[str, list[learning.Example]],
    source: str,
    use: bool,
    data_dir: Path | None,
    unit_names: dict[str, str] | None = None,
) -> None:
    """Train every target with examples; fails when the category (if asked) or everything
    could not be trained."""
    if not any(found.values()):
        raise SystemExit("intake train: no labelled examples found")
    for target, rows in found.items():
        print(f"intake train: {target}: {len(rows)} examples from {source}", file=sys.stderr)
    outcomes = training.train_and_store(
        found,
        data_dir=data_dir,
        source=source,
        policy="use" if use else "store",
        unit_names=unit_names,
        progress=progress_bar(),
    )
    for o in outcomes:
        if o.version is None:
            print(f"intake train: {o.target}: not trained: {o.note}")
            continue
        state = "in use" if o.in_use else "stored (not in use)"
        left_out = o.evaluation.get("left_out")
        rare = f"; too rare to learn: {', '.join(left_out)}" if left_out else ""
        print(f"intake train: {o.target} {o.version} {state}; {_summary(o.evaluation)}{rare}")
    failed = [o for o in outcomes if o.version is None]
    if any(o.target == "category" for o in failed) or len(failed) == len(outcomes):
        raise SystemExit("intake train: " + "; ".join(f"{o.target}: {o.note}" for o in failed))


async def _on_tickets(
    days: int | None, read: Callable[[AsyncSession, datetime | None], Awaitable[T]]
) -> T:
    """`read` over intake's database (migrated first), with the tickets of the last `days`."""
    from intake.config import settings
    from shared import db, migrations
    from shared.settings import platform_settings

    engine = db.create_engine(settings().resolved_database_url("intake", platform_settings()))
    try:
        await migrations.upgrade(engine, "intake")
        since = datetime.now(UTC) - timedelta(days=days) if days else None
        async with AsyncSession(engine) as session:
            return await read(session, since)
    finally:
        await engine.dispose()


async def _ticket_examples(days: int | None) -> list[learning.Example]:
    return await _on_tickets(days, lambda s, since: examples.from_tickets(s, since=since))


async def _labelled_tickets(days: int | None) -> examples.Labelled:
    return await _on_tickets(days, lambda s, since: examples.labelled_tickets(s, since=since))


def predict(
    file: IO[str], out: IO[str], model: learning.CategoryModel, target: str = "category"
) -> int:
    """The file's rows with the model's top 3 and their probabilities; returns the row count.
    The lead-unit model also reads the rows' `category` and `address`, where given."""
    fields, rows = examples.read_rows(file)
    title, description = examples.text_columns(fields)
    added = [f"{k}_{i}" for i in range(1, learning.TOP + 1) for k in ("suggestion", "probability")]
    writer = csv.DictWriter(out, [*fields, *added], extrasaction="ignore")
    writer.writeheader()
    count = 0
    batch: list[dict[str, str]] = []

    def flush() -> None:
        texts = [((r.get(title) or "") if title else "", r.get(description) or "") for r in batch]
        contexts = (
            [classify.unit_context(r.get("category"), r.get("address")) for r in batch]
            if target == "lead_unit"
            else []
        )
        for row, candidates in zip(
            batch, model.suggest_many(texts, contexts=contexts), strict=True
        ):
            for i, c in enumerate(candidates, 1):
                row[f"suggestion_{i}"] = c.category
                row[f"probability_{i}"] = f"{c.probability:.4f}"
            writer.writerow(row)
        batch.clear()

    for row in rows:
        batch.append(row)
        count += 1
        if len(batch) == PREDICT_BATCH:
            flush()
    if batch:
        flush()
    return count


def _overrides(folder: Path, days: int | None, replay: bool) -> None:
    if replay:
        name = modelstore.current_name(folder)
        if name is None:
            raise SystemExit("intake models overrides --replay: no model in use")
        model = modelstore.load(folder, name)
        rates = overrides.replayed(model, asyncio.run(_ticket_examples(days)))
        shown = "pre-filled"
    else:
        rates = asyncio.run(_on_tickets(days, lambda s, since: overrides.as_shown(s, since=since)))
        shown = "shown"
    print(
        f"{'category':<40} {'tickets':>7} {shown:>10} {'overridden':>10} {'not offered':>11} "
        f"{'rate':>6}"
    )
    for r in rates:
        print(
            f"{r.category:<40} {r.tickets:>7} {r.prefilled:>10} {r.overridden:>10} "
            f"{r.outside_top if not replay else '-':>11} {100 * r.rate:5.1f}%"
        )


def _models(args: argparse.Namespace, data_dir: Path | None) -> None:
    folder = modelstore.root(data_dir, args.target or "category")
    try:
        if args.action == "use":
            modelstore.choose(folder, args.version)
            print(f"intake models: {args.target or 'category'} {args.version} in use")
        elif args.action == "rollback":
            print(f"intake models: rolled back to {modelstore.rollback(folder)}")
        elif args.action == "overrides":
            _overrides(folder, args.days, args.replay)
        elif args.action == "off":
            modelstore.stop_using(folder)
            print("intake models: none in use; the rules suggest")
        else:
            for target in [args.target] if args.target else modelstore.TARGETS:
                found = modelstore.versions(modelstore.root(data_dir, target))
                if not found:
                    print(f"{target}: none stored")
                    continue
                print(f"{target}:")
                for v in found:
                    print(
                        f"{'*' if v.in_use else ' '} {v.name}  {v.meta.get('trained_at', '?')}  "
                        f"{v.meta.get('examples', '?')} examples from "
                        f"{v.meta.get('source', '?')}  {_summary(v.evaluation)}"
                    )
    except modelstore.UnknownVersion as exc:
        raise SystemExit(f"intake models: {exc}") from None


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m services intake")
    parser.add_argument("--data-dir", type=Path, help="default: HOTLINE_DATA_DIR (data)")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train, evaluate and store a new model version")
    source = train.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-csv", type=Path, metavar="FILE")
    source.add_argument("--from-tickets", action="store_true")
    train.add_argument("--days", type=int, help="with --from-tickets: only the last N days")
    train.add_argument("--use", action="store_true", help="put the new versions in use")
    train.add_argument(
        "--target",
        action="append",
        choices=modelstore.TARGETS,
        help="only these models (repeatable); default: every one the data labels",
    )
    pred = commands.add_parser("predict", help="top-3 suggestions for each row of a CSV")
    pred.add_argument("--from-csv", type=Path, metavar="FILE", required=True)
    pred.add_argument("--version", help="default: the version in use")
    pred.add_argument("--target", choices=modelstore.TARGETS, default="category")
    models = commands.add_parser("models", help="list, choose or roll back model versions")
    models.add_argument("action", choices=("list", "use", "rollback", "off", "overrides"))
    models.add_argument("version", nargs="?")
    models.add_argument(
        "--target", choices=modelstore.TARGETS, help="default: category (list: every target)"
    )
    models.add_argument("--days", type=int, help="with overrides: only the last N days")
    models.add_argument(
        "--replay",
        action="store_true",
        help="with overrides: against what the model in use would pre-fill now, not what was shown",
    )
    args = parser.parse_args(list(argv))
    if args.command == "train":
        unit_names = None
        if args.from_csv:
            try:
                with args.from_csv.open(encoding="utf-8-sig", newline="") as f:
                    found = examples.labelled_csv(f)
            except (OSError, examples.BadFile) as exc:
                raise SystemExit(f"intake train: {exc}") from None
            origin = args.from_csv.name
        else:
            labelled = asyncio.run(_labelled_tickets(args.days))
            found, unit_names, origin = labelled.by_target, labelled.unit_names, "tickets"
        if args.target:
            found = {t: found.get(t, []) for t in args.target}
        _train(found, origin, args.use, args.data_dir, unit_names)
    elif args.command == "predict":
        folder = modelstore.root(args.data_dir, args.target)
        name = args.version or modelstore.current_name(folder)
        if name is None:
            raise SystemExit(f"intake predict: no {args.target} model in use; train one first")
        try:
            model = modelstore.load(folder, name)
            with args.from_csv.open(encoding="utf-8-sig", newline="") as f:
                count = predict(f, sys.stdout, model, args.target)
        except (OSError, examples.BadFile, modelstore.UnknownVersion) as exc:
            raise SystemExit(f"intake predict: {exc}") from None
        print(f"intake predict: {count} rows with {args.target} {name}", file=sys.stderr)
    else:
        if args.action == "use" and not args.version:
            parser.error("models use needs a VERSION")
        _models(args, args.data_dir)


if __name__ == "__main__":
    main(sys.argv[1:])
