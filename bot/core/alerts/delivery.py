"""What a `Sender` is: the contract between the dispatcher and a front end that delivers.

A sender delivers one message to one `Target` and returns a `SendResult` (which
stories the message holds), or raises a `DeliveryError` whose `kind` tells the
dispatcher what to do. `Delivery` says how the message lands (role ping, thread or
forum post, crosspost, edit of an earlier alert); the core decides all of it and the
sender only carries it out. `FailureNotice` is what a sender posts when a
subscription is paused or disabled. `bot.discord_app.sender` is the Discord one; the console
has its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.core.records import Article

ErrorKind = Literal[
    "rate_limited",
    "server_error",
    "timeout",
    "forbidden",
    "unknown_target",
    "dm_closed",
    "bad_request",
]


@dataclass(frozen=True, slots=True)
class Target:
    """Where alerts go: ``channel:<id>`` or ``user:<id>`` (a DM)."""

    kind: Literal["channel", "user"]
    id: int

    @classmethod
    def parse(cls, raw: str) -> Target:
        """Read ``channel:<id>`` or ``user:<id>``; raises ValueError for anything else."""
        kind, _, ident = raw.partition(":")
        if kind not in ("channel", "user") or not ident.isdigit():
            raise ValueError(f"not an alert target: {raw!r}")
        return cls(kind, int(ident))  # type: ignore[arg-type]

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


#: Discord's limit on a thread's (and a forum post's) name.
THREAD_NAME_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one message lands. The core fills it in (it already checked the crosspost
    budget and cut the thread name); the sender carries it out as given."""

    #: Ping exactly this role (allowed_mentions allows this role and nothing else).
    mention_role_id: int | None = None
    #: Start a thread (text channel) or make a forum post with this name (≤ 100 chars).
    thread_name: str | None = None
    #: Topic names; the sender applies the forum's tags whose names match (case-insensitive).
    forum_tags: tuple[str, ...] = ()
    #: Crosspost if the channel is an announcement channel.
    publish: bool = False
    #: Edit this earlier alert message instead of posting a new one.
    edit_message_id: int | None = None


#: A plain message: no ping, no thread, not published, not an edit.
PLAIN_DELIVERY = Delivery()


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the receiving end accepted: the message, and which stories it holds
    (a digest may not fit every story given; the rest are sent next), the thread it
    started (if any) and whether it was crossposted."""

    message_id: int | None
    article_ids: tuple[int, ...]
    thread_id: int | None = None
    published: bool = False


NoticeRoute = Literal["system", "creator"]


@dataclass(frozen=True, slots=True)
class FailureNotice:
    """Tells a server's admins that a subscription was paused or disabled: posted in
    the server's system channel (`route` 'system', falling back to the creator when
    there is none) or sent to the creator (`user_id`) by DM."""

    guild_id: int | None
    user_id: int | None
    subscription_id: int
    text: str
    route: NoticeRoute


class DeliveryError(Exception):
    """A message was not delivered. `kind` decides what the dispatcher does."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str = "",
        *,
        retry_after: float | None = None,
        code: int | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message or kind)
        self.kind: ErrorKind = kind
        self.message = message or kind
        self.retry_after = retry_after
        self.code = code
        self.status = status

    def __repr__(self) -> str:
        return f"DeliveryError({self.kind!r}, {self.message!r}, code={self.code})"


class Sender(Protocol):
    """Delivers alert messages to targets (the Discord sender, the console's)."""

    async def send(
        self,
        target: Target,
        articles: Sequence[Article],
        *,
        topic: str,
        nonce: str,
        delivery: Delivery = PLAIN_DELIVERY,
    ) -> SendResult:
        """Deliver one message with (as many as fit of) `articles`, oldest first,
        landing as `delivery` says.

        `nonce` (≤25 chars) identifies this exact message: sending it again with
        the same nonce must not create a second one (Discord: `enforce_nonce`).
        With `delivery.edit_message_id` the sender edits that message instead and
        returns its id. Raise DeliveryError on failure; return which articles the
        message holds.
        """
        ...

    async def find_thread(self, target: Target, name: str) -> int | None:
        """The id of a thread (or forum post) named `name` in `target` that an earlier
        attempt created, or None. Threads take no nonce, so after a crash the dispatcher
        asks before creating another."""
        ...

    async def notify(self, notice: FailureNotice) -> None:
        """Deliver a failure notice. Errors are the sender's to swallow and log: a
        notice that cannot be delivered is not retried (never a loop of notices)."""
        ...
