"""`newsbot` command line: load, stats, ask, topics, console, run, sync.

Exit codes: 0 success; 2 usage errors or nothing could be done; 3 a load where
some records were rejected (the rest loaded).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.core.loader import LoadError, LoadReport, load_paths
from bot.core.settings import ConfigError, Settings
from bot.core.store.sqlite import Store, StoreError
from bot.core.text import format_bytes

log = logging.getLogger("newsbot")


class UsageError(Exception):
    """Bad arguments: printed without a traceback, exit code 2."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="newsbot",
        description="A Discord bot that answers questions about the news. "
        "Without a subcommand: run the bot when DISCORD_TOKEN is set, otherwise show the "
        "console demo over the bundled data.",
    )
    p.add_argument(
        "--db", metavar="FILE", help="SQLite store (default: $NEWSBOT_DB or data/newsbot.db)"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_, description=help_)
        # Repeated on each subcommand so `newsbot load --db x` works as well as `newsbot --db x load`.
        sp.add_argument("--db", metavar="FILE", default=argparse.SUPPRESS, help="SQLite store")
        return sp

    lp = add("load", "load record files and folders into the store")
    lp.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (recursive)")
    lp.add_argument(
        "--prune",
        action="store_true",
        help="delete stories whose files are gone from the scanned folders",
    )
    lp.add_argument("--json", action="store_true", help="print the result as JSON")
    lp.add_argument("--workers", type=int, default=None, help="parser processes (default: cores)")

    st = add("stats", "counts of what the store holds")
    st.add_argument("--json", action="store_true", help="one JSON object")

    ask = add("ask", "answer a question from the store ('-' reads one question per line)")
    ask.add_argument("question", nargs="+", help="the question, or - for standard input")
    ask.add_argument("--limit", type=int, default=5, help="hits to show (default 5)")
    ask.add_argument("--json", action="store_true", help="print JSON")

    add("topics", "topics with their story counts").add_argument(
        "--json", action="store_true", help="print JSON"
    )

    con = add("console", "try the bot's commands in a terminal, no Discord needed")
    con.add_argument(
        "-c",
        "--command",
        dest="command_lines",
        action="append",
        metavar="CMD",
        help='run this command (e.g. "/news ibm") and exit; may repeat',
    )
    con.add_argument("--no-color", action="store_true", help="plain output")

    add("run", "run the Discord bot (needs DISCORD_TOKEN)")
    sy = add("sync", "publish the slash commands to Discord (globally, or to one server)")
    sy.add_argument(
        "--guild", type=int, default=None, help="server id (default: $NEWSBOT_DEV_GUILD)"
    )
    return p


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    if getattr(args, "db", None):
        from dataclasses import replace

        settings = replace(settings, db_path=Path(args.db))
    return settings


async def open_store(settings: Settings) -> Store:
    """Open the store; a brand-new one is first filled from the data folder."""
    from bot.core.newsroom import open_store as open_filled

    store, report = await open_filled(settings)
    if report is not None:
        print(
            f"newsbot: new store {settings.db_path}: loaded {settings.data_dir} ({report.summary()})",
            file=sys.stderr,
        )
    return store


# -- load / stats --------------------------------------------------------------


def _progress_bar() -> tuple[Any, Any]:
    """A rich progress bar on a terminal; nothing when output is piped."""
    if not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    # On stderr, the stream checked above: rich's default (stdout) would put the
    # bar's stray newline into piped output and nothing on the terminal.
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
        console=Console(stderr=True),
    )
    tasks: dict[str, Any] = {}

    def update(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task("parsing" if phase == "parse" else "storing", total=total)
        bar.update(tasks[phase], completed=done, total=total)

    return bar, update


def print_load_report(report: LoadReport, *, as_json: bool = False) -> None:
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    print(f"{report.files} files: {report.summary()} in {report.seconds:.1f}s")
    for err in report.rejected:
        print(f"rejected {err}")
    if report.warnings:
        shown = report.warnings[:20]
        for w in shown:
            print(f"warning {w}", file=sys.stderr)
        if len(report.warnings) > len(shown):
            print(f"… and {len(report.warnings) - len(shown)} more warnings", file=sys.stderr)


async def cmd_load(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.alerts.matching import match_hook

    store = await Store.open(settings.db_path)
    try:
        bar, update = _progress_bar()
        hook = match_hook(max_age=settings.alert_max_age)
        try:
            with bar if bar is not None else contextlib.nullcontext():
                report = await load_paths(
                    store,
                    args.paths,
                    prune=args.prune,
                    progress=update,
                    on_stored=[hook],
                    max_bytes=settings.max_record_bytes,
                    workers=args.workers,
                )
        except LoadError as exc:
            print(f"newsbot load: {exc}", file=sys.stderr)
            return 2
    finally:
        await store.close()
    print_load_report(report, as_json=args.json)
    if report.files == 0 and not report.loaded:
        print(
            "newsbot load: no record files found (*.md, *.markdown, *.yml, *.yaml)", file=sys.stderr
        )
        return 2
    return report.exit_code


async def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    store = await open_store(settings)
    try:
        stats = await store.stats()
    finally:
        await store.close()
    if args.json:
        print(json.dumps(stats))
    else:
        for key in ("stories", "topics", "providers", "related", "newest"):
            print(f"{key:>10}: {stats[key]}")
        print(f"{'db size':>10}: {format_bytes(stats['db_bytes'])} ({settings.db_path})")
    return 0


# -- entry point ---------------------------------------------------------------


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    cmd = args.command
    if cmd == "load":
        return await cmd_load(args, settings)
    if cmd == "stats":
        return await cmd_stats(args, settings)
    if cmd in ("ask", "topics"):
        from bot.cli import ask as cli_ask

        return await (cli_ask.cmd_ask if cmd == "ask" else cli_ask.cmd_topics)(
            args, settings, open_store
        )
    if cmd == "console" or (cmd is None and not settings.token):
        from bot.console.session import run_console

        return await run_console(args, settings)
    if cmd in ("run", None):
        from bot.discord_app.bot import run_bot

        return await run_bot(settings)
    if cmd == "sync":
        from bot.discord_app.bot import sync_commands

        return await sync_commands(settings, guild=args.guild)
    raise UsageError(f"unknown command {cmd!r}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from dotenv import load_dotenv

    # `.env` fills in what the environment lacks, for every variable (some, like
    # NEWSBOT_WORDNET, are read where they are used rather than through Settings).
    load_dotenv(".env", override=False)
    try:
        settings = _settings(args)
    except ConfigError as exc:
        print(f"newsbot: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else getattr(logging, settings.log_level),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return asyncio.run(_dispatch(args, settings))
    except (UsageError, StoreError, ConfigError) as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
