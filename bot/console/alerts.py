"""Subscriptions and alerts in the console: the same store, rules and dispatcher as Discord.

The console has one user (`CONSOLE_USER_ID`); their subscriptions are personal
("DM") ones, and the dispatcher's sender prints the alert embeds instead of
posting them. The outbox ledger makes each alert print once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text

from bot.core.alerts import subscriptions
from bot.core.alerts.dispatch import Dispatcher, Pacer, SendResult, Target
from bot.core.records import Article
from bot.replies import render
from bot.replies.answers import Reply

if TYPE_CHECKING:
    from bot.console.session import ConsoleSession

CONSOLE_USER_ID = 0


class ConsoleSender:
    """A dispatcher `Sender` that prints alert digests to the session's console."""

    def __init__(self, session: ConsoleSession) -> None:
        self.session = session

    async def send(
        self, target: Target, articles: Sequence[Article], *, topic: str, nonce: str
    ) -> SendResult:
        from bot.console.session import embed_panel

        console = self.session.console
        plural = "story" if len(articles) == 1 else "stories"
        console.print(Text(f"🔔 Alert: {len(articles)} new {plural} in {topic}", style="bold red"))
        for batch in render.alert_batches(list(articles), topic=topic):
            for embed in batch:
                console.print(embed_panel(embed))
        return SendResult(message_id=None, article_ids=tuple(a.id for a in articles if a.id))


def _dispatcher(session: ConsoleSession) -> Dispatcher:
    if session.alerts is None:
        # A terminal has no rate limits worth pacing for.
        session.alerts = Dispatcher(
            session.room.store,
            ConsoleSender(session),
            pacer=Pacer(per_target=(10_000, 1.0), overall=(10_000, 1.0)),
        )
    return session.alerts


async def deliver(session: ConsoleSession) -> None:
    """Print every alert that is due (called after reloads and rescans)."""
    await _dispatcher(session).run_once()


def _limits(session: ConsoleSession) -> subscriptions.Limits:
    s = session.room.settings
    return subscriptions.Limits(per_guild=s.max_subs_per_guild, per_user=s.max_subs_per_user)


async def subscribe(session: ConsoleSession, rest: str) -> None:
    from bot.console.session import parse_options

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
            limits=_limits(session),
        )
    except subscriptions.SubscriptionError as exc:
        session.hint(str(exc))
        return
    verb = "Resumed" if how == "resumed" else "Subscribed to"
    extra = f" ({sub.filters()})" if sub.filters() else ""
    session.show(
        Reply(
            [
                render.info_embed(
                    f"{verb} {sub.topic}",
                    [],
                    description=f"New {sub.topic} stories will be printed here{extra}, once each "
                    "(after /admin reload or the periodic rescan).",
                )
            ]
        )
    )


async def unsubscribe(session: ConsoleSession, rest: str) -> None:
    subs = await subscriptions.personal(session.room.store, CONSOLE_USER_ID)
    wanted = rest.strip().lstrip("#")
    match = [s for s in subs if wanted.isdigit() and s.id == int(wanted)]
    if not match and wanted:
        topic = await session.room.searcher.resolve_topic(wanted)
        match = [s for s in subs if topic and s.topic_key == topic.casefold()]
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
    session.show(Reply([render.info_embed("Unsubscribed", [], description=names)]))


async def list_subscriptions(session: ConsoleSession) -> None:
    subs = await subscriptions.personal(session.room.store, CONSOLE_USER_ID)
    if not subs:
        session.show(
            Reply(
                [
                    render.info_embed(
                        "Your subscriptions",
                        [],
                        description="None yet: try /subscribe Computer Vision",
                    )
                ]
            )
        )
        return
    fields = [
        (f"#{s.id} {s.topic}", " · ".join(p for p in (s.state(), s.filters()) if p)) for s in subs
    ]
    session.show(Reply([render.info_embed("Your subscriptions", fields, inline=False)]))
