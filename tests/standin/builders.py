"""INTERACTION_CREATE payloads built from the stand-in's world (who, where, which synced
command), and dispatching them to the bot."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Mapping, Sequence
from typing import Any

from . import payloads as p
from .gateway_control import GatewayControl
from .protocol import BUTTON, CHAT_INPUT, DM
from .recorded import DispatchedInteraction
from .world import Ref


class InteractionBuilders(GatewayControl):
    """``slash``/``autocomplete``/``button``/``modal_submit`` payloads, ``dispatch_interaction``."""

    def _context(self, *, user: Ref, channel: Ref | None, guild: Ref | None, dm: bool) -> dict:
        if dm or (channel is not None and self._is_dm(channel)):
            u = self.world.user(user)
            ch = self.world.open_dm(u) if channel is None else self.world.channel(channel)
            return {
                "application_id": self.world.application_id,
                "channel": copy.deepcopy(ch),
                "user": copy.deepcopy(u),
                "app_permissions": p.DM_PERMISSIONS,
            }
        ch_ref = channel if channel is not None else "general"
        g = self.world.guild(guild) if guild is not None else None
        ch = self.world.channel(ch_ref, guild=g)
        g = g or self.world.guild_of_channel(ch["id"])
        assert g is not None
        m = self.world.member(user, guild=g)
        member_perms = self.world.permissions_for(m, guild=g, channel=ch)
        bot_perms = self.world.permissions_for(self.world.bot_user["id"], guild=g, channel=ch)
        channel_payload = copy.deepcopy(ch)
        channel_payload["permissions"] = str(member_perms)
        return {
            "application_id": self.world.application_id,
            "channel": channel_payload,
            "guild_id": g["id"],
            "member": copy.deepcopy(m),
            "member_permissions": member_perms,
            "app_permissions": bot_perms,
            "guild_locale": g["preferred_locale"],
        }

    def _is_dm(self, channel: Ref) -> bool:
        found = self.world.find_channel(channel) if not isinstance(channel, Mapping) else channel
        return found is not None and found.get("type") == DM

    def _command_target(self, name: str, guild_id: str | None) -> tuple[str | None, str | None]:
        if guild_id is not None:
            for cmd in self.guild_commands.get(guild_id, {}).values():
                if cmd["name"] == name and cmd.get("type", CHAT_INPUT) == CHAT_INPUT:
                    return cmd["id"], guild_id
        for cmd in self.global_commands.values():
            if cmd["name"] == name and cmd.get("type", CHAT_INPUT) == CHAT_INPUT:
                return cmd["id"], None
        if self.strict_commands:
            raise LookupError(f"/{name} was never synced to the stand-in")
        return None, None

    def slash(
        self,
        command: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        user: Ref = "alice",
        channel: Ref | None = None,
        guild: Ref | None = None,
        dm: bool = False,
        locale: str = "en-US",
        resolved: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """INTERACTION_CREATE payload for ``/command`` (``"admin reload"`` for subcommands).

        Defaults: invoked by alice in #general of the default guild. The command id (and
        ``data.guild_id`` for guild commands) come from what the bot synced, if it did.
        """
        ctx = self._context(user=user, channel=channel, guild=guild, dm=dm)
        cmd_id, cmd_guild = self._command_target(command.split()[0], ctx.get("guild_id"))
        return p.slash_command_interaction(
            command,
            options,
            command_id=cmd_id,
            command_guild_id=cmd_guild,
            resolved=resolved,
            locale=locale,
            **ctx,
        )

    def autocomplete(
        self,
        command: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        focused: str | None = None,
        user: Ref = "alice",
        channel: Ref | None = None,
        guild: Ref | None = None,
        dm: bool = False,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        """An APPLICATION_COMMAND_AUTOCOMPLETE payload.

        ``focused`` is the option being typed; it defaults to the last one.
        """
        ctx = self._context(user=user, channel=channel, guild=guild, dm=dm)
        cmd_id, cmd_guild = self._command_target(command.split()[0], ctx.get("guild_id"))
        if focused is None and isinstance(options, Mapping):
            focused = list(options)[-1]
        return p.autocomplete_interaction(
            command,
            options,
            focused=focused,
            command_id=cmd_id,
            command_guild_id=cmd_guild,
            locale=locale,
            **ctx,
        )

    def button(
        self,
        message: Mapping[str, Any] | str | int,
        custom_id: str,
        *,
        user: Ref = "alice",
        component_type: int = BUTTON,
        values: Sequence[str] | None = None,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        """A button press (or select, with ``component_type``/``values``) on a stored message."""
        msg = self.messages[str(message)] if not isinstance(message, Mapping) else message
        if custom_id not in _custom_ids(msg.get("components") or []):
            raise ValueError(f"message {msg['id']} has no component with custom_id {custom_id!r}")
        ctx = self._context(user=user, channel=msg["channel_id"], guild=None, dm=False)
        return p.component_interaction(
            custom_id,
            message=copy.deepcopy(msg),
            component_type=component_type,
            values=values,
            locale=locale,
            **ctx,
        )

    def modal_submit(
        self,
        custom_id: str,
        fields: Mapping[str, str],
        *,
        user: Ref = "alice",
        channel: Ref | None = None,
        message: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A modal submitted with ``fields`` (text input custom_id -> value)."""
        ctx = self._context(user=user, channel=channel, guild=None, dm=False)
        return p.modal_submit_interaction(custom_id, fields, message=message, **ctx)

    async def dispatch_interaction(self, payload: Mapping[str, Any]) -> DispatchedInteraction:
        """Send INTERACTION_CREATE to the bot. The 3-second clock starts now."""
        data = copy.deepcopy(dict(payload))
        rec = DispatchedInteraction(
            payload=data, created_at=asyncio.get_running_loop().time(), standin=self
        )
        self.interactions[rec.id] = rec
        self._by_token[rec.token] = rec
        await self.dispatch_event("INTERACTION_CREATE", data, guild_id=data.get("guild_id"))
        return rec


def _custom_ids(components: Sequence[Mapping[str, Any]]) -> set[str]:
    found: set[str] = set()
    for comp in components:
        if comp.get("custom_id"):
            found.add(comp["custom_id"])
        found |= _custom_ids(comp.get("components") or [])
        accessory = comp.get("accessory")
        if isinstance(accessory, Mapping) and accessory.get("custom_id"):
            found.add(accessory["custom_id"])
    return found
