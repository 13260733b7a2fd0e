"""What a `Sender` is: the contract between the dispatcher and a front end that delivers.

A sender delivers one message to one `Target` and returns a `SendResult` (which
stories the message holds), or raises a `DeliveryError` whose `kind` tells the
dispatcher what to do. `bot.discord_app.sender` is the Discord one; the console
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


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the receiving end accepted: the message, and which stories it holds
    (a digest may not fit every story given; the rest are sent next)."""

    message_id: int | None
    article_ids: tuple[int, ...]


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
        self, target: Target, articles: Sequence[Article], *, topic: str, nonce: str
    ) -> SendResult:
        """Deliver one message with (as many as fit of) `articles`, oldest first.

        `nonce` (≤25 chars) identifies this exact message: sending it again with
        the same nonce must not create a second one (Discord: `enforce_nonce`).
        Raise DeliveryError on failure; return which articles the message holds.
        """
        ...
