"""Subscriptions and alerts in the console: the same store, rules and dispatcher as Discord.

The console has one user (`CONSOLE_USER_ID`); their subscriptions are personal
("DM") ones, and the dispatcher's sender prints the alert embeds instead of
posting them (a thread, a role ping or an edit, which only channel alerts have,
is printed as a line of text). The outbox ledger makes each alert print once.
`/subscriptions why` and `/subscriptions preview` answer from the same core
functions as Discord's.

The commands take the session as a `Screen` (its newsroom and its two ways of
printing), so this module does not import the session that calls it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

from rich.console import Console
from rich.text import Text

from bot.console.options import parse_options
from bot.console.panels import embed_panel
from bot.core.alerts import subscriptions
from bot.core.alerts.delivery import PLAIN_DELIVERY, Delivery, FailureNotice, SendResult, Target
from bot.core.alerts.dispatch import Dispatcher
from bot.core.alerts.pacing import Pacer
from bot.core.newsroom import Newsroom
from bot.core.records import Article
from bot.core.store import Store
from bot.core.store.types import AlertOptions
from bot.replies.alerts import alert_message, delivery_notes, preview_reply, why_reply
from bot.replies.embeds import alert_batches, info_embed
from bot.replies.reply import Reply
from bot.replies.subscriptions import subscribed_reply, subscriptions_reply

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
        self._threads: dict[tuple[str, str], int] = {}
        # Message ids unique across sessions (milliseconds, then counted up): an edited
        # story finds the alert it was printed in by its id.
        self._next_id = int(time.time() * 1000)

    async def send(
        self,
        target: Target,
        articles: Sequence[Article],
        *,
        topic: str,
        nonce: str,
        delivery: Delivery = PLAIN_DELIVERY,
    ) -> SendResult:
        """Print the digest's heading, how it lands (as text) and its embeds; every
        story counts as delivered."""
        console = self.console
        plural = "story" if len(articles) == 1 else "stories"
        if delivery.edit_message_id is not None:
            heading = f"✏️ Alert updated: {len(articles)} {plural} in {topic}"
        else:
            heading = f"🔔 Alert: {len(articles)} new {plural} in {topic}"
        console.print(Text(heading, style="bold red"))
        for note in delivery_notes(delivery, where="here")[1:]:
            console.print(Text(f"  ({note})", style="dim"))
        for batch in alert_batches(list(articles), topic=topic):
            for embed in batch:
                console.print(embed_panel(embed, console.width))
        message_id = delivery.edit_message_id
        if message_id is None:
            self._next_id += 1
            message_id = self._next_id
        thread_id = None
        if delivery.thread_name:
            thread_id = message_id
            self._threads[(str(target), delivery.thread_name)] = thread_id
        return SendResult(
            message_id=message_id,
            article_ids=tuple(a.id for a in articles if a.id),
            thread_id=thread_id,
        )

    async def find_thread(self, target: Target, name: str) -> int | None:
        """A thread this console printed under that name (a terminal keeps no others)."""
        return self._threads.get((str(target), name))

    async def notify(self, notice: FailureNotice) -> None:
        """Print a failure notice."""
        self.console.print(Text(f"⚠ {notice.text}", style="bold yellow"))


def console_dispatcher(store: Store, console: Console) -> Dispatcher:
    """The dispatcher that prints the console user's alerts (`run_once` after each reload)."""
    # A terminal has no rate limits worth pacing for.
    return Dispatcher(
        store,
        ConsoleSender(console),
        pacer=Pacer(per_target=(10_000, 1.0), overall=(10_000, 1.0)),
    )


SUBSCRIBE_USAGE = (
    "Usage: /subscribe <topic> [keywords=a,b] [min_quality=N] [max_per_hour=N] "
    "[digest=daily digest_hour=H] [on_update=edit]; or /subscribe keywords=a,b alone"
)


def _options(opts: dict[str, str]) -> AlertOptions:
    """The console's `key=value` alert options; ValueError naming the bad one."""

    def number(key: str) -> int | None:
        raw = opts.get(key, "").strip()
        if not raw:
            return None
        if not raw.isdigit():
            raise ValueError(f"{key} must be a whole number, not {raw!r}.")
        return int(raw)

    digest = opts.get("digest", "off").strip().lower() or "off"
    on_update = opts.get("on_update", "ignore").strip().lower() or "ignore"
    return subscriptions.check_options(
        AlertOptions(
            max_per_hour=number("max_per_hour"),
            digest=digest,  # type: ignore[arg-type]
            digest_hour=number("digest_hour") or 0,
            on_update=on_update,  # type: ignore[arg-type]
        ),
        personal=True,
    )


async def subscribe(session: Screen, rest: str) -> None:
    """/subscribe <topic> [options]: a topic (known or not yet), keywords, or both."""
    text, opts = parse_options(rest)
    keywords = opts.get("keywords", "").replace(",", " ")
    if not text and not keywords.strip():
        session.hint(SUBSCRIBE_USAGE)
        return
    unknown = set(opts) - {
        "keywords",
        "min_quality",
        "max_per_hour",
        "digest",
        "digest_hour",
        "on_update",
    }
    if unknown:
        session.hint(f"Unknown option {sorted(unknown)[0]}=. {SUBSCRIBE_USAGE}")
        return
    # A topic no story has yet is followed as typed (feeds add topics every day).
    topic = (await session.room.searcher.resolve_topic(text) or text) if text else None
    try:
        quality = float(opts.get("min_quality", "0") or 0)
    except ValueError:
        session.hint("min_quality must be a number from 0 to 100.")
        return
    try:
        options = _options(opts)
        done = await subscriptions.subscribe(
            session.room.store,
            topic=topic,
            user_id=CONSOLE_USER_ID,
            guild_id=None,
            channel_id=None,
            keywords=keywords,
            min_quality=quality,
            options=options,
            limits=subscriptions.Limits.from_settings(session.room.settings),
        )
    except (subscriptions.SubscriptionError, ValueError) as exc:
        session.hint(str(exc))
        return
    session.show(subscribed_reply(done, where="here (after /admin reload or the periodic rescan)"))


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
    names = ", ".join(f"#{s.id} {s.label}" for s in match)
    session.show(Reply([info_embed("Unsubscribed", [], description=names)]))


async def subscriptions_command(session: Screen, rest: str) -> None:
    """/subscriptions [list] | preview <#id> | why <#id> <story title or #id>."""
    verb, _, args = rest.strip().partition(" ")
    verb = verb.lower()
    if verb in ("", "list"):
        await list_subscriptions(session)
    elif verb == "preview":
        await preview(session, args)
    elif verb == "why":
        await why(session, args)
    else:
        session.hint(
            "Usage: /subscriptions [list] | /subscriptions preview <#id> | "
            "/subscriptions why <#id> <story title or #id>"
        )


async def _own(session: Screen, raw: str) -> subscriptions.Subscription | None:
    """The console user's subscription `#id`, or None (with a hint)."""
    wanted = raw.strip().lstrip("#")
    subs = await subscriptions.personal(session.room.store, CONSOLE_USER_ID)
    found = next((s for s in subs if wanted.isdigit() and s.id == int(wanted)), None)
    if found is None:
        session.hint(f"No subscription #{wanted} of yours; /subscriptions lists them.")
    return found


async def preview(session: Screen, rest: str) -> None:
    """/subscriptions preview <#id>: the alert the newest matching story would print."""
    sub = await _own(session, rest)
    if sub is None:
        return
    shown = await subscriptions.preview(session.room.store, sub.id)
    if shown is None:
        session.hint(f"No stored story matches #{sub.id} {sub.label} yet.")
        return
    message = alert_message(shown.articles, topic=shown.topic, delivery=shown.delivery)
    session.show(preview_reply(message, shown.delivery, where="here"))


async def why(session: Screen, rest: str) -> None:
    """/subscriptions why <#id> <story title or #id>: why that story was (not) sent."""
    first, _, story = rest.strip().partition(" ")
    sub = await _own(session, first)
    if sub is None:
        return
    story = story.strip()
    if story.lstrip("#").isdigit():
        article_id: int | None = int(story.lstrip("#"))
    else:
        # The story a title names: the best hit of it as a question.
        hits = (await session.room.searcher.ask(story, limit=1)).hits if story else []
        article_id = hits[0].article_id if hits else None
    if article_id is None:
        session.hint("Usage: /subscriptions why <#id> <story title or #id>")
        return
    answer = await subscriptions.why(
        session.room.store, sub.id, article_id, max_age=session.room.settings.alert_max_age
    )
    if answer is None:
        session.hint(f"No story #{article_id}.")
        return
    session.show(why_reply(answer, label=f"#{sub.id} {sub.label} → this console"))


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
