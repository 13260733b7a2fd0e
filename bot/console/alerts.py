"""Subscriptions and alerts in the console: the same store, rules and dispatcher as Discord.

The console has one user (`CONSOLE_USER_ID`); their subscriptions are personal
("DM") ones, and the dispatcher's sender prints the alert embeds instead of
posting them. The outbox ledger makes each alert print once.

The commands take the session as a `Screen` (its newsroom and its two ways of
printing), so this module does not import the session that calls it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rich.console import Console
from rich.text import Text

from bot.console.options import parse_options
from bot.console.panels import embed_panel
from bot.core.alerts import subscriptions
from bot.core.alerts.delivery import SendResult, Target
from bot.core.alerts.dispatch import Dispatcher
from bot.core.alerts.pacing import Pacer
from bot.core.newsroom import Newsroom
from bot.core.records import Article
from bot.core.store import Store
from bot.replies.embeds import alert_batches, info_embed
from bot.replies.reply import Reply
from bot.replies.subscriptions import subscriptions_reply

CONSOLE_USER_ID = 0


class Screen(Protocol):
    """What the subscription commands need of a console session."""

    @property
    def room(self) -> Newsroom:
        """The newsroom whose store holds the subscriptions."""
        ...

    def show(self, reply: Reply) -> None:
        """Print a reply."""
        ...

    def hint(self, text: str) -> None:
        """Print a one-line note (usage, a refusal)."""
        ...


class ConsoleSender:
    """A dispatcher `Sender` that prints alert digests to a console."""

    def __init__(self, console: Console) -> None:
        self.console = console

    async def send(
        self, target: Target, articles: Sequence[Article], *, topic: str, nonce: str
    ) -> SendResult:
        """Print the digest's heading and its embeds; every story counts as delivered."""
        console = self.console
        plural = "story" if len(articles) == 1 else "stories"
        console.print(Text(f"🔔 Alert: {len(articles)} new {plural} in {topic}", style="bold red"))
        for batch in alert_batches(list(articles), topic=topic):
            for embed in batch:
                console.print(embed_panel(embed, console.width))
        return SendResult(message_id=None, article_ids=tuple(a.id for a in articles if a.id))


def console_dispatcher(store: Store, console: Console) -> Dispatcher:
    """The dispatcher that prints the console user's alerts (`run_once` after each reload)."""
    # A terminal has no rate limits worth pacing for.
    return Dispatcher(
        store,
        ConsoleSender(console),
        pacer=Pacer(per_target=(10_000, 1.0), overall=(10_000, 1.0)),
    )


async def subscribe(session: Screen, rest: str) -> None:
    """/subscribe <topic> [keywords=a,b] [min_quality=N] for the console user."""
    text, opts = parse_options(rest)
    if not text:
        session.hint("Usage: /subscribe <topic> [keywords=word,word] [min_quality=N]")
        return
    topic = await session.room.searcher.resolve_topic(text)
    if topic is None:
        close = await session.room.searcher.topic_choices(text, limit=3)
        session.hint(
            f"No topic like {text!r}." + (f" Did you mean: {', '.join(close)}?" if close else "")
        )
        return
    try:
        quality = float(opts.get("min_quality", "0") or 0)
    except ValueError:
        session.hint("min_quality must be a number from 0 to 100.")
        return
    try:
        sub, how = await subscriptions.subscribe(
            session.room.store,
            topic=topic,
            user_id=CONSOLE_USER_ID,
            guild_id=None,
            channel_id=None,
            keywords=opts.get("keywords", "").replace(",", " "),
            min_quality=quality,
            limits=subscriptions.Limits.from_settings(session.room.settings),
        )
    except subscriptions.SubscriptionError as exc:
        session.hint(str(exc))
        return
    verb = "Resumed" if how == "resumed" else "Subscribed to"
    extra = f" ({sub.filters()})" if sub.filters() else ""
    session.show(
        Reply(
            [
                info_embed(
                    f"{verb} {sub.topic}",
                    [],
                    description=f"New {sub.topic} stories will be printed here{extra}, once each "
                    "(after /admin reload or the periodic rescan).",
                )
            ]
        )
    )


async def unsubscribe(session: Screen, rest: str) -> None:
    """/unsubscribe <topic or #id>: remove the console user's matching subscriptions."""
    subs = await subscriptions.personal(session.room.store, CONSOLE_USER_ID)
    wanted = rest.strip().lstrip("#")
    match = [s for s in subs if wanted.isdigit() and s.id == int(wanted)]
    if not match and wanted.isdigit():
        session.hint(f"You have no subscription #{wanted}; /subscriptions lists yours.")
        return
    if not match and wanted:
        topic = await session.room.searcher.resolve_topic(wanted)
        match = [s for s in subs if topic and s.topic_key == topic.casefold()]
    if not match and wanted:
        session.hint(f"You have no subscription to {wanted!r}; /subscriptions lists yours.")
        return
    if not match:
        session.hint("Usage: /unsubscribe <topic or #id>; /subscriptions lists yours.")
        return
    for sub in match:
        await subscriptions.remove(
            session.room.store,
            sub.id,
            user_id=CONSOLE_USER_ID,
            guild_id=None,
            may_manage_channel=lambda _s: False,
        )
    names = ", ".join(f"#{s.id} {s.topic}" for s in match)
    session.show(Reply([info_embed("Unsubscribed", [], description=names)]))


async def list_subscriptions(session: Screen) -> None:
    """/subscriptions: the console user's subscriptions, listed as Discord lists them."""
    subs = await subscriptions.personal(session.room.store, CONSOLE_USER_ID)
    session.show(
        subscriptions_reply(
            subs,
            channel_label=_console_label,
            mine_title="Your subscriptions",
            mine_empty="None yet: try /subscribe Computer Vision",
        )
    )


def _console_label(_sub: subscriptions.Subscription) -> str:
    # The console user's subscriptions are all personal ones: alerts print here.
    return "this console"
