"""REST routes of threads, forum posts and announcement channels, as Discord answers them.

- ``POST /channels/{id}/messages/{mid}/threads``: a public thread started from a message (in
  an announcement channel an announcement thread); the thread shares the message's id, and a
  second thread on the same message is 400 code 160004.
- ``POST /channels/{id}/threads``: in a forum channel (type 15) a post, i.e. a thread and its
  starter message (which shares the thread's id) with ``applied_tags`` from the forum's
  ``available_tags``; in a text channel a thread without a message.
- ``POST /channels/{id}/messages/{mid}/crosspost``: publish a message of an announcement
  channel (type 5) to its followers; at most ``CROSSPOSTS_PER_HOUR`` per channel in a rolling
  hour (``crosspost_clock``), beyond that 429 with the wait in ``retry_after``.
- ``GET /guilds/{id}/threads/active``: the guild's threads that are not archived.

Every new thread is announced with THREAD_CREATE, every crosspost with MESSAGE_UPDATE.
``crossposts`` records (time, message id) per channel.
"""

from __future__ import annotations

import copy
from http import HTTPStatus
from typing import Any

import discord

from . import payloads as p
from . import thread_payloads as tp
from . import validation as v
from .faults import rate_limited_body, rate_limited_headers
from .protocol import (
    ALREADY_CROSSPOSTED,
    ANNOUNCEMENT_THREAD,
    CROSSPOSTED,
    CROSSPOSTS_PER_HOUR,
    DEFAULT_MESSAGE,
    GUILD_ANNOUNCEMENT,
    GUILD_FORUM,
    GUILD_TEXT,
    HAS_THREAD,
    INVALID_CHANNEL_TYPE,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    THREAD_ALREADY_CREATED,
)
from .recorded import RecordedRequest
from .rest_types import SNOW, ApiError, RestResponse
from .routes_channels import ChannelRoutes

CREATE_PUBLIC_THREADS = discord.Permissions(create_public_threads=True).value
CREATE_PRIVATE_THREADS = discord.Permissions(create_private_threads=True).value
MANAGE_MESSAGES = discord.Permissions(manage_messages=True).value
MAX_THREAD_NAME = 100
MAX_APPLIED_TAGS = 5
ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)
HOUR = 3600.0


class ThreadRoutes(ChannelRoutes):
    """Threads from messages, forum posts, crossposts and the active-threads list."""

    def _install_thread_routes(self) -> None:
        s = SNOW.format
        chan = s("channel_id")
        one = rf"/channels/{chan}/messages/{s('message_id')}"
        r = self.add_route
        r("POST", rf"{one}/threads", self._thread_from_message, name="start_thread_with_message")
        r("POST", rf"/channels/{chan}/threads", self._thread_in_channel, name="start_thread")
        r("POST", rf"{one}/crosspost", self._crosspost, name="crosspost_message")
        r(
            "GET",
            rf"/guilds/{s('guild_id')}/threads/active",
            self._active_threads,
            name="get_active_threads",
        )

    # ------------------------------------------------------------------ checks

    @staticmethod
    def _thread_form(body: dict[str, Any]) -> dict[str, Any]:
        """Discord's Invalid Form Body errors for a thread's name and archive duration."""
        errors: dict[str, Any] = {}
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= MAX_THREAD_NAME:
            v.add_error(
                errors,
                ["name"],
                "BASE_TYPE_BAD_LENGTH",
                f"Must be between 1 and {MAX_THREAD_NAME} in length.",
            )
        duration = body.get("auto_archive_duration")
        if duration is not None and duration not in ARCHIVE_DURATIONS:
            v.add_error(
                errors,
                ["auto_archive_duration"],
                "BASE_TYPE_CHOICES",
                f"Value must be one of {ARCHIVE_DURATIONS}.",
            )
        return errors

    def _new_thread(
        self,
        parent: dict[str, Any],
        body: dict[str, Any],
        *,
        type: int,
        id: str | None = None,
        applied_tags: list[str] | None = None,
    ) -> dict[str, Any]:
        thread = tp.thread(
            body["name"],
            parent=parent,
            owner_id=self.world.bot_user["id"],
            type=type,
            id=id,
            auto_archive_duration=body.get("auto_archive_duration")
            or parent.get("default_auto_archive_duration")
            or 4320,
            applied_tags=applied_tags or [],
        )
        self.world.add_thread(thread)
        # The creator joins its thread; `member` is how THREAD_CREATE and REST say so.
        thread["member"] = tp.thread_member(thread["id"], self.world.bot_user["id"])
        return thread

    async def _announce_thread(self, thread: dict[str, Any]) -> None:
        data = {**copy.deepcopy(thread), "newly_created": True}
        await self.dispatch_event(
            "THREAD_CREATE", data, guild_id=thread["guild_id"], required=False
        )

    # ------------------------------------------------------------------ routes

    async def _thread_from_message(
        self, req: RecordedRequest, channel_id: str, message_id: str
    ) -> RestResponse:
        ch = self._channel(channel_id)
        if ch["type"] not in (GUILD_TEXT, GUILD_ANNOUNCEMENT):
            raise ApiError.code(INVALID_CHANNEL_TYPE)
        self._check_bot_can(ch, CREATE_PUBLIC_THREADS)
        msg = self._channel_message(channel_id, message_id)
        body = dict(req.json or {})
        errors = self._thread_form(body)
        if errors:
            raise ApiError.form(errors)
        if msg["flags"] & HAS_THREAD:
            raise ApiError.code(THREAD_ALREADY_CREATED)
        kind = ANNOUNCEMENT_THREAD if ch["type"] == GUILD_ANNOUNCEMENT else PUBLIC_THREAD
        thread = self._new_thread(ch, body, type=kind, id=msg["id"])  # shares the message's id
        msg["flags"] |= HAS_THREAD
        msg["thread"] = copy.deepcopy(thread)
        await self._announce_thread(thread)
        return RestResponse(HTTPStatus.CREATED, copy.deepcopy(thread))

    async def _thread_in_channel(self, req: RecordedRequest, channel_id: str) -> RestResponse:
        ch = self._channel(channel_id)
        body = dict(req.json or {})
        if ch["type"] == GUILD_FORUM:
            return await self._forum_post(ch, body, req)
        if ch["type"] not in (GUILD_TEXT, GUILD_ANNOUNCEMENT):
            raise ApiError.code(INVALID_CHANNEL_TYPE)
        private = body.get("type") == PRIVATE_THREAD
        self._check_bot_can(ch, CREATE_PRIVATE_THREADS if private else CREATE_PUBLIC_THREADS)
        errors = self._thread_form(body)
        if errors:
            raise ApiError.form(errors)
        if ch["type"] == GUILD_ANNOUNCEMENT:
            kind = ANNOUNCEMENT_THREAD
        else:
            kind = PRIVATE_THREAD if private else PUBLIC_THREAD
        thread = self._new_thread(ch, body, type=kind)
        await self._announce_thread(thread)
        return RestResponse(HTTPStatus.CREATED, copy.deepcopy(thread))

    async def _forum_post(
        self, forum: dict[str, Any], body: dict[str, Any], req: RecordedRequest
    ) -> RestResponse:
        self._check_bot_can(forum, p.SEND_MESSAGES)
        errors = self._thread_form(body)
        message = body.get("message")
        if not isinstance(message, dict):
            v.add_error(errors, ["message"], "BASE_TYPE_REQUIRED", "This field is required")
            message = {}
        errors.update(v.validate_message(message, ["message"]))
        tags = [str(t) for t in body.get("applied_tags") or []]
        known = {t["id"] for t in forum.get("available_tags", [])}
        if len(tags) > MAX_APPLIED_TAGS:
            v.add_error(
                errors,
                ["applied_tags"],
                "BASE_TYPE_MAX_LENGTH",
                f"Must be {MAX_APPLIED_TAGS} or fewer in length.",
            )
        for i, tag in enumerate(tags):
            if tag not in known:
                v.add_error(errors, ["applied_tags", i], "INVALID_TAG", "Unknown tag.")
        if errors:
            raise ApiError.form(errors)
        if v.is_empty_message(message, files=len(req.files)):
            raise ApiError.empty_message()
        thread = self._new_thread(forum, body, type=PUBLIC_THREAD, applied_tags=tags)
        await self._announce_thread(thread)
        # The starter message lives in the thread and shares its id.
        starter = await self._new_message(
            channel_id=thread["id"],
            body=message,
            files=req.files,
            extra_flags=0,
            msg_type=DEFAULT_MESSAGE,
            message_id=thread["id"],
        )
        thread.update(message_count=1, total_message_sent=1, last_message_id=starter["id"])
        return RestResponse(HTTPStatus.CREATED, {**copy.deepcopy(thread), "message": starter})

    async def _crosspost(
        self, req: RecordedRequest, channel_id: str, message_id: str
    ) -> RestResponse:
        ch = self._channel(channel_id)
        if ch["type"] != GUILD_ANNOUNCEMENT:
            raise ApiError.code(INVALID_CHANNEL_TYPE)
        msg = self._channel_message(channel_id, message_id)
        own = msg["author"]["id"] == self.world.bot_user["id"]
        self._check_bot_can(ch, p.SEND_MESSAGES if own else MANAGE_MESSAGES)
        if msg["flags"] & CROSSPOSTED:
            raise ApiError.code(ALREADY_CROSSPOSTED)
        now = self.crosspost_clock()
        recent = [(at, m) for at, m in self.crossposts.get(channel_id, []) if now - at < HOUR]
        self.crossposts[channel_id] = recent
        if len(recent) >= CROSSPOSTS_PER_HOUR:
            wait = recent[0][0] + HOUR - now
            headers = rate_limited_headers(
                wait, is_global=False, scope="shared", limit=CROSSPOSTS_PER_HOUR, bucket="crosspost"
            )
            return RestResponse(
                HTTPStatus.TOO_MANY_REQUESTS,
                rate_limited_body(wait, is_global=False),
                headers,
            )
        recent.append((now, message_id))
        msg["flags"] |= CROSSPOSTED
        await self._message_event("MESSAGE_UPDATE", msg, self.world.guild_of_channel(channel_id))
        return RestResponse(HTTPStatus.OK, copy.deepcopy(msg))

    async def _active_threads(self, req: RecordedRequest, guild_id: str) -> RestResponse:
        g = self._guild(guild_id)
        threads = [t for t in g.get("threads", []) if not t["thread_metadata"]["archived"]]
        members = [t["member"] for t in threads if "member" in t]
        body = {
            "threads": [{k: val for k, val in t.items() if k != "member"} for t in threads],
            "members": copy.deepcopy(members),
        }
        return RestResponse(HTTPStatus.OK, copy.deepcopy(body))
