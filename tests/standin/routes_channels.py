"""REST routes of channels (messages, typing; with the bot's permissions enforced) and
guilds (the guild, its channels, roles and members)."""

from __future__ import annotations

import asyncio
import copy
from http import HTTPStatus
from typing import Any

import discord

from . import payloads as p
from . import validation as v
from .message_store import MessageStore
from .protocol import (
    CANNOT_EDIT_OTHERS_MESSAGE,
    CANNOT_SEND_IN_NON_TEXT_CHANNEL,
    CANNOT_SEND_TO_USER,
    DEFAULT_MESSAGE,
    DM,
    GUILD_FORUM,
    MISSING_ACCESS,
    MISSING_PERMISSIONS,
    REPLY,
    THREAD_TYPES,
    UNKNOWN_CHANNEL,
    UNKNOWN_GUILD,
    UNKNOWN_MEMBER,
    UNKNOWN_MESSAGE,
)
from .queries import Queries
from .recorded import RecordedRequest
from .rest import RestCore
from .rest_types import SNOW, ApiError, RestResponse

SEND_MESSAGES_IN_THREADS = discord.Permissions(send_messages_in_threads=True).value


class ChannelRoutes(RestCore, MessageStore, Queries):
    """``/channels/{id}`` (and its messages) and ``/guilds/{id}`` (and its lists)."""

    def _install_channel_routes(self) -> None:
        s = SNOW.format
        chan = s("channel_id")
        r = self.add_route
        r("GET", rf"/channels/{chan}", self._get_channel, name="get_channel")
        r("POST", rf"/channels/{chan}/typing", self._typing, name="trigger_typing")
        r("GET", rf"/channels/{chan}/messages", self._list_messages, name="get_messages")
        r("POST", rf"/channels/{chan}/messages", self._create_message, name="create_message")
        one = rf"/channels/{chan}/messages/{s('message_id')}"
        r("GET", one, self._get_message, name="get_message")
        r("PATCH", one, self._edit_message, name="edit_message")
        r("DELETE", one, self._delete_message, name="delete_message")
        guild = rf"/guilds/{s('guild_id')}"
        r("GET", guild, self._get_guild, name="get_guild")
        r("GET", rf"{guild}/channels", self._get_guild_channels, name="get_guild_channels")
        r("GET", rf"{guild}/roles", self._get_guild_roles, name="get_guild_roles")
        r("GET", rf"{guild}/members/{s('user_id')}", self._get_member, name="get_guild_member")

    def _channel(self, channel_id: str) -> dict[str, Any]:
        ch = self.world.find_channel(channel_id)
        if ch is None:
            raise ApiError.code(UNKNOWN_CHANNEL)
        return ch

    def _check_bot_can(self, ch: dict[str, Any], needed: int) -> int:
        if ch["type"] == DM or not self.enforce_permissions:
            return p.ALL_PERMISSIONS
        g = self.world.guild_of_channel(ch["id"])
        assert g is not None
        perms = self.world.permissions_for(self.world.bot_user["id"], guild=g, channel=ch)
        if not perms & p.VIEW_CHANNEL:
            raise ApiError.code(MISSING_ACCESS)
        if needed and (perms & needed) != needed:
            raise ApiError.code(MISSING_PERMISSIONS)
        return perms

    async def _get_channel(self, req: RecordedRequest, channel_id: str) -> RestResponse:
        ch = self._channel(channel_id)
        self._check_bot_can(ch, 0)
        return RestResponse(HTTPStatus.OK, copy.deepcopy(ch))

    async def _typing(self, req: RecordedRequest, channel_id: str) -> RestResponse:
        self._check_bot_can(self._channel(channel_id), p.SEND_MESSAGES)
        return RestResponse(HTTPStatus.NO_CONTENT)

    async def _list_messages(self, req: RecordedRequest, channel_id: str) -> RestResponse:
        ch = self._channel(channel_id)
        self._check_bot_can(ch, discord.Permissions(read_message_history=True).value)
        limit = int(req.query.get("limit", 50))
        newest_first = list(reversed(self.messages_in(channel_id)))
        return RestResponse(HTTPStatus.OK, copy.deepcopy(newest_first[:limit]))

    async def _create_message(self, req: RecordedRequest, channel_id: str) -> RestResponse:
        ch = self._channel(channel_id)
        if ch["type"] == DM and ch["recipients"][0]["id"] in self.world.closed_dms:
            raise ApiError.code(CANNOT_SEND_TO_USER)
        if ch["type"] == GUILD_FORUM:  # a forum takes posts (POST /channels/{id}/threads)
            raise ApiError.code(CANNOT_SEND_IN_NON_TEXT_CHANNEL)
        send = SEND_MESSAGES_IN_THREADS if ch["type"] in THREAD_TYPES else p.SEND_MESSAGES
        perms = self._check_bot_can(ch, send | (p.ATTACH_FILES if req.files else 0))
        body = dict(req.json or {})
        errors = v.validate_message(body)
        if errors:
            raise ApiError.form(errors)
        if v.is_empty_message(body, files=len(req.files)):
            raise ApiError.empty_message()
        if body.get("embeds") and not perms & p.EMBED_LINKS:
            # Discord accepts the message but drops embeds the bot may not post.
            body["embeds"] = []
        nonce = body.get("nonce")
        author_id = self.world.bot_user["id"]
        now = asyncio.get_running_loop().time()
        if nonce is not None and body.get("enforce_nonce"):
            key = (channel_id, author_id, str(nonce))
            previous = self._nonces.get(key)
            if previous is not None and now - previous[1] <= self.nonce_window:
                existing = self.messages.get(previous[0])
                if existing is not None:
                    return RestResponse(HTTPStatus.OK, copy.deepcopy(existing))
        message = await self._new_message(
            channel_id=channel_id,
            body=body,
            files=req.files,
            extra_flags=0,
            msg_type=REPLY if body.get("message_reference") else DEFAULT_MESSAGE,
        )
        if nonce is not None:
            self._nonces[(channel_id, author_id, str(nonce))] = (message["id"], now)
        return RestResponse(HTTPStatus.OK, copy.deepcopy(message))

    def _channel_message(self, channel_id: str, message_id: str) -> dict[str, Any]:
        self._channel(channel_id)
        msg = self.messages.get(message_id)
        if msg is None or msg["channel_id"] != channel_id or message_id in self.deleted_messages:
            raise ApiError.code(UNKNOWN_MESSAGE)
        return msg

    async def _get_message(
        self, req: RecordedRequest, channel_id: str, message_id: str
    ) -> RestResponse:
        self._check_bot_can(self._channel(channel_id), 0)
        return RestResponse(
            HTTPStatus.OK, copy.deepcopy(self._channel_message(channel_id, message_id))
        )

    async def _edit_message(
        self, req: RecordedRequest, channel_id: str, message_id: str
    ) -> RestResponse:
        self._check_bot_can(self._channel(channel_id), 0)
        msg = self._channel_message(channel_id, message_id)
        if msg["author"]["id"] != self.world.bot_user["id"]:
            raise ApiError(
                HTTPStatus.FORBIDDEN,
                {
                    "message": "Cannot edit a message authored by another user",
                    "code": CANNOT_EDIT_OTHERS_MESSAGE,
                },
            )
        body = req.json or {}
        errors = v.validate_message(body)
        if errors:
            raise ApiError.form(errors)
        await self._apply_edit(msg, body, req.files)
        return RestResponse(HTTPStatus.OK, copy.deepcopy(msg))

    async def _delete_message(
        self, req: RecordedRequest, channel_id: str, message_id: str
    ) -> RestResponse:
        ch = self._channel(channel_id)
        msg = self._channel_message(channel_id, message_id)
        if msg["author"]["id"] != self.world.bot_user["id"]:
            self._check_bot_can(ch, discord.Permissions(manage_messages=True).value)
        await self._delete(msg)
        return RestResponse(HTTPStatus.NO_CONTENT)

    # -------------------------------------------------------------- REST: guilds

    def _guild(self, guild_id: str) -> dict[str, Any]:
        try:
            return self.world.guild(guild_id)
        except KeyError:
            raise ApiError(
                HTTPStatus.NOT_FOUND, {"message": "Unknown Guild", "code": UNKNOWN_GUILD}
            ) from None

    async def _get_guild(self, req: RecordedRequest, guild_id: str) -> RestResponse:
        g = copy.deepcopy(self._guild(guild_id))
        for key in ("channels", "members", "threads", "presences", "voice_states", "joined_at"):
            g.pop(key, None)  # GET /guilds/{id} is the guild without gateway-only fields
        return RestResponse(HTTPStatus.OK, g)

    async def _get_guild_channels(self, req: RecordedRequest, guild_id: str) -> RestResponse:
        return RestResponse(HTTPStatus.OK, copy.deepcopy(self._guild(guild_id)["channels"]))

    async def _get_guild_roles(self, req: RecordedRequest, guild_id: str) -> RestResponse:
        return RestResponse(HTTPStatus.OK, copy.deepcopy(self._guild(guild_id)["roles"]))

    async def _get_member(self, req: RecordedRequest, guild_id: str, user_id: str) -> RestResponse:
        found = self.world.find_member(user_id, guild=self._guild(guild_id))
        if found is None:
            raise ApiError(
                HTTPStatus.NOT_FOUND, {"message": "Unknown Member", "code": UNKNOWN_MEMBER}
            )
        return RestResponse(HTTPStatus.OK, copy.deepcopy(found))
