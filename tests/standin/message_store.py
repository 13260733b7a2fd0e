"""The stand-in's messages: creating and editing them as Discord would (flags, mentions,
attachments, interaction metadata), and telling the bot with MESSAGE_* events."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from . import payloads as p
from .gateway_control import GatewayControl
from .protocol import (
    APPLICATION_COMMAND,
    CHAT_INPUT,
    CREATABLE_FLAGS,
    DIRECT_MESSAGES,
    EDITABLE_FLAGS,
    EPHEMERAL,
    GUILD_MESSAGES,
    LOADING,
    MESSAGE_COMPONENT,
    MESSAGE_CONTENT,
)
from .recorded import DispatchedInteraction, RecordedFile
from .world import Ref


class MessageStore(GatewayControl):
    """Every message the stand-in holds, created and edited the way Discord would."""

    def _mentions(
        self,
        content: str,
        allowed: Mapping[str, Any] | None,
        guild: dict[str, Any] | None,
        *,
        author_id: str | None = None,
        channel_id: str | None = None,
    ) -> tuple[bool, list[dict[str, Any]], list[str]]:
        """Who a message pings: @everyone/@here, users, roles. What Discord records in
        ``mention_everyone``/``mentions``/``mention_roles`` is what actually pinged."""
        # No allowed_mentions means "parse everything", exactly like Discord.
        parse = (
            set(allowed.get("parse", [])) if allowed is not None else {"users", "roles", "everyone"}
        )
        users_ok = {str(u) for u in (allowed or {}).get("users", [])}
        roles_ok = {str(r) for r in (allowed or {}).get("roles", [])}
        # @everyone, @here and roles that are not mentionable ping only when the author
        # has Mention Everyone in that channel.
        may_all = True
        if guild is not None and author_id is not None and channel_id is not None:
            may_all = self._may_mention_everyone(author_id, guild, channel_id)
        everyone = (
            may_all and "everyone" in parse and ("@everyone" in content or "@here" in content)
        )
        mentions = []
        for uid in dict.fromkeys(re.findall(r"<@!?(\d+)>", content)):
            if ("users" in parse or uid in users_ok) and uid in self.world.users:
                mentions.append(p.public_user(self.world.users[uid]))
        roles = []
        if guild is not None:
            guild_roles = {r["id"]: r for r in guild["roles"]}
            for rid in dict.fromkeys(re.findall(r"<@&(\d+)>", content)):
                role = guild_roles.get(rid)
                if role is None or not ("roles" in parse or rid in roles_ok):
                    continue
                if role.get("mentionable") or may_all:
                    roles.append(rid)
        return everyone, mentions, roles

    def _may_mention_everyone(self, author_id: str, guild: dict[str, Any], channel_id: str) -> bool:
        if self.world.find_member(author_id, guild=guild) is None:
            return True  # a webhook or a departed member: nothing to check against
        perms = self.world.permissions_for(author_id, guild=guild, channel=channel_id)
        return bool(perms & p.MENTION_EVERYONE)

    def _attachments(
        self, body: Mapping[str, Any], files: Sequence[RecordedFile], channel_id: str
    ) -> list[dict[str, Any]]:
        described = {str(a.get("id")): a for a in body.get("attachments") or []}
        out = []
        for index, f in enumerate(files):
            meta = described.get(str(index), {})
            out.append(
                p.attachment(
                    meta.get("filename") or f.filename or f"file{index}",
                    size=len(f.data),
                    content_type=f.content_type,
                    description=meta.get("description"),
                    channel_id=channel_id,
                )
            )
        return out

    async def _new_message(
        self,
        *,
        channel_id: str,
        body: Mapping[str, Any],
        files: Sequence[RecordedFile],
        extra_flags: int,
        msg_type: int,
        interaction: DispatchedInteraction | None = None,
        message_id: str | None = None,
    ) -> dict[str, Any]:
        guild = self.world.guild_of_channel(channel_id)
        everyone, mentions, roles = self._mentions(
            body.get("content") or "",
            body.get("allowed_mentions"),
            guild,
            author_id=self.world.bot_user["id"],
            channel_id=channel_id,
        )
        metadata = None
        webhook_id = application_id = None
        if interaction is not None:
            invoker = interaction.payload.get("member", {}).get("user") or interaction.payload.get(
                "user"
            )
            metadata = {
                "id": interaction.id,
                "type": interaction.type,
                "user": invoker,
                "authorizing_integration_owners": interaction.payload.get(
                    "authorizing_integration_owners", {}
                ),
            }
            if interaction.type == APPLICATION_COMMAND:
                metadata["name"] = interaction.payload["data"]["name"]
                metadata["command_type"] = CHAT_INPUT
            if interaction.type == MESSAGE_COMPONENT:
                metadata["interacted_message_id"] = interaction.payload["message"]["id"]
            if interaction.original_message_id is not None:
                metadata["original_response_message_id"] = interaction.original_message_id
            webhook_id = application_id = self.world.application_id
        message = p.message(
            id=message_id,
            channel_id=channel_id,
            author=self.world.bot_user,
            content=body.get("content") or "",
            embeds=body.get("embeds") or [],
            components=body.get("components") or [],
            attachments=self._attachments(body, files, channel_id),
            flags=((body.get("flags") or 0) & CREATABLE_FLAGS) | extra_flags,
            type=msg_type,
            tts=bool(body.get("tts")),
            nonce=body.get("nonce"),
            webhook_id=webhook_id,
            application_id=application_id,
            interaction_metadata=metadata,
            mentions=mentions,
            mention_roles=roles,
            mention_everyone=everyone,
            message_reference=body.get("message_reference"),
        )
        self.messages[message["id"]] = message
        self.allowed_mentions[message["id"]] = copy.deepcopy(body.get("allowed_mentions"))
        await self._message_event("MESSAGE_CREATE", message, guild)
        return message

    async def _apply_edit(
        self, message: dict[str, Any], body: Mapping[str, Any], files: Sequence[RecordedFile]
    ) -> None:
        if "content" in body:
            message["content"] = body["content"] or ""
        if "embeds" in body:
            message["embeds"] = [p.normalise_embed(e) for e in body["embeds"] or []]
        if "components" in body:
            message["components"] = copy.deepcopy(body["components"] or [])
        if "attachments" in body or files:
            keep_ids = {str(a.get("id")) for a in body.get("attachments") or []}
            kept = [a for a in message["attachments"] if a["id"] in keep_ids]
            message["attachments"] = kept + self._attachments(body, files, message["channel_id"])
        if "flags" in body and body["flags"] is not None:
            fixed = message["flags"] & ~EDITABLE_FLAGS
            message["flags"] = fixed | (body["flags"] & EDITABLE_FLAGS)
        message["flags"] &= ~LOADING
        if "allowed_mentions" in body:
            self.allowed_mentions[message["id"]] = copy.deepcopy(body["allowed_mentions"])
        guild = self.world.guild_of_channel(message["channel_id"])
        everyone, mentions, roles = self._mentions(
            message["content"],
            self.allowed_mentions.get(message["id"]),
            guild,
            author_id=message["author"]["id"],
            channel_id=message["channel_id"],
        )
        message.update(mention_everyone=everyone, mentions=mentions, mention_roles=roles)
        message["edited_timestamp"] = datetime.now(tz=UTC).isoformat()
        await self._message_event("MESSAGE_UPDATE", message, guild)

    async def _delete(self, message: dict[str, Any]) -> None:
        self.deleted_messages.add(message["id"])
        guild = self.world.guild_of_channel(message["channel_id"])
        if not self.emit_message_events or message["flags"] & EPHEMERAL:
            return
        data: dict[str, Any] = {"id": message["id"], "channel_id": message["channel_id"]}
        if guild is not None:
            data["guild_id"] = guild["id"]
        await self._send_message_event("MESSAGE_DELETE", data, guild)

    async def _message_event(
        self, event: str, message: dict[str, Any], guild: dict[str, Any] | None
    ) -> None:
        if not self.emit_message_events or message["flags"] & EPHEMERAL:
            return
        data = copy.deepcopy(message)
        if guild is not None:
            data["guild_id"] = guild["id"]
            author_member = self.world.find_member(message["author"]["id"], guild=guild)
            if author_member is not None:
                data["member"] = {k: val for k, val in author_member.items() if k != "user"}
        await self._send_message_event(event, data, guild)

    async def _send_message_event(
        self, event: str, data: dict[str, Any], guild: dict[str, Any] | None
    ) -> None:
        session = self._session_for(guild["id"] if guild is not None else None)
        if session is None:
            return
        needed = GUILD_MESSAGES if guild is not None else DIRECT_MESSAGES
        if session.has_intent(needed):
            await self.dispatch_event(
                event, data, guild_id=guild["id"] if guild else None, required=False
            )

    async def user_message(
        self, channel: Ref, content: str, *, author: Ref = "alice"
    ) -> dict[str, Any]:
        """A message typed by a (non-bot) user, delivered to the bot as MESSAGE_CREATE."""
        ch = self.world.channel(channel) if not isinstance(channel, Mapping) else channel
        u = self.world.user(author)
        guild = self.world.guild_of_channel(ch["id"])
        everyone, mentions, roles = self._mentions(
            content, None, guild, author_id=u["id"], channel_id=ch["id"]
        )
        message = p.message(
            channel_id=ch["id"],
            author=u,
            content=content,
            mentions=mentions,
            mention_roles=roles,
            mention_everyone=everyone,
        )
        self.messages[message["id"]] = message
        data = copy.deepcopy(message)
        session = self._session_for(guild["id"] if guild else None)
        if session is not None and not session.has_intent(MESSAGE_CONTENT):
            # Without the message-content intent Discord blanks content unless the bot is
            # mentioned (or it is a DM).
            bot_id = self.world.bot_user["id"]
            if guild is not None and not any(m["id"] == bot_id for m in mentions):
                data.update(content="", embeds=[], attachments=[], components=[])
        if guild is not None:
            data["guild_id"] = guild["id"]
            m = self.world.find_member(u["id"], guild=guild)
            if m is not None:
                data["member"] = {k: val for k, val in m.items() if k != "user"}
        await self.dispatch_event("MESSAGE_CREATE", data, guild_id=data.get("guild_id"))
        return message
