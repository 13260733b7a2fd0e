# The wait_* helpers take ``timeout=`` on purpose: tests read better as
# ``await it.wait_callback(timeout=1)`` than wrapped in asyncio.timeout blocks.
# ruff: noqa: ASYNC109
"""What the stand-in recorded: REST requests (with the files they uploaded) and the
interactions it dispatched, with everything the bot did in reply."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class InteractionHost(Protocol):
    """The part of the stand-in a `DispatchedInteraction` reads through."""

    messages: dict[str, dict[str, Any]]

    async def wait_for_callback(
        self, interaction: str | int | DispatchedInteraction, *, timeout: float = 2.0
    ) -> RecordedRequest:
        """See `Queries.wait_for_callback`."""

    async def wait_for_followup(
        self,
        interaction: str | int | DispatchedInteraction,
        *,
        index: int = 0,
        timeout: float = 2.0,
    ) -> RecordedRequest:
        """See `Queries.wait_for_followup`."""


@dataclass
class RecordedFile:
    """One file part of a multipart request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class RecordedRequest:
    """One REST request as the stand-in saw it, and what it answered."""

    method: str
    path: str  # relative to /api/v10, e.g. "/channels/1/messages"
    query: dict[str, str]
    headers: dict[str, str]
    json: Any  # JSON body, or the parsed ``payload_json`` part of a multipart body
    files: list[RecordedFile]
    at: float  # event-loop time (monotonic) when received
    wall: datetime
    route: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    status: int = 0
    response: Any = None
    response_headers: dict[str, str] = field(default_factory=dict)
    fault: Any = None  # the FaultRule that answered, if any
    rate_limited: bool = False  # answered 429 by the enforced limiter
    done: bool = False

    @property
    def ok(self) -> bool:
        """Whether the stand-in answered with a success status."""
        return 200 <= self.status < 300  # any 2xx

    @property
    def error_code(self) -> int | None:
        """The Discord JSON error code of the answer, if it was an error with one."""
        return self.response.get("code") if isinstance(self.response, dict) else None

    def __repr__(self) -> str:
        return f"<{self.method} {self.path} -> {self.status}>"


@dataclass
class DispatchedInteraction:
    """An INTERACTION_CREATE the stand-in sent, and everything the bot did in reply."""

    payload: dict[str, Any]
    created_at: float
    standin: InteractionHost = field(repr=False)
    callback: RecordedRequest | None = None  # the accepted (first successful) callback
    attempts: list[RecordedRequest] = field(default_factory=list)  # every callback request
    acknowledged_at: float | None = None
    expired: bool = False
    original_message_id: str | None = None
    loading: bool = False
    ephemeral: bool = False
    followup_ids: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The interaction's id."""
        return self.payload["id"]

    @property
    def token(self) -> str:
        """The interaction's token (its webhook's too)."""
        return self.payload["token"]

    @property
    def type(self) -> int:
        """The interaction type (``protocol.APPLICATION_COMMAND``, ...)."""
        return self.payload["type"]

    @property
    def callback_type(self) -> int | None:
        """The accepted callback's type (``protocol.CHANNEL_MESSAGE``, ...), if any."""
        return self.callback.json["type"] if self.callback is not None else None

    @property
    def original_message(self) -> dict[str, Any] | None:
        """The response message as it is now (after edits), if there is one."""
        if self.original_message_id is None:
            return None
        return self.standin.messages.get(self.original_message_id)

    @property
    def followups(self) -> list[dict[str, Any]]:
        """The followup messages, as they are now."""
        return [self.standin.messages[m] for m in self.followup_ids if m in self.standin.messages]

    async def wait_callback(self, timeout: float = 2.0) -> RecordedRequest:
        """The first callback request, whatever the stand-in answered."""
        return await self.standin.wait_for_callback(self.id, timeout=timeout)

    async def wait_followup(self, index: int = 0, timeout: float = 2.0) -> RecordedRequest:
        """The ``index``-th followup request."""
        return await self.standin.wait_for_followup(self.id, index=index, timeout=timeout)
