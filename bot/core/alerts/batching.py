"""Which outbox rows go out together in the next message to one target (`next_batch`).

Rows travel in *lanes*: alerts of subscriptions with default options share one
lane (a digest of several subscriptions' stories, as before options existed);
any other subscription has its own lane, because its messages land differently
(a role ping, a thread, a crosspost); rows a max_per_hour cap held back
(`folded`) form a lane of that subscription's held rows, sent as one digest when
the cap allows; a daily digest has one lane per day, due at its hour. Within a
lane the oldest stories go first; a thread per story means one story a message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.core.alerts.landing import digest_due
from bot.core.alerts.matching import nonce_for
from bot.core.store.types import PLAIN_OPTIONS, AlertOptions, PendingAlert

__all__ = ["MAX_BATCH", "Batch", "Lane", "lane_of", "next_batch"]

MAX_BATCH = 10  # Discord's embeds per message

LaneKind = Literal["plain", "own", "folded", "daily"]


@dataclass(frozen=True, slots=True)
class Lane:
    """The messages a row may share: its `kind`, its subscription (0 for 'plain') and,
    for a daily digest, when that day's digest goes out (`due`)."""

    kind: LaneKind
    subscription_id: int = 0
    due: float = 0.0


def lane_of(row: PendingAlert) -> Lane:
    """The lane a pending row travels in (see the module's docstring)."""
    o = row.options
    if o.digest == "daily":
        return Lane("daily", row.subscription_id, digest_due(row.created_at, o.digest_hour))
    if row.folded:
        return Lane("folded", row.subscription_id)
    if o.plain:
        return Lane("plain")
    return Lane("own", row.subscription_id)


@dataclass(slots=True)
class Batch:
    """One message's outbox rows for one target, and its nonce (`claimed`: a retry, sent as is)."""

    rows: list[PendingAlert]
    nonce: str
    claimed: bool

    @property
    def lane(self) -> Lane:
        """The lane of its rows (one lane per batch)."""
        return lane_of(self.rows[0])

    @property
    def options(self) -> AlertOptions:
        """How it lands: its subscription's options (the defaults for a shared digest)."""
        return self.rows[0].options if self.lane.kind != "plain" else PLAIN_OPTIONS

    @property
    def digest_at(self) -> float | None:
        """When this digest goes out (daily, or what a cap held back); None: alerts."""
        lane = self.lane
        if lane.kind == "daily":
            return lane.due
        if lane.kind == "folded":
            return max(r.next_attempt_at for r in self.rows)
        return None

    @property
    def row_ids(self) -> list[int]:
        """The ids of its outbox rows."""
        return [r.row_id for r in self.rows]

    @property
    def article_ids(self) -> list[int]:
        """Distinct stories, oldest first (two subscriptions of one channel share a story)."""
        ordered = sorted(self.rows, key=_story_order)
        return list(dict.fromkeys(r.article_id for r in ordered))

    @property
    def topic(self) -> str:
        """The digest's label: its topics, in the order of their first story."""
        ordered = sorted(self.rows, key=lambda r: (*_story_order(r)[:2], r.topic))
        return " · ".join(dict.fromkeys(r.topic for r in ordered))

    @property
    def due_at(self) -> float:
        """The next due time of this batch: the latest of its rows' `next_attempt_at`
        (and, for a daily digest, its hour)."""
        return max(self.lane.due, max(r.next_attempt_at for r in self.rows))

    @property
    def attempts(self) -> int:
        """Delivery attempts so far: the most any of its rows has had."""
        return max(r.attempts for r in self.rows)


def _story_order(r: PendingAlert) -> tuple[float, int, int]:
    return (r.published_ts if r.published_ts is not None else 0.0, r.article_id, r.row_id)


def _lane_batch(rows: list[PendingAlert], max_batch: int) -> Batch:
    rows.sort(key=_story_order)
    o = rows[0].options
    size = 1 if o.thread and lane_of(rows[0]).kind == "own" else max_batch
    chosen = set(list(dict.fromkeys(r.article_id for r in rows))[:size])
    picked = [r for r in rows if r.article_id in chosen]
    return Batch(picked, nonce_for(r.row_id for r in picked), claimed=False)


def next_batch(
    rows: Sequence[PendingAlert], max_batch: int = MAX_BATCH, *, now: float | None = None
) -> Batch | None:
    """The next message for one target.

    A claimed batch goes first and exactly as claimed (it may already exist on
    Discord's side). Otherwise, of each lane's next message (its oldest
    `max_batch` distinct stories, with every row of the lane that carries one),
    the one with the oldest story among those due at `now` (None: all count as
    due); when none is due, the one due soonest.
    """
    claimed: dict[str, list[PendingAlert]] = {}
    lanes: dict[Lane, list[PendingAlert]] = {}
    for r in rows:
        if r.batch:
            claimed.setdefault(r.batch, []).append(r)
        else:
            lanes.setdefault(lane_of(r), []).append(r)
    if claimed:
        nonce, group = min(claimed.items(), key=lambda kv: min(_story_order(r) for r in kv[1]))
        return Batch(group, nonce, claimed=True)
    if not lanes:
        return None
    batches = [_lane_batch(group, max_batch) for group in lanes.values()]
    due = [b for b in batches if now is None or b.due_at <= now]
    if due:
        return min(due, key=lambda b: min(_story_order(r) for r in b.rows))
    return min(batches, key=lambda b: b.due_at)
