"""How an alert message looks: content (the role ping), embeds, link buttons, mentions.

The Discord sender posts exactly what `alert_message` builds, and the preview
(`/subscriptions preview`, the console's) shows the very same message, so a
preview is what is later sent. Only the content can ping, and it holds nothing
but the subscription's role mention; every piece of article text is in embeds,
which never ping, and `allowed_mentions` allows that one role and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.core.alerts.delivery import PLAIN_DELIVERY, THREAD_NAME_LIMIT, Delivery
from bot.core.alerts.explain import WhyAnswer
from bot.core.records import Article
from bot.replies.embeds import COLOUR_WARN, alert_embeds, info_embed, story_buttons
from bot.replies.reply import Reply
from bot.replies.sanitize import NO_MENTIONS, plain
from bot.replies.truncate import truncate

# A forum post takes at most this many tags.
MAX_FORUM_TAGS = 5


@dataclass(slots=True)
class AlertMessage:
    """One alert message as it is sent: `content` (the role ping, or None), embeds, link
    buttons (a single story's), what may ping, and which stories it holds."""

    content: str | None
    embeds: list[discord.Embed]
    buttons: list[discord.ui.Button[Any]] = field(default_factory=list)
    allowed_mentions: discord.AllowedMentions = NO_MENTIONS
    article_ids: tuple[int, ...] = ()

    def view(self) -> discord.ui.View | None:
        """The buttons as a persistent view (link buttons need no callback), or None."""
        if not self.buttons:
            return None
        view = discord.ui.View(timeout=None)
        for b in self.buttons:
            view.add_item(b)
        return view

    def payload(self) -> dict[str, Any]:
        """What goes on the wire (content, embeds, components, allowed_mentions), for
        comparing a preview with what was sent."""
        view = self.view()
        return {
            "content": self.content or "",
            "embeds": [e.to_dict() for e in self.embeds],
            "components": view.to_components() if view is not None else [],
            "allowed_mentions": self.allowed_mentions.to_dict(),
        }


def role_mention(role_id: int) -> str:
    """Discord's mention syntax for a role."""
    return f"<@&{int(role_id)}>"


def mentions_for(delivery: Delivery) -> discord.AllowedMentions:
    """Allow exactly the subscription's role (or nothing): never users, never @everyone."""
    if delivery.mention_role_id is None:
        return NO_MENTIONS
    return discord.AllowedMentions(
        everyone=False,
        users=False,
        roles=[discord.Object(id=delivery.mention_role_id)],
        replied_user=False,
    )


def alert_message(
    articles: Sequence[Article], *, topic: str, delivery: Delivery = PLAIN_DELIVERY
) -> AlertMessage:
    """The message for (as many as fit of) `articles`, oldest first: one compact embed
    each (10 and 6000 characters at most), the story's link buttons when there is one,
    and the role ping of `delivery` as the only content."""
    embeds = alert_embeds(articles, topic=topic)
    held = tuple(a.id for a in articles[: len(embeds)])
    buttons = story_buttons(articles[0]) if len(embeds) == 1 else []
    content = role_mention(delivery.mention_role_id) if delivery.mention_role_id else None
    return AlertMessage(content, embeds, buttons, mentions_for(delivery), held)


def thread_name(name: str) -> str:
    """A thread (or forum post) name Discord accepts: one clean line of at most 100
    characters, never empty."""
    return truncate(plain(name), THREAD_NAME_LIMIT) or "News"


@dataclass(frozen=True, slots=True)
class ForumTag:
    """One of a forum channel's available tags (from the cache or from Discord's JSON)."""

    id: int
    name: str
    moderated: bool = False


def forum_tag_ids(tags: Sequence[ForumTag], wanted: Sequence[str]) -> list[int]:
    """The ids of the forum's tags named like `wanted` (case-insensitive), in the order of
    `wanted`, at most five. Moderated tags are left alone: applying one needs Manage
    Threads, and a moderator chose to keep them for themselves."""
    by_name = {t.name.casefold(): t for t in tags if not t.moderated}
    out: list[int] = []
    for name in wanted:
        tag = by_name.get(name.casefold())
        if tag is not None and tag.id not in out:
            out.append(tag.id)
    return out[:MAX_FORUM_TAGS]


def delivery_notes(delivery: Delivery, *, where: str) -> list[str]:
    """What else happens when the message lands, in words (a preview shows them)."""
    notes = [f"Would be posted {where}."]
    if delivery.mention_role_id is not None:
        notes.append("The role above is pinged (nobody else); not in this preview.")
    if delivery.thread_name:
        name = thread_name(delivery.thread_name)
        notes.append(f"Starts a thread (in a forum: a post) named “{name}”.")
    if delivery.forum_tags:
        tags = ", ".join(plain(t) for t in delivery.forum_tags)
        notes.append(f"In a forum, tagged with the tags named: {tags}.")
    if delivery.publish:
        notes.append("Published to the servers following this announcement channel.")
    return notes


def preview_reply(message: AlertMessage, delivery: Delivery, *, where: str) -> Reply:
    """`/subscriptions preview`: privately, the alert exactly as it would be sent (its
    content shows the role mention, which does not ping here), then a note saying how it
    would land."""
    note = info_embed(
        "Preview",
        [],
        description="\n".join(delivery_notes(delivery, where=where)),
        colour=COLOUR_WARN,
    )
    return Reply(
        [*message.embeds, note][:10],
        list(message.buttons),
        ephemeral=True,
        content=message.content,
    )


# A channel mention, as `escape` breaks it: it never pings, so the notice may link it.
_BROKEN_CHANNEL = re.compile("<\u200b#(\\d{1,20})>")


def failure_notice_embed(text: str) -> discord.Embed:
    """The notice a server's admins get when a subscription is paused or disabled (its
    text escaped, channel mentions kept as links)."""
    embed = info_embed("News alerts stopped", [], description=text, colour=COLOUR_WARN)
    if embed.description:
        embed.description = _BROKEN_CHANNEL.sub(r"<#\1>", embed.description)
    return embed


_VERDICT_TITLES = {
    "sent": "Sent",
    "pending": "On its way",
    "held": "Held for a digest",
    "failed": "Refused by Discord",
    "stopped": "Not sent",
    "inactive": "Not sent: the subscription is not active",
    "unmatched": "Not sent",
}


def why_reply(answer: WhyAnswer, *, label: str) -> Reply:
    """`/subscriptions why`, privately: the story, the subscription, and the first rule
    that stopped it (or when and where it was sent, with a link to the message)."""
    fields = [("Story", plain(answer.title) or f"#{answer.article_id}"), ("Subscription", label)]
    text = answer.text
    link = answer.message_link
    if link:
        text += f"\n{link}"
    title = _VERDICT_TITLES.get(answer.verdict, "Why")
    return Reply(
        [info_embed(title, fields, description=text, inline=False)],
        ephemeral=True,
    )
