"""`newsbot` command line: load, embed, stats, ask, topics, console, run, sync.

A thin layer over the Python API: this module holds the parser and sends
each subcommand to its module (`bot.cli.load`, `bot.cli.ask`, the console,
the Discord adapter).

Exit codes: 0 success; 2 usage errors or nothing could be done; 3 a load where
some records were rejected (the rest loaded).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from dotenv import load_dotenv

from bot.cli.ask import cmd_ask, cmd_topics
from bot.cli.embed import cmd_embed
from bot.cli.load import cmd_load, cmd_stats
from bot.console.session import run_console
from bot.core.settings import ConfigError, Settings
from bot.core.store import StoreError
from bot.discord_app.run import run_bot, sync_commands


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
        # Repeated on each subcommand so `newsbot load --db x` works as well as
        # `newsbot --db x load`.
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
    lp.add_argument(
        "--embed", action="store_true", help="then embed the stories awaiting it (newsbot embed)"
    )

    em = add("embed", "compute the sentence embeddings stories await (semantic search)")
    em.add_argument("--limit", type=int, default=None, help="embed at most this many")

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
        settings = dataclasses.replace(settings, db_path=Path(args.db))
    return settings


# -- entry point ---------------------------------------------------------------


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    cmd = args.command
    if cmd == "load":
        return await cmd_load(args, settings)
    if cmd == "stats":
        return await cmd_stats(args, settings)
    if cmd == "embed":
        return await cmd_embed(args, settings)
    if cmd == "ask":
        return await cmd_ask(args, settings)
    if cmd == "topics":
        return await cmd_topics(args, settings)
    if cmd == "console" or (cmd is None and not settings.token):
        return await run_console(args, settings)
    if cmd in ("run", None):
        return await run_bot(settings)
    if cmd == "sync":
        return await sync_commands(settings, guild=args.guild)
    raise UsageError(f"unknown command {cmd!r}")


def main(argv: Sequence[str] | None = None) -> int:
    """The `newsbot` command; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
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
