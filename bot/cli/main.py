"""`newsbot` command line: load, embed, stats, ask, topics, console, feeds, run, migrate, sync.

A thin layer over the Python API: this module holds the parser and sends
each subcommand to its module (`bot.cli.load`, `bot.cli.ask`, the console,
the Discord adapter).

Adding a subcommand is one `Subcommand` entry in `SUBCOMMANDS`: its name, its
help line, a function that adds its own options to its parser, and the
coroutine that runs it, `run(args, settings) -> exit code`.

Exit codes: 0 success; 2 usage errors or nothing could be done; 3 a load where
some records were rejected (the rest loaded); 141 the reader of our output went
away (`newsbot topics | head -3`), as for any Unix tool.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from importlib import metadata

from dotenv import load_dotenv

from bot.cli.ask import add_ask_options, cmd_ask, cmd_topics
from bot.cli.embed import cmd_embed
from bot.cli.errors import UsageError
from bot.cli.feeds import add_feeds_options, cmd_feeds
from bot.cli.load import add_load_options, cmd_load, cmd_stats
from bot.cli.logs import setup_logging, stop_logging
from bot.cli.migrate import add_migrate_options, cmd_migrate
from bot.cli.run import add_run_options, with_shard_flags
from bot.cli.store import StorePlan, plan_store
from bot.console.session import run_console
from bot.core.settings import ConfigError, Settings
from bot.core.store import StoreError
from bot.discord_app.run import run_bot, sync_commands

Runner = Callable[[argparse.Namespace, Settings, StorePlan], Awaitable[int]]
BROKEN_PIPE = 141  # what a shell reports for a tool killed by SIGPIPE


@dataclass(frozen=True)
class Subcommand:
    """One `newsbot NAME`: its help line, its options and the coroutine that runs it."""

    name: str
    help: str
    run: Runner
    options: Callable[[argparse.ArgumentParser], None] = lambda _p: None


def _json_flag(help_: str) -> Callable[[argparse.ArgumentParser], None]:
    def add(p: argparse.ArgumentParser) -> None:
        p.add_argument("--json", action="store_true", help=help_)

    return add


def _console_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-c",
        "--command",
        dest="command_lines",
        action="append",
        metavar="CMD",
        help='run this command (e.g. "/news ibm") and exit; may repeat',
    )
    p.add_argument("--no-color", action="store_true", help="plain output")


def _sync_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--guild", type=int, default=None, help="server id (default: $NEWSBOT_DEV_GUILD)"
    )


async def _load(args: argparse.Namespace, settings: Settings, plan: StorePlan) -> int:
    return await cmd_load(args, settings)


async def _stats(args: argparse.Namespace, settings: Settings, plan: StorePlan) -> int:
    return await cmd_stats(args, settings, autoload=plan.autoload)


async def _ask(args: argparse.Namespace, settings: Settings, plan: StorePlan) -> int:
    return await cmd_ask(args, settings, autoload=plan.autoload)


async def _topics(args: argparse.Namespace, settings: Settings, plan: StorePlan) -> int:
    return await cmd_topics(args, settings, autoload=plan.autoload)


async def _embed(args: argparse.Namespace, settings: Settings, plan: StorePlan) -> int:
    return await cmd_embed(args, settings)


def _embed_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", type=int, default=None, help="embed at most this many")


async def _feeds(args: argparse.Namespace, settings: Settings, plan: StorePlan) -> int:
    return await cmd_feeds(args, settings, autoload=plan.autoload)


async def _console(args: argparse.Namespace, settings: Settings, plan: StorePlan) -> int:
    return await run_console(args, settings, autoload=plan.autoload)


async def _run(args: argparse.Namespace, settings: Settings, plan: StorePlan) -> int:
    return await run_bot(with_shard_flags(settings, args), autoload=plan.autoload)


async def _migrate(args: argparse.Namespace, settings: Settings, plan: StorePlan) -> int:
    return await cmd_migrate(args, settings)


async def _sync(args: argparse.Namespace, settings: Settings, plan: StorePlan) -> int:
    return await sync_commands(settings, guild=args.guild)


SUBCOMMANDS: list[Subcommand] = [
    Subcommand("load", "load record files and folders into the store", _load, add_load_options),
    Subcommand(
        "embed",
        "compute the sentence embeddings stories await (semantic search)",
        _embed,
        _embed_options,
    ),
    Subcommand("stats", "counts of what the store holds", _stats, _json_flag("one JSON object")),
    Subcommand(
        "ask",
        "answer a question from the store ('-' reads one question per line)",
        _ask,
        add_ask_options,
    ),
    Subcommand("topics", "topics with their story counts", _topics, _json_flag("print JSON")),
    Subcommand(
        "console",
        "try the bot's commands in a terminal, no Discord needed",
        _console,
        _console_options,
    ),
    Subcommand(
        "feeds",
        "RSS/Atom feeds: add, list, remove, poll, import, export",
        _feeds,
        add_feeds_options,
    ),
    Subcommand("run", "run the Discord bot (needs DISCORD_TOKEN)", _run, add_run_options),
    Subcommand(
        "migrate",
        "copy the SQLite store into a PostgreSQL database (--to postgresql://…)",
        _migrate,
        add_migrate_options,
    ),
    Subcommand(
        "sync",
        "publish the slash commands to Discord (globally, or to one server)",
        _sync,
        _sync_options,
    ),
]


def version() -> str:
    """The installed package's version (the checkout's, when run from one uninstalled)."""
    try:
        return metadata.version("newsbot")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The `newsbot` parser, and each subcommand's own parser by name."""
    p = argparse.ArgumentParser(
        prog="newsbot",
        description="A Discord bot that answers questions about the news. "
        "Without a subcommand: run the bot when DISCORD_TOKEN is set, otherwise show the "
        "console demo over the bundled data.",
    )
    p.add_argument("--version", action="version", version=f"newsbot {version()}")
    p.add_argument(
        "--db",
        metavar="FILE|URL",
        help="the store: a SQLite file or a postgresql:// URL "
        "(default: $NEWSBOT_DB or data/newsbot.db)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    parsers: dict[str, argparse.ArgumentParser] = {}
    for command in SUBCOMMANDS:
        sp = sub.add_parser(command.name, help=command.help, description=command.help)
        # Repeated on each subcommand so `newsbot load --db x` works as well as
        # `newsbot --db x load`.
        sp.add_argument("--db", metavar="FILE|URL", default=argparse.SUPPRESS, help="the store")
        command.options(sp)
        parsers[command.name] = sp
    return p, parsers


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse `argv`; a mistyped option is reported with its own subcommand's usage."""
    top, parsers = parser()
    args, extra = top.parse_known_args(argv)
    if extra:
        # argparse hands a subcommand's unknown options up to the top parser, whose
        # usage line says nothing about `stats --json`.
        owner = parsers.get(args.command or "", top)
        owner.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def _settings(args: argparse.Namespace) -> Settings:
    db = getattr(args, "db", None)
    if db:
        # Read exactly as NEWSBOT_DB is: a postgresql:// URL is never taken for a path.
        return Settings.from_env({**os.environ, "NEWSBOT_DB": db})
    return Settings.from_env()


# -- entry point ---------------------------------------------------------------


async def _dispatch(args: argparse.Namespace, settings: Settings, plan: StorePlan) -> int:
    by_name = {c.name: c for c in SUBCOMMANDS}
    name = args.command or ("run" if settings.token else "console")
    if name not in by_name:
        raise UsageError(f"unknown command {name!r}")
    return await by_name[name].run(args, settings, plan)


def _quiet_stdout() -> None:
    # The reader is gone: point stdout at /dev/null so the interpreter's final
    # flush does not print a second BrokenPipeError on the way out.
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """The `newsbot` command; returns the exit code."""
    args = parse_args(argv)
    # `.env` fills in what the environment lacks, for every variable (some, like
    # NEWSBOT_WORDNET, are read where they are used rather than through Settings).
    load_dotenv(".env", override=False)
    try:
        settings = _settings(args)
        plan = plan_store(settings, args.command or ("run" if settings.token else "console"))
    except ConfigError as exc:
        print(f"newsbot: configuration error: {exc}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 2
    interactive = args.command == "console" or (args.command is None and not settings.token)
    handler = setup_logging(settings, verbose=args.verbose, console=interactive)
    try:
        return asyncio.run(_dispatch(args, settings, plan))
    except (UsageError, StoreError, ConfigError) as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        _quiet_stdout()
        return BROKEN_PIPE
    except KeyboardInterrupt:
        return 130
    finally:
        stop_logging(handler)


if __name__ == "__main__":
    sys.exit(main())
