"""`newsbot load` and `newsbot stats`, and opening the store the way every subcommand does.

`open_filled` is the core's `newsroom.open_and_fill` (a brand-new store is first
filled from the data folder) plus a note on stderr when that first fill happened;
`newsbot load` opens the store as it is (`bot.core.store.open_store`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from bot.cli.embed import embed_store
from bot.core import newsroom
from bot.core.embeddings.models import OFF
from bot.core.embeddings.status import embedding_line, embedding_stats
from bot.core.loader import LoadError, LoadReport
from bot.core.settings import Settings
from bot.core.store import Store, open_store
from bot.core.text import format_bytes, format_duration, plural

ProgressUpdate = Callable[[str, int, int], None]


def add_load_options(p: argparse.ArgumentParser) -> None:
    """`newsbot load`'s arguments."""
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (recursive)")
    p.add_argument(
        "--prune",
        action="store_true",
        help="delete stories whose files are gone from the scanned folders",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--workers", type=int, default=None, help="parser processes (default: cores)")
    p.add_argument(
        "--embed", action="store_true", help="then embed the stories awaiting it (newsbot embed)"
    )


async def open_filled(settings: Settings, *, autoload: bool = True) -> Store:
    """Open the store; a brand-new one is first filled from the data folder when
    `autoload` (and says so)."""
    store, report = await newsroom.open_and_fill(settings, autoload=autoload)
    if report is not None:
        print(
            f"newsbot: new store {settings.db_path}: "
            f"loaded {settings.data_dir} ({report.summary()})",
            file=sys.stderr,
        )
    return store


def progress_bar() -> tuple[Progress | None, ProgressUpdate | None]:
    """A rich progress bar and its `load_paths` progress callback on a terminal;
    (None, None) when stderr is piped."""
    if not sys.stderr.isatty():
        return None, None
    # On stderr, the stream checked above: rich's default (stdout) would put the
    # bar's stray newline into piped output and nothing on the terminal.
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} files"),
        TimeRemainingColumn(),
        transient=True,
        console=Console(stderr=True),
    )
    tasks: dict[str, int] = {}

    def update(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task("parsing" if phase == "parse" else "storing", total=total)
        bar.update(tasks[phase], completed=done, total=total)

    return bar, update


def print_load_report(report: LoadReport, *, as_json: bool = False) -> None:
    """The summary on stdout, one line per rejected file; warnings (at most 20) on stderr.

    As JSON, one object on stdout (warnings under `warnings`), and the warnings on
    stderr too, as a person reading the terminal would want them."""
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        took = format_duration(report.seconds)
        print(f"{plural(report.files, 'file')}: {report.summary()} in {took}")
        for err in report.rejected:
            print(f"rejected {err}")
    if report.warnings:
        shown = report.warnings[:20]
        for w in shown:
            print(f"warning {w}", file=sys.stderr)
        if len(report.warnings) > len(shown):
            print(f"… and {len(report.warnings) - len(shown)} more warnings", file=sys.stderr)


async def cmd_load(args: argparse.Namespace, settings: Settings) -> int:
    """`newsbot load PATH...`: 0 all loaded, 2 nothing to load, 3 some records rejected."""
    store = await open_store(settings.store_target, pool_size=settings.db_pool)
    try:
        bar, update = progress_bar()
        try:
            with bar if bar is not None else contextlib.nullcontext():
                report = await newsroom.load_stories(
                    store,
                    settings,
                    args.paths,
                    prune=args.prune,
                    progress=update,
                    workers=args.workers,
                )
        except LoadError as exc:
            print(f"newsbot load: {exc}", file=sys.stderr)
            return 2
        print_load_report(report, as_json=args.json)
        # After the load's transaction, never inside it: the load does not wait for them.
        summary = sys.stderr if args.json else sys.stdout  # stdout holds the JSON alone
        if args.embed and await embed_store(store, settings, summary=summary) != 0:
            return 2
        awaiting = (await store.embedding_counts(settings.embeddings)).awaiting
        if awaiting and not args.json and settings.embeddings != OFF:
            print(f"{awaiting} stories await embeddings (newsbot embed, or the running bot)")
    finally:
        await store.close()
    if report.files == 0 and not report.loaded:
        print(
            "newsbot load: no record files found (*.md, *.markdown, *.yml, *.yaml)", file=sys.stderr
        )
        return 2
    return report.exit_code


async def cmd_stats(args: argparse.Namespace, settings: Settings, *, autoload: bool = True) -> int:
    """`newsbot stats`: counts of what the store holds, as text or one JSON object."""
    store = await open_filled(settings, autoload=autoload)
    try:
        stats = await store.stats()
        stats.update(await embedding_stats(store, settings.embeddings))
    finally:
        await store.close()
    if args.json:
        print(json.dumps(stats))
    else:
        for key in ("stories", "topics", "providers", "related"):
            print(f"{key:>10}: {stats[key]:,}")
        print(f"{'newest':>10}: {stats['newest'] or '— (no stories yet)'}")
        print(f"{'embedded':>10}: {embedding_line(stats)}")
        print(f"{'db size':>10}: {format_bytes(stats['db_bytes'])} ({settings.db_path})")
    return 0
