"""`newsbot console`: the bot's commands in a terminal, no Discord needed.

Each command builds the very `Reply` (embeds and buttons) that the slash
command sends (`bot.replies`); `bot.console.panels` prints it, and
`bot.console.alerts` holds the subscription commands and the alert printer,
`bot.console.feeds` the feed commands.

A line that is not a command is a question (`/news`). Adding a command is one
`COMMANDS` entry (usage and help line) and one `cmd_<name>(self, rest)` method.
While the console runs it watches the store's generation, as the Discord bot
does, so stories loaded by another process (`newsbot load`) reach its alerts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sys
import webbrowser
from pathlib import Path
from typing import Any

from rapidfuzz import process
from rich.console import Console
from rich.text import Text

from bot.console import alerts as console_alerts
from bot.console import feeds as console_feeds
from bot.console import latest as console_latest
from bot.console.alerts import CONSOLE_USER_ID
from bot.console.panels import Action, Pager, print_reply
from bot.console.prompt import make_prompt
from bot.core.feedloop import FeedPoller
from bot.core.newsroom import Newsroom, rescan_forever
from bot.core.settings import Settings
from bot.core.store import StoreBusy
from bot.replies.admin import reload_reply, stats_reply
from bot.replies.embeds import info_embed
from bot.replies.news import latest_reply, news_reply, topics_reply
from bot.replies.reply import NewsPager, Reply

log = logging.getLogger(__name__)


DEMO_COMMAND = "/news ibm facial recognition human rights"
GENERATION_POLL_SECONDS = 2.0  # how often the console looks for loads by other processes
LATEST_MAX = 20  # /latest shows 1..LATEST_MAX stories, as on Discord
_COUNT = re.compile(r"^[+-]?\d+$")


# -- the command loop ---------------------------------------------------------------


# name → (usage as the console reads it, what it does). The console's /help prints this.
COMMANDS: dict[str, tuple[str, str]] = {
    "news": ("/news <question>", "the story that best answers your question (or just type it)"),
    "latest": ("/latest [topic] [count 1-20]", "the newest stories, of one topic if you like"),
    "topics": ("/topics", "topics with story counts"),
    # The options go in the description: a usage line too wide for the terminal
    # would squeeze the description column out of /help's table.
    "subscribe": (
        "/subscribe [topic] [keywords=a,b] [options]",
        "alert me when a story arrives (a topic, keywords, or both); options: "
        "min_quality=N max_per_hour=N digest=daily digest_hour=H on_update=edit",
    ),
    "unsubscribe": ("/unsubscribe <topic or id>", "stop an alert"),
    "subscriptions": (
        "/subscriptions [list|preview|why]",
        "my alerts; preview <#id>: what one would look like; "
        "why <#id> <story>: why a story was (not) sent",
    ),
    "admin": (
        "/admin reload|stats|feeds",
        "reload the data folder, show stats; feeds add URL [topics=A,B] [every=15m], "
        "feeds list, feeds remove ID, feeds poll",
    ),
    "help": ("/help", "this list"),
}
ADMIN_SUBCOMMANDS = ("reload", "stats", "feeds")
WORDS = ("next", "prev", "open N", "quit (or Ctrl-D)")


class ConsoleSession:
    """One terminal user's conversation: the last pager, the last links, their alerts."""

    def __init__(self, room: Newsroom, console: Console) -> None:
        self.room = room
        self.console = console
        self.pager: Pager | None = None  # the last /news or /latest, for next/prev
        self.links: list[Action] = []
        self.alerts = console_alerts.console_dispatcher(room.store, console)
        self.generation: int | None = None
        console_feeds.attach(self)

    def show(self, reply: Reply, pager: Pager | None = None) -> None:
        """Print a reply; its links become `open N`, its pager (or `pager`) `next`/`prev`."""
        pager = pager or reply.pager
        self.links = print_reply(self.console, reply, pager)
        if pager is not None:
            self.pager = pager

    def hint(self, text: str) -> None:
        """Print a one-line note (usage, a refusal) in yellow."""
        self.console.print(Text(text, style="yellow"))

    async def run_line(self, line: str) -> bool:
        """Run one input line. Returns False when the user wants to leave."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        word, _, rest = line.partition(" ")
        low = word.lower()
        # The console's own words count only alone on a line (`open` takes its N):
        # "next generation chips" and "exit polls" are questions.
        alone = not rest.strip()
        if alone and low in ("quit", "exit", "/quit", "/exit", "q"):
            return False
        if alone and low in ("next", "n", "prev", "p", "previous"):
            await self._page(+1 if low in ("next", "n") else -1)
            return True
        if (low == "open" and (alone or rest.strip().isdigit())) or (alone and low.isdigit()):
            self._open(rest if low == "open" else low)
            return True
        name = low.lstrip("/")
        if name not in COMMANDS:
            if word.startswith("/") or (not rest and self._close_command(name)):
                self._unknown(word)
                return True
            name, rest = "news", line  # anything else is a question
        try:
            await getattr(self, f"cmd_{name}")(rest.strip())
        except StoreBusy:
            self.hint("A reload is already running; try again when it has finished.")
        except Exception:  # the console must survive anything a command does
            log.exception("command %s failed", name)
            self.hint(f"/{name} failed; details are in the log.")
        return True

    @staticmethod
    def _close_command(word: str) -> str | None:
        """The command a lone word is a typo of ('topcs' → 'topics'), if it is one."""
        best = process.extractOne(word, list(COMMANDS), score_cutoff=80)
        return best[0] if best else None

    def _unknown(self, word: str) -> None:
        name = word.lower().lstrip("/")
        best = process.extractOne(name, list(COMMANDS), score_cutoff=60)
        if best:
            usage = COMMANDS[best[0]][0]
            self.hint(f"Unknown command {word!r}; did you mean /{best[0]}?  Usage: {usage}")
        else:
            self.hint(f"Unknown command {word!r}. Type /help for the list.")

    async def _page(self, step: int) -> None:
        pager = self.pager
        if pager is None or pager.total < 2:
            self.hint("Nothing to page through; ask something with /news first.")
            return
        unit = "story" if isinstance(pager, NewsPager) else "page"
        if step > 0 and pager.index >= pager.total - 1:
            self.hint(f"That was the last {unit} ({pager.total} of {pager.total}); prev goes back.")
            return
        if step < 0 and pager.index <= 0:
            self.hint(f"This is the first {unit} (1 of {pager.total}); next goes on.")
            return
        self.show(await pager.move(step), pager)

    def _open(self, arg: str) -> None:
        if not arg.strip().isdigit() or not (1 <= int(arg) <= len(self.links)):
            self.hint(
                f"Usage: open N, with N from 1 to {len(self.links)}"
                if self.links
                else "No links to open."
            )
            return
        action = self.links[int(arg) - 1]
        self.console.print(Text(f"{action.label}: {action.url}"))
        if sys.stdout.isatty():
            webbrowser.open(action.url or "")

    # -- commands (same replies as the slash commands) ------------------------

    async def cmd_news(self, rest: str) -> None:
        """/news <question>: the best story, with a pager over the other hits."""
        if not rest:
            self.hint("Usage: /news <question>, e.g. /news ibm facial recognition")
            return
        self.show(await news_reply(self.room, rest, owner_id=CONSOLE_USER_ID))

    async def cmd_latest(self, rest: str) -> None:
        """/latest [topic] [count]: a count outside 1-20 is brought within it, and said so."""
        words = rest.split()
        count = 5
        if words and _COUNT.match(words[-1]):
            asked = int(words.pop())
            count = max(1, min(asked, LATEST_MAX))
            if count != asked:
                self.hint(f"Showing {count}: /latest shows 1 to {LATEST_MAX} stories, not {asked}.")
        topic = " ".join(words) or None
        fetch = min(count * console_latest.PAGES, console_latest.MAX_STORIES)
        name, articles = await self.room.latest(topic, fetch)
        if topic and name is None:  # no such topic: the "did you mean" reply Discord gives
            self.show(await latest_reply(self.room, topic, count))
            return
        title = f"Latest in {name}" if name else "Latest stories"
        pages = console_latest.LatestPages(title, articles, count)
        self.show(pages.render(), pages)

    async def cmd_topics(self, rest: str) -> None:
        """/topics: topics with story counts."""
        self.show(await topics_reply(self.room))

    async def cmd_help(self, rest: str) -> None:
        """/help: the commands as the console reads them, and its own words."""
        lines = [(usage, what) for usage, what in COMMANDS.values()]
        self.show(Reply([info_embed("newsbot console commands", lines, inline=False)]))
        self.console.print(
            Text(
                "Type a question without a command to ask it. Also: " + ", ".join(WORDS),
                style="dim",
            )
        )

    async def cmd_admin(self, rest: str) -> None:
        """/admin reload | stats | feeds … (sync needs Discord)."""
        sub = rest.split()[0].lower() if rest.split() else ""
        if sub == "reload":
            report = await self.room.reload(wait=False)
            self.show(reload_reply(report, root=self.room.settings.data_dir))
            # Also after a reload that changed nothing: alerts matched by a load in
            # another process may be waiting.
            await self.deliver_alerts()
        elif sub == "stats":
            self.show(await stats_reply(self.room))
        elif sub == "feeds":
            await console_feeds.run(self, rest.strip()[len(sub) :])
        elif sub == "sync":
            self.hint("/admin sync publishes commands to Discord; run `newsbot sync` with a token.")
        else:
            best = process.extractOne(sub, ADMIN_SUBCOMMANDS, score_cutoff=60) if sub else None
            guess = f"Did you mean /admin {best[0]}? " if best else ""
            self.hint(f"{guess}Usage: /admin reload | /admin stats | /admin feeds …")

    async def cmd_subscribe(self, rest: str) -> None:
        """/subscribe <topic> [keywords=a,b] [min_quality=N] [alert options]."""
        await console_alerts.subscribe(self, rest)

    async def cmd_unsubscribe(self, rest: str) -> None:
        """/unsubscribe <topic or #id>."""
        await console_alerts.unsubscribe(self, rest)

    async def cmd_subscriptions(self, rest: str) -> None:
        """/subscriptions [list] | preview <#id> | why <#id> <story>."""
        await console_alerts.subscriptions_command(self, rest)

    async def deliver_alerts(self) -> None:
        """Print every alert that is due (after reloads and rescans)."""
        await self.alerts.run_once()

    async def check_store(self) -> bool:
        """Catch up with loads by other processes: when the store's generation moved,
        refresh the search index and print the alerts due. True when it had moved."""
        now = await self.room.store.generation()
        seen, self.generation = self.generation, now
        if seen is None or now == seen:
            return False
        await self.room.searcher.refresh()
        await self.deliver_alerts()
        return True

    async def watch_store(self, interval: float = GENERATION_POLL_SECONDS) -> None:
        """Print the alerts already due, then `check_store` every `interval` seconds until
        cancelled; survives errors."""
        await self.check_store()
        await self.deliver_alerts()
        while True:
            await asyncio.sleep(interval)
            try:
                await self.check_store()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("watching the store for changes failed")


# -- entry point ------------------------------------------------------------------


def make_console(no_color: bool = False) -> Console:
    """A rich console; colourless when asked or when stdout is not a terminal."""
    return Console(no_color=no_color or not sys.stdout.isatty(), highlight=False, soft_wrap=False)


async def _interactive(session: ConsoleSession, history: Path) -> None:
    prompt, patch_stdout = make_prompt(history)
    # Alerts printed while the prompt waits go above it, not through the typed line.
    with patch_stdout():
        while True:
            try:
                line = await prompt.prompt_async("newsbot> ")
            except (EOFError, KeyboardInterrupt):  # Ctrl-D, or Ctrl-C on an empty line
                return
            if not await session.run_line(line):
                return


async def _piped(session: ConsoleSession) -> None:
    # Lines from a pipe: read in a thread so background alerts keep flowing.
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            return
        if not await session.run_line(line):
            return


async def run_console(args: Any, settings: Settings, *, autoload: bool = True) -> int:
    """`newsbot console`: run `-c` commands and exit, or read commands until quit.
    `autoload`: a new store is first filled from the data folder."""
    console = make_console(getattr(args, "no_color", False))
    room = await Newsroom.open(settings, autoload=autoload)
    session = ConsoleSession(room, console)
    tasks: list[asyncio.Task[Any]] = []
    main_job = getattr(args, "command", None) is None  # plain `newsbot`, no token
    try:
        commands = list(getattr(args, "command_lines", None) or [])
        if main_job:
            commands = [DEMO_COMMAND]  # show one full answer first, then how to go on
        if commands and (not main_job or not sys.stdin.isatty()):
            for line in commands:
                if not await session.run_line(line):
                    break
            if main_job:
                console.print(
                    Text(
                        "\nThat was the console over the bundled data. Run `newsbot console` in a "
                        "terminal to ask more (/help lists the commands), or set DISCORD_TOKEN to "
                        "run the bot on Discord (see README.md).",
                        style="dim",
                    )
                )
            return 0
        if settings.rescan_seconds > 0:
            tasks.append(
                asyncio.create_task(
                    rescan_forever(
                        room, settings.rescan_seconds, on_change=lambda _r: session.deliver_alerts()
                    )
                )
            )
        tasks.append(asyncio.create_task(session.watch_store()))
        tasks.append(asyncio.create_task(FeedPoller(room.feeds).run()))
        console.print(
            Text(
                f"newsbot console: {(await room.store.stats())['stories']:,} stories. "
                "Type a question, /help for commands, quit to leave. Try: " + DEMO_COMMAND,
                style="bold",
            )
        )
        log_file = _log_file()
        if log_file:
            console.print(Text(f"Log: {log_file}", style="dim"))
        if main_job:
            await session.run_line(DEMO_COMMAND)
        if sys.stdin.isatty():
            await _interactive(session, settings.db_path.parent / ".console_history")
        else:
            await _piped(session)
        return 0
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        await room.close()


def _log_file() -> str | None:
    """Where this process's log lines go, when that is a file."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            return handler.baseFilename
    return None
