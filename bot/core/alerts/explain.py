""" "Why wasn't this sent?" and "what would an alert look like?" for one subscription.

`why` answers with what the outbox recorded (sent at T in message M, queued,
held for a digest, refused) or else the first rule that stopped the story,
from `matching.explain`: the very code that decides, not a second copy of the
rules. `preview` builds the alert the newest matching story would produce with
`landing.delivery_for`, which the dispatcher uses to send.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from bot.core.alerts.delivery import Delivery
from bot.core.alerts.landing import (
    CROSSPOST_LIMIT,
    CROSSPOST_WINDOW,
    delivery_for,
    digest_due,
)
from bot.core.alerts.matching import DEFAULT_MAX_AGE, Reason, explain
from bot.core.records import Article
from bot.core.store import Store
from bot.core.store.types import Subscription, SubscriptionRule

__all__ = ["PREVIEW_CANDIDATES", "Preview", "Verdict", "WhyAnswer", "preview", "rule_of", "why"]

# How many of the newest stories a preview looks through for one that matches.
PREVIEW_CANDIDATES = 300

Verdict = Literal["sent", "pending", "held", "failed", "stopped", "inactive", "unmatched"]


@dataclass(frozen=True, slots=True)
class WhyAnswer:
    """What happened to one story for one subscription.

    `verdict`: 'sent' (at `sent_at`, in `message_id`), 'pending' (queued, due at
    `due_at`), 'held' (folded by max_per_hour or waiting for the daily digest,
    due at `due_at`), 'failed' (refused by the chat service: `text` says why),
    'stopped' (a rule stopped it: `reason`), 'inactive' (the subscription is
    paused or disabled: `text` says why), 'unmatched' (it matches, but was
    stored while the subscription could not take it).
    """

    subscription: Subscription
    article_id: int
    title: str
    verdict: Verdict
    text: str
    reason: Reason | None = None
    sent_at: float | None = None
    message_id: int | None = None
    due_at: float | None = None

    @property
    def message_link(self) -> str | None:
        """A link to the alert message (channel alerts in a server only)."""
        sub = self.subscription
        if self.message_id is None or sub.guild_id is None or sub.channel_id is None:
            return None
        return f"https://discord.com/channels/{sub.guild_id}/{sub.channel_id}/{self.message_id}"


@dataclass(frozen=True, slots=True)
class Preview:
    """The message the newest matching story would produce: what the dispatcher would
    pass its sender (`articles`, `topic`, `delivery`) and where (`target`)."""

    subscription: Subscription
    target: str
    articles: tuple[Article, ...]
    topic: str
    delivery: Delivery


def rule_of(sub: Subscription) -> SubscriptionRule:
    """What matching knows of a subscription."""
    return SubscriptionRule(
        id=sub.id,
        topic_key=sub.topic_key,
        keywords=sub.keywords,
        min_quality=sub.min_quality,
        created_at=sub.created_at,
        guild_id=sub.guild_id,
    )


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


async def why(
    store: Store,
    subscription_id: int,
    article_id: int,
    *,
    now: float | None = None,
    max_age: float = DEFAULT_MAX_AGE,
) -> WhyAnswer | None:
    """Why this story was (not) sent for this subscription; None when either is gone.

    The rules are judged as matching judged them: at the time the story was
    stored (`now` overrides that), with the alert age limit `max_age`.
    """
    sub = await store.subscription(subscription_id)
    facts = await store.story_facts([article_id], since_ts=None)
    if sub is None or not facts:
        return None
    story = facts[0]

    def answer(verdict: Verdict, text: str, **kw: object) -> WhyAnswer:
        return WhyAnswer(sub, story.id, story.title, verdict, text, **kw)  # type: ignore[arg-type]

    entry = await store.outbox_entry(sub.id, story.id)
    if entry is not None and entry.state == "sent":
        at = entry.sent_at or entry.created_at
        return answer("sent", f"sent {_when(at)}", sent_at=at, message_id=entry.message_id)
    if entry is not None and entry.state == "failed":
        return answer("failed", f"refused when sent: {entry.last_error or 'no reason given'}")
    if sub.status != "active":
        why_not = sub.status_reason or "no reason recorded"
        return answer("inactive", f"the subscription is {sub.status}: {why_not}")
    if entry is not None:
        if sub.digest == "daily":
            due = max(entry.next_attempt_at, digest_due(entry.created_at, sub.digest_hour))
            return answer("held", f"in the daily digest of {_when(due)}", due_at=due)
        if entry.folded:
            due = entry.next_attempt_at
            text = f"held back by the cap of {sub.max_per_hour} an hour; digest due {_when(due)}"
            return answer("held", text, due_at=due)
        due = entry.next_attempt_at
        text = "queued, being sent" if due <= time.time() else f"queued; next try {_when(due)}"
        if entry.last_error:
            text += f" (last error: {entry.last_error})"
        return answer("pending", text, due_at=due)
    at = story.first_stored_at if now is None else now
    reason = explain(rule_of(sub), story, now=at, max_age=max_age)
    if reason is not None:
        return answer("stopped", reason.text, reason=reason)
    return answer(
        "unmatched",
        "it matches, but no alert was owed when it was stored (the subscription was "
        "paused or changed then)",
    )


async def preview(store: Store, subscription_id: int) -> Preview | None:
    """The alert the newest matching story would produce now, or None (no such story,
    or no such subscription). Ignores when the subscription was made and the age
    limit (a preview shows the past); mentions are in `delivery`, never sent."""
    sub = await store.subscription(subscription_id)
    if sub is None:
        return None
    # Judged as if each story had just been published and stored.
    rule = replace(rule_of(sub), created_at=float("-inf"))
    ids = await store.latest_ids(topic=sub.topic_key or None, limit=PREVIEW_CANDIDATES)
    facts = {f.id: f for f in await store.story_facts(ids, since_ts=None)}
    found = next(
        (
            f
            for i in ids
            if (f := facts.get(i)) is not None
            and f.published_ts is not None
            and explain(rule, f, now=f.published_ts, max_age=DEFAULT_MAX_AGE) is None
        ),
        None,
    )
    if found is None:
        return None
    articles = await store.get_articles([found.id])
    if not articles:
        return None
    channel = sub.channel_id is not None
    budget = False
    if channel and sub.publish:
        since = time.time() - CROSSPOST_WINDOW
        assert sub.channel_id is not None
        budget = len(await store.crossposts_since(sub.channel_id, since)) < CROSSPOST_LIMIT
    digest_at = digest_due(time.time(), sub.digest_hour) if sub.digest == "daily" else None
    delivery = delivery_for(
        sub.options,
        articles,
        topic=sub.label,
        topic_names=[t for a in articles for t in a.topics],
        channel=channel,
        digest_at=digest_at,
        publish=budget,
    )
    return Preview(sub, sub.target, tuple(articles), sub.label, delivery)
