"""What the subscription commands answer: the list, and the subscribe/unsubscribe notes.

Built once for every front end. Only the front end knows what to call a
subscription's destination (Discord knows a guild's channel names, the console
does not), so the builders take a `ChannelLabel` for that.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import discord

from bot.core.alerts.subscriptions import Subscribed, Subscription
from bot.replies.embeds import info_embed
from bot.replies.enforce import enforce_limits
from bot.replies.reply import Reply, message_reply

# Where a subscription's alerts go, as shown to the user: "#alerts", "DM".
ChannelLabel = Callable[[Subscription], str]

# One field is left for the "and N more" line.
_MAX_LISTED = 24


def subscription_label(sub: Subscription, channel_label: ChannelLabel) -> str:
    """'Computer Vision → #alerts · keywords: robot · paused' (autocomplete, notes)."""
    parts = [f"{sub.label} → {channel_label(sub)}"]
    if sub.filters():
        parts.append(sub.filters())
    if sub.status != "active":
        parts.append(sub.status)
    return " · ".join(parts)


def _since(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d")


def _field(sub: Subscription, channel_label: ChannelLabel) -> tuple[str, str]:
    name = f"{sub.label} → {channel_label(sub)}"
    lines = [sub.state()]
    if sub.filters():
        lines.append(sub.filters())
    if sub.options.describe():
        lines.append(sub.options.describe())
    lines.append(f"since {_since(sub.created_at)} · #{sub.id}")
    return name, "\n".join(lines)


def subscription_list(
    title: str, items: Sequence[Subscription], *, channel_label: ChannelLabel, empty: str
) -> discord.Embed:
    """One embed listing ``items`` (a field each: destination, state, filters,
    since when, id), or ``empty`` when there are none."""
    shown = items[:_MAX_LISTED]
    fields = [_field(s, channel_label) for s in shown]
    if len(items) > len(shown):
        fields.append(("…", f"and {len(items) - len(shown)} more"))
    return info_embed(title, fields, description=None if items else empty, inline=False)


def subscriptions_reply(
    mine: Sequence[Subscription],
    *,
    channel_label: ChannelLabel,
    here: Sequence[Subscription] | None = None,
    mine_title: str = "Your DM alerts",
    mine_empty: str = "None yet: /subscribe without a channel.",
) -> Reply:
    """/subscriptions, privately: the server's channel alerts (``here``, when
    asked in a server) and the invoker's own (``mine``)."""
    embeds = []
    if here is not None:
        embeds.append(
            subscription_list(
                "Alerts in this server",
                here,
                channel_label=channel_label,
                empty="No channel alerts here yet: /subscribe with a channel.",
            )
        )
    embeds.append(
        subscription_list(mine_title, mine, channel_label=channel_label, empty=mine_empty)
    )
    return Reply(enforce_limits(embeds), ephemeral=True)


def subscribed_reply(done: Subscribed, *, where: str) -> Reply:
    """/subscribe done: what will be posted ``where`` ("in #alerts", "to you by DM"),
    how (its options), and for a topic no story has yet, that alerts come when one
    arrives (with a close existing topic to consider, never applied by itself)."""
    sub, outcome = done.subscription, done.outcome
    if sub.topic:
        text = f"New {sub.topic} stories will be posted {where}."
    else:
        text = f"New stories naming {' or '.join(sub.keywords)} will be posted {where}."
    if sub.filters():
        text += f" Only those with {sub.filters()}."
    if sub.options.describe():
        text += f" How: {sub.options.describe()}."
    if not done.known_topic:
        text += f" No {sub.topic} stories yet; you will be alerted when one arrives."
        if done.suggestion:
            text += f" (Did you mean {done.suggestion}? Subscribe to that too if so.)"
    if outcome == "resumed":
        title = "Subscription resumed"
        text += " Alerts held back while it was paused are on their way."
    elif outcome == "updated":
        title = "Subscription updated"
    else:
        title = "Subscribed"
        if sub.channel_id is None:
            text += " Make sure your privacy settings let me send you direct messages."
    return message_reply(title, text)


def unsubscribed_reply(sub: Subscription, *, channel_label: ChannelLabel) -> Reply:
    """/unsubscribe done: which subscription was removed."""
    text = f"Removed: {subscription_label(sub, channel_label)}. No more alerts from it."
    return message_reply("Unsubscribed", text)
