"""The stand-in's model of "Discord state": users, guilds, channels, roles, members.

Entities are stored as Discord-shaped dicts (see ``payloads.py``) so they can be sent as-is.
Lookups accept either a name or an id, which keeps tests readable
(``world.channel("alerts")``) without hard-coding snowflakes.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import discord

from . import payloads as p
from . import thread_payloads as tp
from .protocol import GUILD_ANNOUNCEMENT, GUILD_FORUM, THREAD_TYPES

Ref = str | int | Mapping[str, Any]


def _id_of(ref: Ref) -> str | None:
    if isinstance(ref, Mapping):
        if "user" in ref:
            return str(ref["user"]["id"])
        return str(ref["id"])
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        return str(ref)
    return None


class World:
    """Users, guilds (with channels/roles/members) and DM channels, plus permission maths."""

    def __init__(self, *, bot_name: str = "newsbot", bot_id: str | int | None = None) -> None:
        self.bot_user: dict[str, Any] = p.bot_user(bot_name, id=bot_id)
        # Modern apps share their id with their bot user.
        self.application_id: str = self.bot_user["id"]
        self.users: dict[str, dict[str, Any]] = {self.bot_user["id"]: self.bot_user}
        self.guilds: dict[str, dict[str, Any]] = {}
        self.dm_channels: dict[str, dict[str, Any]] = {}  # by recipient user id
        self.closed_dms: set[str] = set()  # user ids whose DMs reject the bot (50007)

    # ----------------------------------------------------------------- building

    def add_user(self, username: str, *, id: str | int | None = None, bot: bool = False) -> dict:
        new = p.user(username, id=id, bot=bot)
        self.users[new["id"]] = new
        return new

    def add_guild(
        self,
        name: str,
        *,
        owner: Ref,
        everyone_permissions: int = p.DEFAULT_EVERYONE_PERMISSIONS,
        bot_permissions: int = p.DEFAULT_BOT_PERMISSIONS,
        id: str | int | None = None,
    ) -> dict[str, Any]:
        """A guild containing the bot (with its managed role) and the owner as members."""
        owner_user = self.user(owner)
        new = p.guild(
            name, owner_id=owner_user["id"], id=id, everyone_permissions=everyone_permissions
        )
        self.guilds[new["id"]] = new
        bot_role = self.add_role(
            new, self.bot_user["username"], permissions=bot_permissions, bot_id=self.bot_user["id"]
        )
        self.add_member(new, self.bot_user, roles=[bot_role])
        self.add_member(new, owner_user)
        return new

    def add_role(
        self, guild: Ref, name: str, *, permissions: int = 0, bot_id: str | None = None, **kw: Any
    ) -> dict[str, Any]:
        g = self.guild(guild)
        position = kw.pop("position", len(g["roles"]))
        new = p.role(name, permissions=permissions, position=position, bot_id=bot_id, **kw)
        g["roles"].append(new)
        return new

    def add_member(
        self, guild: Ref, user: Ref, *, roles: Iterable[Ref] = (), nick: str | None = None
    ) -> dict[str, Any]:
        g = self.guild(guild)
        u = self.user(user)
        role_ids = [self.role(r, guild=g)["id"] for r in roles]
        new = p.member(u, roles=role_ids, nick=nick)
        g["members"].append(new)
        g["member_count"] = len(g["members"])
        return new

    def add_text_channel(
        self,
        guild: Ref,
        name: str,
        *,
        overwrites: Sequence[Mapping[str, Any]] = (),
        topic: str | None = None,
        type: int = p.GUILD_TEXT,
    ) -> dict[str, Any]:
        g = self.guild(guild)
        new = p.text_channel(
            name,
            guild_id=g["id"],
            position=len(g["channels"]),
            overwrites=overwrites,
            topic=topic,
            type=type,
        )
        g["channels"].append(new)
        return new

    def add_forum_channel(
        self,
        guild: Ref,
        name: str,
        *,
        tags: Iterable[str] = (),
        overwrites: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        """A forum channel (type 15) whose ``available_tags`` have these names."""
        new = self.add_text_channel(guild, name, overwrites=overwrites, type=GUILD_FORUM)
        new.update(tp.forum_fields(tags))
        return new

    def set_system_channel(self, guild: Ref, channel: Ref | None) -> None:
        """Where Discord posts the server's system messages (None: the server has none)."""
        g = self.guild(guild)
        g["system_channel_id"] = self.channel(channel, guild=g)["id"] if channel else None

    def add_thread(self, thread: dict[str, Any]) -> dict[str, Any]:
        """Put a thread (``payloads.thread``) into its guild's active threads."""
        g = self.guild(thread["guild_id"])
        g["threads"].append(thread)
        return thread

    def threads_of(self, parent: Ref) -> list[dict[str, Any]]:
        """The threads (and forum posts) of a channel, oldest first."""
        ch = self.channel(parent)
        g = self.guild_of_channel(ch["id"])
        return [t for t in (g or {}).get("threads", []) if t["parent_id"] == ch["id"]]

    def open_dm(self, user: Ref) -> dict[str, Any]:
        u = self.user(user)
        if u["id"] not in self.dm_channels:
            self.dm_channels[u["id"]] = p.dm_channel(u)
        return self.dm_channels[u["id"]]

    # ------------------------------------------------------------------ lookups

    def user(self, ref: Ref) -> dict[str, Any]:
        wanted = _id_of(ref)
        if wanted is not None and wanted in self.users:
            return self.users[wanted]
        for candidate in self.users.values():
            if candidate["username"] == ref:
                return candidate
        raise KeyError(f"no such user: {ref!r}")

    def guild(self, ref: Ref | None = None) -> dict[str, Any]:
        if ref is None:
            if not self.guilds:
                raise KeyError("the world has no guild")
            return next(iter(self.guilds.values()))
        wanted = _id_of(ref)
        if wanted is not None and wanted in self.guilds:
            return self.guilds[wanted]
        for candidate in self.guilds.values():
            if candidate["name"] == ref:
                return candidate
        raise KeyError(f"no such guild: {ref!r}")

    def channel(self, ref: Ref, *, guild: Ref | None = None) -> dict[str, Any]:
        found = self.find_channel(ref, guild=guild)
        if found is None:
            raise KeyError(f"no such channel: {ref!r}")
        return found

    def find_channel(self, ref: Ref, *, guild: Ref | None = None) -> dict[str, Any] | None:
        wanted = _id_of(ref)
        guilds = [self.guild(guild)] if guild is not None else list(self.guilds.values())
        for g in guilds:
            for candidate in g["channels"]:
                if candidate["id"] == wanted or candidate["name"] == ref:
                    return candidate
            for candidate in g.get("threads", []):
                if candidate["id"] == wanted:
                    return candidate
        if guild is None:
            for dm in self.dm_channels.values():
                if dm["id"] == wanted:
                    return dm
        return None

    def guild_of_channel(self, channel_id: str | int) -> dict[str, Any] | None:
        for g in self.guilds.values():
            if any(c["id"] == str(channel_id) for c in [*g["channels"], *g.get("threads", [])]):
                return g
        return None

    def role(self, ref: Ref, *, guild: Ref | None = None) -> dict[str, Any]:
        wanted = _id_of(ref)
        guilds = [self.guild(guild)] if guild is not None else list(self.guilds.values())
        for g in guilds:
            for candidate in g["roles"]:
                if candidate["id"] == wanted or candidate["name"] == ref:
                    return candidate
        raise KeyError(f"no such role: {ref!r}")

    def member(self, ref: Ref, *, guild: Ref | None = None) -> dict[str, Any]:
        found = self.find_member(ref, guild=guild)
        if found is None:
            raise KeyError(f"no such member: {ref!r}")
        return found

    def find_member(self, ref: Ref, *, guild: Ref | None = None) -> dict[str, Any] | None:
        g = self.guild(guild)
        try:
            user_id = self.user(ref)["id"]
        except KeyError:
            return None
        for candidate in g["members"]:
            if candidate["user"]["id"] == user_id:
                return candidate
        return None

    def bot_member(self, guild: Ref | None = None) -> dict[str, Any]:
        return self.member(self.bot_user["id"], guild=guild)

    # -------------------------------------------------------------- permissions

    def permissions_for(
        self, member: Ref, *, guild: Ref | None = None, channel: Ref | None = None
    ) -> int:
        """Discord's permission algorithm: base (roles) then channel overwrites."""
        g = self.guild(guild)
        m = self.member(member, guild=g)
        if m["user"]["id"] == g["owner_id"]:
            return p.ALL_PERMISSIONS
        roles = {r["id"]: r for r in g["roles"]}
        perms = int(roles[g["id"]]["permissions"])
        for role_id in m["roles"]:
            perms |= int(roles[role_id]["permissions"])
        if perms & p.ADMINISTRATOR:
            return p.ALL_PERMISSIONS
        if channel is None:
            return perms
        ch = self.channel(channel, guild=g)
        if ch["type"] in THREAD_TYPES:  # a thread has its parent's overwrites
            ch = self.channel(ch["parent_id"], guild=g)
        overwrites = {o["id"]: o for o in ch.get("permission_overwrites", [])}
        everyone = overwrites.get(g["id"])
        if everyone:
            perms = (perms & ~int(everyone["deny"])) | int(everyone["allow"])
        allow = deny = 0
        for role_id in m["roles"]:
            o = overwrites.get(role_id)
            if o and o["type"] == p.ROLE_OVERWRITE:
                allow |= int(o["allow"])
                deny |= int(o["deny"])
        perms = (perms & ~deny) | allow
        own = overwrites.get(m["user"]["id"])
        if own and own["type"] == p.MEMBER_OVERWRITE:
            perms = (perms & ~int(own["deny"])) | int(own["allow"])
        # Implicit denials: no view means nothing; no send means no send-dependent perms.
        if not perms & p.VIEW_CHANNEL:
            return 0
        if not perms & p.SEND_MESSAGES:
            perms &= ~(p.EMBED_LINKS | p.ATTACH_FILES | p.MENTION_EVERYONE)
        return perms

    # ------------------------------------------------------------------- output

    def guild_create(self, guild: Ref, *, all_members: bool) -> dict[str, Any]:
        """GUILD_CREATE data. Without the presences intent Discord only sends the bot itself."""
        g = copy.deepcopy(self.guild(guild))
        if not all_members:
            g["members"] = [m for m in g["members"] if m["user"]["id"] == self.bot_user["id"]]
        for ch in g["channels"]:
            ch.pop("guild_id", None)  # GUILD_CREATE channels omit guild_id
        return g

    def channel_payload(self, channel: Ref) -> dict[str, Any]:
        return copy.deepcopy(self.channel(channel))


def default_world() -> World:
    """One guild "Newsroom" with a few channels, roles and members tests can rely on.

    Users: owner (guild owner), alice (plain member), mod (Moderator), admin (Admin role).
    Channels: general (the system channel), news, alerts, staff (hidden from @everyone,
    visible to mods/admins), readonly (@everyone may not send; the bot's role may), locked
    (the bot cannot see it), muted (the bot can see but not send), announcements (an
    announcement channel), discussions (a forum with tags Computer Vision, AI, Robotics).
    Roles besides Moderator and Admin: "Vision fans" (mentionable), "Quiet role" (not).
    """
    w = World()
    for name in ("owner", "alice", "mod", "admin"):
        w.add_user(name)
    g = w.add_guild("Newsroom", owner="owner")
    mod_perms = (
        p.DEFAULT_EVERYONE_PERMISSIONS
        | discord.Permissions(manage_messages=True, kick_members=True, moderate_members=True).value
    )
    w.add_role(g, "Moderator", permissions=mod_perms, hoist=True)
    w.add_role(g, "Admin", permissions=p.ADMINISTRATOR, hoist=True)
    w.add_member(g, "alice")
    w.add_member(g, "mod", roles=["Moderator"])
    w.add_member(g, "admin", roles=["Admin"])
    bot_role = w.bot_member(g)["roles"][0]
    for name in ("general", "news", "alerts"):
        w.add_text_channel(g, name)
    w.add_text_channel(
        g,
        "staff",
        overwrites=[
            p.overwrite(g["id"], deny=p.VIEW_CHANNEL),
            p.overwrite(w.role("Moderator")["id"], allow=p.VIEW_CHANNEL),
            p.overwrite(bot_role, allow=p.VIEW_CHANNEL),
        ],
    )
    w.add_text_channel(
        g,
        "readonly",
        overwrites=[
            p.overwrite(g["id"], deny=p.SEND_MESSAGES),
            p.overwrite(bot_role, allow=p.SEND_MESSAGES),
        ],
    )
    w.add_text_channel(g, "locked", overwrites=[p.overwrite(bot_role, deny=p.VIEW_CHANNEL)])
    w.add_text_channel(g, "muted", overwrites=[p.overwrite(bot_role, deny=p.SEND_MESSAGES)])
    w.add_text_channel(g, "announcements", type=GUILD_ANNOUNCEMENT)
    w.add_forum_channel(g, "discussions", tags=["Computer Vision", "AI", "Robotics"])
    w.add_role(g, "Vision fans", mentionable=True)
    w.add_role(g, "Quiet role")  # not mentionable: only Mention Everyone could ping it
    w.set_system_channel(g, "general")
    return w
