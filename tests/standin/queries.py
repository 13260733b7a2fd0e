# The wait_* helpers take ``timeout=`` on purpose: tests read better as
# ``await standin.wait_for_callback(it, timeout=1)`` than wrapped in asyncio.timeout blocks.
# ruff: noqa: ASYNC109
"""Reading what the stand-in saw: waiting for requests, callbacks, followups, messages,
IDENTIFY and RESUME, and the live messages of a channel."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Mapping
from typing import TypeVar

from .gateway import IdentifyRecord, ResumeRecord
from .protocol import EPHEMERAL
from .recorded import DispatchedInteraction, RecordedRequest
from .state import StandInState
from .world import Ref

T = TypeVar("T")


class Queries(StandInState):
    """Finding and waiting for what the bot did (``wait_*`` re-check on every change)."""

    async def wait_until(
        self, predicate: Callable[[], T | None], *, timeout: float = 2.0, what: str = "condition"
    ) -> T:
        """Wait until ``predicate()`` returns something truthy (re-checked on every change)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=remaining)

    def find_requests(
        self,
        method: str | None = None,
        path_pattern: str | None = None,
        *,
        route: str | None = None,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        ok: bool | None = None,
    ) -> list[RecordedRequest]:
        """Answered requests, oldest first, matching every filter given."""
        out = []
        for req in self.requests:
            if not req.done:
                continue
            if method is not None and req.method != method.upper():
                continue
            if path_pattern is not None and not re.fullmatch(path_pattern, req.path):
                continue
            if route is not None and req.route != route:
                continue
            if ok is not None and req.ok != ok:
                continue
            if predicate is not None and not predicate(req):
                continue
            out.append(req)
        return out

    async def wait_for_request(
        self,
        method: str | None = None,
        path_pattern: str | None = None,
        *,
        route: str | None = None,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        ok: bool | None = None,
        index: int = 0,
        timeout: float = 2.0,
    ) -> RecordedRequest:
        """The ``index``-th request ``find_requests`` would return, once it has arrived."""

        def found() -> RecordedRequest | None:
            hits = self.find_requests(method, path_pattern, route=route, predicate=predicate, ok=ok)
            return hits[index] if len(hits) > index else None

        return await self.wait_until(
            found, timeout=timeout, what=f"request #{index} {method or '*'} {path_pattern or route}"
        )

    async def wait_for_callback(
        self, interaction: str | int | DispatchedInteraction, *, timeout: float = 2.0
    ) -> RecordedRequest:
        """The first callback request for the interaction, whatever the stand-in answered."""
        iid = interaction.id if isinstance(interaction, DispatchedInteraction) else str(interaction)
        return await self.wait_for_request(
            "POST",
            route="interaction_callback",
            predicate=lambda r: r.params.get("interaction_id") == iid,
            timeout=timeout,
        )

    async def wait_for_followup(
        self,
        interaction: str | int | DispatchedInteraction,
        *,
        index: int = 0,
        timeout: float = 2.0,
    ) -> RecordedRequest:
        """The ``index``-th followup (webhook execute) for the interaction."""
        iid = interaction.id if isinstance(interaction, DispatchedInteraction) else str(interaction)
        token = self.interactions[iid].token
        return await self.wait_for_request(
            "POST",
            route="webhook_execute",
            predicate=lambda r: r.params.get("token") == token,
            index=index,
            timeout=timeout,
        )

    async def wait_for_message(
        self,
        channel: Ref,
        *,
        index: int = 0,
        timeout: float = 2.0,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        ok: bool | None = True,
    ) -> RecordedRequest:
        """The ``index``-th (successful, by default) ``POST /channels/{id}/messages``."""
        channel_id = self._channel_id(channel)
        return await self.wait_for_request(
            "POST",
            route="create_message",
            predicate=lambda r: (
                r.params.get("channel_id") == channel_id and (predicate is None or predicate(r))
            ),
            ok=ok,
            index=index,
            timeout=timeout,
        )

    async def wait_for_identify(self, count: int = 1, *, timeout: float = 5.0) -> IdentifyRecord:
        """The ``count``-th IDENTIFY any session sent."""
        return await self.wait_until(
            lambda: self.identifies[count - 1] if len(self.identifies) >= count else None,
            timeout=timeout,
            what=f"IDENTIFY #{count}",
        )

    async def wait_for_resume(self, count: int = 1, *, timeout: float = 5.0) -> ResumeRecord:
        """The ``count``-th RESUME any session sent."""
        return await self.wait_until(
            lambda: self.resumes[count - 1] if len(self.resumes) >= count else None,
            timeout=timeout,
            what=f"RESUME #{count}",
        )

    # ------------------------------------------------------------- message views

    def messages_in(self, channel: Ref, *, include_ephemeral: bool = False) -> list[dict]:
        """Live (not deleted) messages in a channel, oldest first."""
        channel_id = self._channel_id(channel)
        return [
            m
            for mid, m in self.messages.items()
            if m["channel_id"] == channel_id
            and mid not in self.deleted_messages
            and (include_ephemeral or not m["flags"] & EPHEMERAL)
        ]

    def _channel_id(self, channel: Ref) -> str:
        if isinstance(channel, Mapping):
            return str(channel["id"])
        if isinstance(channel, int) or str(channel).isdigit():
            return str(channel)
        return self.world.channel(channel)["id"]
