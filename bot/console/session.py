"""`newsbot console`: the bot's commands in a terminal, no Discord needed.

Each command builds the very `Reply` (embeds and buttons) that the slash
command sends (`bot.replies`); `bot.console.panels` prints it, and
`bot.console.alerts` holds the subscription commands and the alert printer,
`bot.console.feeds` the feed commands.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import webbrowser
from pathlib import Path
from typing import Any

from rapidfuzz import process
from rich.console import Console
from rich.text import Text

from bot.console import alerts as console_alerts
from bot.console import feeds as console_feeds
from bot.console.alerts import CONSOLE_USER_ID
from bot.console.panels import Action, print_reply
from bot.core.feedloop import FeedPoller
from bot.core.newsroom import Newsroom, rescan_forever
from bot.core.settings import Settings
from bot.core.store import StoreBusy
from bot.replies.admin import reload_reply, stats_reply
from bot.replies.news import help_reply, latest_reply, news_reply, topics_reply
from bot.replies.reply import NewsPager, Reply

log = logging.getLogger(__name__)


DEMO_COMMAND = "/news ibm facial recognition human rights"


# -- the command loop ---------------------------------------------------------------


COMMANDS: dict[str, tuple[str, str]] = {
    "news": ("/news <question>", "the story that best answers your question"),
    "latest": ("/latest [topic] [count]", "the newest stories, of one topic if you like"),
    "topics": ("/topics", "topics with story counts"),
    "subscribe": (
        "/subscribe <topic> [keywords=a,b] [min_quality=N]",
        "alert me when a story arrives",
    ),
    "unsubscribe": ("/unsubscribe <topic or id>", "stop an alert"),
    "subscriptions": ("/subscriptions", "my alerts"),
    "admin": (
        "/admin reload | stats | feeds add|list|remove|poll",
        "reload the data folder, show stats, manage feeds",
    ),
    "help": ("/help", "this list"),
}
WORDS = ("next", "prev", "open N", "quit")


class ConsoleSession:
    """One terminal user's conversation: the last pager, the last links, their alerts."""

    def __init__(self, room: Newsroom, console: Console) -> None:
        self.room = room
        self.console = console
        self.pager: NewsPager | None = None
        self.links: list[Action] = []
        self.alerts = console_alerts.console_dispatcher(room.store, console)
        console_feeds.attach(self)

    def show(self, reply: Reply) -> None:
        """Print a reply; its links become `open N`, its pager `next`/`prev`."""
        self.links = print_reply(self.console, reply)
        if reply.pager is not None:
            self.pager = reply.pager

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
        if low in ("quit", "exit", "/quit", "/exit", "q"):
            return False
        if low in ("next", "n", "prev", "p", "previous"):
            await self._page(+1 if low in ("next", "n") else -1)
            return True
        if low == "open" or low.isdigit():
            self._open(rest if low == "open" else low)
            return True
        name = low.lstrip("/")
        if name not in COMMANDS:
            self._unknown(word)
            return True
        try:
            await getattr(self, f"cmd_{name}")(rest.strip())
        except StoreBusy:
            self.hint("A reload is already running; try again when it has finished.")
        except Exception:  # the console must survive anything a command does
            log.exception("command %s failed", name)
            self.hint(f"/{name} failed; details are in the log.")
        return True

    def _unknown(self, word: str) -> None:
        name = word.lower().lstrip("/")
        best = process.extractOne(name, list(COMMANDS), score_cutoff=60)
        if best:
            usage = COMMANDS[best[0]][0]
            self.hint(f"Unknown command {word!r}; did you mean /{best[0]}?  Usage: {usage}")
        else:
            self.hint(f"Unknown command {word!r}. Type /help for the list.")

    async def _page(self, step: int) -> None:
        if self.pager is None or self.pager.total < 2:
            self.hint("Nothing to page through; ask something with /news first.")
            return
        self.show(await self.pager.move(step))

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
        """/latest [topic] [count]."""
        words = rest.split()
        count = 5
        if words and words[-1].isdigit():
            count = int(words.pop())
        self.show(await latest_reply(self.room, " ".join(words) or None, count))

    async def cmd_topics(self, rest: str) -> None:
        """/topics: topics with story counts."""
        self.show(await topics_reply(self.room))

    async def cmd_help(self, rest: str) -> None:
        """/help, plus the console's own words (next, prev, open N, quit)."""
        self.show(help_reply())
        self.console.print(Text("In the console also: " + ", ".join(WORDS), style="dim"))

    async def cmd_admin(self, rest: str) -> None:
        """/admin reload | stats | feeds … (sync needs Discord)."""
        sub = rest.split()[0].lower() if rest.split() else ""
        if sub == "reload":
            report = await self.room.reload(wait=False)
            self.show(reload_reply(report))
            if report.changed:
                await self.deliver_alerts()
        elif sub == "stats":
            self.show(await stats_reply(self.room))
        elif sub == "feeds":
            await console_feeds.run(self, rest.strip()[len(sub) :])
        elif sub == "sync":
            self.hint("/admin sync publishes commands to Discord; run `newsbot sync` with a token.")
        else:
            self.hint("Usage: /admin reload | /admin stats | /admin feeds …")

    async def cmd_subscribe(self, rest: str) -> None:
        """/subscribe <topic> [keywords=a,b] [min_quality=N]."""
        await console_alerts.subscribe(self, rest)

    async def cmd_unsubscribe(self, rest: str) -> None:
        """/unsubscribe <topic or #id>."""
        await console_alerts.unsubscribe(self, rest)

    async def cmd_subscriptions(self, rest: str) -> None:
        """/subscriptions: the console user's alerts."""
        await console_alerts.list_subscriptions(self)

    async def deliver_alerts(self) -> None:
        """Print every alert that is due (after reloads and rescans)."""
        await self.alerts.run_once()


# -- entry point ------------------------------------------------------------------


def make_console(no_color: bool = False) -> Console:
    """A rich console; colourless when asked or when stdout is not a terminal."""
    return Console(no_color=no_color or not sys.stdout.isatty(), highlight=False, soft_wrap=False)


async def _interactive(session: ConsoleSession, history: Path) -> None:
    # Lazy for start-up speed (~0.1 s): every `newsbot` command imports this
    # module, and only an interactive terminal needs prompt_toolkit.
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    try:
        prompt: PromptSession[str] = PromptSession(history=FileHistory(str(history)))
    except OSError:
        prompt = PromptSession()
    while True:
        try:
            line = await prompt.prompt_async("newsbot> ")
        except (EOFError, KeyboardInterrupt):
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


async def run_console(args: Any, settings: Settings) -> int:
    """`newsbot console`: run `-c` commands and exit, or read commands until quit."""
    console = make_console(getattr(args, "no_color", False))
    room = await Newsroom.open(settings)
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
        tasks.append(asyncio.create_task(FeedPoller(room.feeds).run()))
        console.print(
            Text(
                f"newsbot console: {(await room.store.stats())['stories']} stories. "
                "Type /help for commands, quit to leave. Try: " + DEMO_COMMAND,
                style="bold",
            )
        )
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
        await room.close()
