"""Builders for Discord-shaped JSON payloads (API v10).

Everything here returns plain dicts exactly as Discord would put them on the wire: ids are
strings, permissions are decimal strings, timestamps are ISO 8601. The builders are pure; the
stand-in's world model (``world.py``) and server fill in the context (who clicked, where).
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import discord

# The protocol values are ``protocol``'s; the ones builders take or tests pass are also
# reachable through this module (``p.APPLICATION_COMMAND``, ``p.STRING``, ``p.GUILD_TEXT``).
from .protocol import (
    ACTION_ROW,
    APPLICATION_COMMAND,
    APPLICATION_COMMAND_AUTOCOMPLETE,
    BOOLEAN,
    BUTTON,
    CHANNEL,
    CHAT_INPUT,
    CONTEXT_BOT_DM,
    CONTEXT_GUILD,
    DM,
    GUILD_TEXT,
    INTEGER,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    NUMBER,
    ROLE,
    STRING,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    TEXT_INPUT,
    USER,
)

DISCORD_EPOCH_MS = 1420070400000

ALL_PERMISSIONS = discord.Permissions.all().value
ADMINISTRATOR = discord.Permissions(administrator=True).value
VIEW_CHANNEL = discord.Permissions(view_channel=True).value
SEND_MESSAGES = discord.Permissions(send_messages=True).value
EMBED_LINKS = discord.Permissions(embed_links=True).value
ATTACH_FILES = discord.Permissions(attach_files=True).value
MENTION_EVERYONE = discord.Permissions(mention_everyone=True).value

# Close to what a freshly created guild grants @everyone (minus @everyone pings, which tests
# about mention hygiene want off by default).
DEFAULT_EVERYONE_PERMISSIONS = discord.Permissions(
    create_instant_invite=True,
    change_nickname=True,
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    create_private_threads=True,
    embed_links=True,
    attach_files=True,
    add_reactions=True,
    use_external_emojis=True,
    use_external_stickers=True,
    read_message_history=True,
    use_application_commands=True,
    connect=True,
    speak=True,
    stream=True,
    use_voice_activation=True,
).value

# What the bot's managed role gets from a typical invite link.
DEFAULT_BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    add_reactions=True,
    use_external_emojis=True,
    use_application_commands=True,
).value

# Permissions a bot has in a DM with a user (what Discord reports as app_permissions there).
DM_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    add_reactions=True,
    use_external_emojis=True,
    use_application_commands=True,
).value

_increment = itertools.count()


def snowflake(at: float | None = None) -> str:
    """A fresh, unique snowflake (as Discord's string form) whose timestamp is ``at`` or now."""
    ms = int((time.time() if at is None else at) * 1000)
    return str(((ms - DISCORD_EPOCH_MS) << 22) | (1 << 17) | (next(_increment) & 0xFFF))


def snowflake_time(value: str | int) -> datetime:
    return datetime.fromtimestamp(((int(value) >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)


def iso_now() -> str:
    return datetime.now(tz=UTC).isoformat()


def interaction_token() -> str:
    # Real tokens are long opaque strings prefixed with "aW50ZXJhY3Rpb246" ("interaction:").
    return "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)


# --------------------------------------------------------------------------- users & guilds


def user(
    username: str,
    *,
    id: str | int | None = None,
    bot: bool = False,
    global_name: str | None = None,
    avatar: str | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": str(id) if id is not None else snowflake(),
        "username": username,
        "discriminator": "0",
        "global_name": global_name,
        "avatar": avatar,
        "avatar_decoration_data": None,
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "collectibles": None,
        "primary_guild": None,
    }
    if bot:
        payload["bot"] = True
    return payload


def bot_user(username: str = "newsbot", *, id: str | int | None = None) -> dict[str, Any]:
    """The bot's own user as returned by ``GET /users/@me`` and in READY."""
    payload = user(username, id=id, bot=True)
    payload.update({"verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"})
    return payload


PRIVATE_USER_FIELDS = ("verified", "mfa_enabled", "email", "locale")


def public_user(of_user: Mapping[str, Any]) -> dict[str, Any]:
    """A user as other people see it (messages, members): no email/verified/mfa/locale."""
    return {k: v for k, v in of_user.items() if k not in PRIVATE_USER_FIELDS}


def role(
    name: str,
    *,
    id: str | int | None = None,
    permissions: int = 0,
    position: int = 1,
    color: int = 0,
    hoist: bool = False,
    mentionable: bool = False,
    managed: bool = False,
    bot_id: str | int | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": str(id) if id is not None else snowflake(),
        "name": name,
        "description": None,
        "permissions": str(permissions),
        "position": position,
        "color": color,
        "colors": {"primary_color": color, "secondary_color": None, "tertiary_color": None},
        "hoist": hoist,
        "icon": None,
        "unicode_emoji": None,
        "managed": managed or bot_id is not None,
        "mentionable": mentionable,
        "flags": 0,
    }
    if bot_id is not None:
        payload["tags"] = {"bot_id": str(bot_id)}
    return payload


ROLE_OVERWRITE = 0
MEMBER_OVERWRITE = 1


def overwrite(target_id: str | int, *, member: bool = False, allow: int = 0, deny: int = 0) -> dict:
    return {
        "id": str(target_id),
        "type": MEMBER_OVERWRITE if member else ROLE_OVERWRITE,
        "allow": str(allow),
        "deny": str(deny),
    }


def text_channel(
    name: str,
    *,
    guild_id: str | int,
    id: str | int | None = None,
    position: int = 0,
    overwrites: Sequence[Mapping[str, Any]] = (),
    topic: str | None = None,
    parent_id: str | int | None = None,
    nsfw: bool = False,
    type: int = GUILD_TEXT,
) -> dict[str, Any]:
    return {
        "id": str(id) if id is not None else snowflake(),
        "type": type,
        "guild_id": str(guild_id),
        "name": name,
        "position": position,
        "permission_overwrites": [dict(o) for o in overwrites],
        "topic": topic,
        "nsfw": nsfw,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "parent_id": str(parent_id) if parent_id is not None else None,
        "flags": 0,
    }


def dm_channel(recipient: Mapping[str, Any], *, id: str | int | None = None) -> dict[str, Any]:
    return {
        "id": str(id) if id is not None else snowflake(),
        "type": DM,
        "last_message_id": None,
        "flags": 0,
        "recipients": [dict(recipient)],
    }


def member(
    of_user: Mapping[str, Any],
    *,
    roles: Iterable[str | int] = (),
    nick: str | None = None,
    joined_at: str | None = None,
) -> dict[str, Any]:
    return {
        "user": public_user(of_user),
        "roles": [str(r) for r in roles],
        "nick": nick,
        "avatar": None,
        "banner": None,
        "joined_at": joined_at or iso_now(),
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "communication_disabled_until": None,
        "unusual_dm_activity_until": None,
    }


def guild(
    name: str,
    *,
    owner_id: str | int,
    id: str | int | None = None,
    roles: Sequence[Mapping[str, Any]] = (),
    channels: Sequence[Mapping[str, Any]] = (),
    members: Sequence[Mapping[str, Any]] = (),
    everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
    preferred_locale: str = "en-US",
) -> dict[str, Any]:
    """A full GUILD_CREATE-shaped guild. The @everyone role (id == guild id) is added here."""
    guild_id = str(id) if id is not None else snowflake()
    everyone = role("@everyone", id=guild_id, permissions=everyone_permissions, position=0)
    return {
        "id": guild_id,
        "name": name,
        "icon": None,
        "icon_hash": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(owner_id),
        "region": None,
        "afk_channel_id": None,
        "afk_timeout": 300,
        "widget_enabled": False,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "mfa_level": 0,
        "nsfw_level": 0,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": preferred_locale,
        "features": [],
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "vanity_url_code": None,
        "max_members": 500000,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "incidents_data": None,
        "roles": [everyone, *[dict(r) for r in roles]],
        "emojis": [],
        "stickers": [],
        "channels": [dict(c) for c in channels],
        "members": [dict(m) for m in members],
        "threads": [],
        "presences": [],
        "voice_states": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "large": False,
        "unavailable": False,
        "member_count": len(members),
        "joined_at": iso_now(),
        "lazy": True,
    }


def application(
    *,
    id: str | int,
    bot: Mapping[str, Any],
    owner: Mapping[str, Any],
    name: str = "newsbot",
    flags: int = 0,
) -> dict[str, Any]:
    """The body of ``GET /oauth2/applications/@me``."""
    return {
        "id": str(id),
        "name": name,
        "icon": None,
        "description": "",
        "summary": "",
        "type": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": secrets.token_hex(32),
        "flags": flags,
        "owner": dict(owner),
        "team": None,
        "bot": dict(bot),
        "hook": True,
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "tags": [],
        "install_params": None,
        "integration_types_config": {"0": {}},
        "approximate_guild_count": 1,
        "approximate_user_install_count": 0,
    }


# ------------------------------------------------------------------------------ messages


def message(
    *,
    channel_id: str | int,
    author: Mapping[str, Any],
    content: str = "",
    id: str | int | None = None,
    embeds: Sequence[Mapping[str, Any]] = (),
    components: Sequence[Mapping[str, Any]] = (),
    attachments: Sequence[Mapping[str, Any]] = (),
    flags: int = 0,
    type: int = 0,
    tts: bool = False,
    nonce: str | int | None = None,
    webhook_id: str | int | None = None,
    application_id: str | int | None = None,
    interaction_metadata: Mapping[str, Any] | None = None,
    mentions: Sequence[Mapping[str, Any]] = (),
    mention_roles: Sequence[str] = (),
    mention_everyone: bool = False,
    message_reference: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A message object as REST returns it (no guild_id/member; the gateway adds those)."""
    message_id = str(id) if id is not None else snowflake()
    payload: dict[str, Any] = {
        "id": message_id,
        "channel_id": str(channel_id),
        "author": public_user(author),
        "content": content,
        "timestamp": snowflake_time(message_id).isoformat(),
        "edited_timestamp": None,
        "tts": tts,
        "mention_everyone": mention_everyone,
        "mentions": [dict(m) for m in mentions],
        "mention_roles": list(mention_roles),
        "attachments": [dict(a) for a in attachments],
        "embeds": [normalise_embed(e) for e in embeds],
        "components": [dict(c) for c in components],
        "pinned": False,
        "type": type,
        "flags": flags,
    }
    if nonce is not None:
        payload["nonce"] = nonce
    if webhook_id is not None:
        payload["webhook_id"] = str(webhook_id)
    if application_id is not None:
        payload["application_id"] = str(application_id)
    if interaction_metadata is not None:
        payload["interaction_metadata"] = dict(interaction_metadata)
    if message_reference is not None:
        payload["message_reference"] = dict(message_reference)
    return payload


def normalise_embed(embed: Mapping[str, Any]) -> dict[str, Any]:
    """Discord echoes embeds back with ``type: rich`` filled in and ``content_scan_version``."""
    out = dict(embed)
    out.setdefault("type", "rich")
    out.setdefault("content_scan_version", 0)
    return out


def attachment(
    filename: str,
    *,
    size: int,
    content_type: str | None = None,
    description: str | None = None,
    channel_id: str | int = 0,
) -> dict[str, Any]:
    attachment_id = snowflake()
    url = f"https://cdn.discordapp.com/attachments/{channel_id}/{attachment_id}/{filename}"
    payload: dict[str, Any] = {
        "id": attachment_id,
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"),
        "content_type": content_type,
    }
    if description is not None:
        payload["description"] = description
    return payload


# -------------------------------------------------------------------------- interactions


def option(name: str, value: Any, *, type: int | None = None, focused: bool = False) -> dict:
    """One leaf option of a slash command invocation. The type is inferred if not given."""
    opt: dict[str, Any] = {"name": name, "type": type if type is not None else infer_type(value)}
    if isinstance(value, Mapping):
        value = _object_id(value)
    opt["value"] = value
    if focused:
        opt["focused"] = True
    return opt


def subcommand(name: str, options: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    return {"name": name, "type": SUB_COMMAND, "options": [dict(o) for o in options]}


def subcommand_group(name: str, subcommands: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"name": name, "type": SUB_COMMAND_GROUP, "options": [dict(s) for s in subcommands]}


def infer_type(value: Any) -> int:
    # bool first: it is a subclass of int.
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    if isinstance(value, str):
        return STRING
    if isinstance(value, Mapping):
        if "username" in value or "user" in value:
            return USER
        if "type" in value and "name" in value:
            return CHANNEL
        if "permissions" in value and "name" in value:
            return ROLE
    raise TypeError(f"cannot infer an option type for {value!r}; pass type= explicitly")


def _object_id(value: Mapping[str, Any]) -> str:
    if "user" in value:
        return str(value["user"]["id"])
    return str(value["id"])


def build_options(
    options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
    *,
    focused: str | None = None,
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Turn ``{"query": "x", "who": alice_member}`` into (options list, resolved data).

    A list of already-built option dicts is passed through untouched (resolved stays empty),
    so tests can send exotic shapes. Users/members/channels/roles given as payload dicts are
    sent as their id and added to ``resolved`` the way Discord does.
    """
    if options is None:
        return [], {}
    if not isinstance(options, Mapping):
        return [dict(o) for o in options], {}
    built: list[dict[str, Any]] = []
    resolved: dict[str, dict[str, Any]] = {}
    for name, value in options.items():
        built.append(option(name, value, focused=(name == focused)))
        if isinstance(value, Mapping):
            _add_resolved(resolved, value)
    if focused is not None and focused not in options:
        raise KeyError(f"focused option {focused!r} is not among the options")
    return built, resolved


def _add_resolved(resolved: dict[str, dict[str, Any]], value: Mapping[str, Any]) -> None:
    if "user" in value:  # a member payload
        user_payload = dict(value["user"])
        partial_member = {k: v for k, v in value.items() if k != "user"}
        resolved.setdefault("users", {})[user_payload["id"]] = user_payload
        resolved.setdefault("members", {})[user_payload["id"]] = partial_member
    elif "username" in value:
        resolved.setdefault("users", {})[str(value["id"])] = dict(value)
    elif "type" in value:
        channel_keys = ("id", "name", "type", "parent_id", "permissions", "flags")
        partial = {k: value[k] for k in channel_keys if k in value}
        resolved.setdefault("channels", {})[str(value["id"])] = partial
    else:
        resolved.setdefault("roles", {})[str(value["id"])] = dict(value)


def nest_command_path(
    path: str, leaf_options: list[dict[str, Any]]
) -> tuple[str, list[dict[str, Any]]]:
    """``"admin reload"`` + opts -> ("admin", [{type: 1, name: "reload", options: opts}])."""
    parts = path.split()
    if not parts or len(parts) > 3:
        raise ValueError(f"a command path has 1-3 words, got {path!r}")
    if len(parts) == 1:
        return parts[0], leaf_options
    if len(parts) == 2:
        return parts[0], [subcommand(parts[1], leaf_options)]
    return parts[0], [subcommand_group(parts[1], [subcommand(parts[2], leaf_options)])]


def _interaction_base(
    type: int,
    data: dict[str, Any] | None,
    *,
    application_id: str | int,
    channel: Mapping[str, Any],
    guild_id: str | int | None = None,
    member: Mapping[str, Any] | None = None,
    user: Mapping[str, Any] | None = None,
    member_permissions: int | None = None,
    app_permissions: int = DEFAULT_BOT_PERMISSIONS,
    locale: str = "en-US",
    guild_locale: str = "en-US",
    id: str | int | None = None,
    token: str | None = None,
    message: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": str(id) if id is not None else snowflake(),
        "application_id": str(application_id),
        "type": type,
        "token": token or interaction_token(),
        "version": 1,
        "channel_id": str(channel["id"]),
        "channel": dict(channel),
        "app_permissions": str(app_permissions),
        "locale": locale,
        "entitlements": [],
        "entitlement_sku_ids": [],
        "attachment_size_limit": 10 * 1024 * 1024,
    }
    if data is not None:
        payload["data"] = data
    if guild_id is not None:
        if member is None:
            raise ValueError("a guild interaction needs the invoking member")
        invoker = dict(member)
        if member_permissions is not None:
            invoker["permissions"] = str(member_permissions)
        if "permissions" not in invoker:
            raise ValueError("the invoking member needs computed 'permissions'")
        payload.update(
            guild_id=str(guild_id),
            guild={"id": str(guild_id), "locale": guild_locale, "features": []},
            guild_locale=guild_locale,
            member=invoker,
            authorizing_integration_owners={"0": str(guild_id)},
            context=CONTEXT_GUILD,
        )
    else:
        if user is None:
            raise ValueError("a DM interaction needs the invoking user")
        payload.update(
            user=dict(user),
            # "0" is how Discord spells "installed to a guild, used in the bot's DM".
            authorizing_integration_owners={"0": "0"},
            context=CONTEXT_BOT_DM,
        )
    if message is not None:
        payload["message"] = dict(message)
    return payload


def slash_command_interaction(
    command: str,
    options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    *,
    command_id: str | int | None = None,
    command_guild_id: str | int | None = None,
    resolved: Mapping[str, Any] | None = None,
    **context: Any,
) -> dict[str, Any]:
    """INTERACTION_CREATE for a chat-input command; ``command`` may be "admin reload"."""
    leaf, auto_resolved = build_options(options)
    name, opts = nest_command_path(command, leaf)
    data = _command_data(name, opts, command_id, command_guild_id, resolved or auto_resolved)
    return _interaction_base(APPLICATION_COMMAND, data, **context)


def autocomplete_interaction(
    command: str,
    options: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    focused: str | None = None,
    command_id: str | int | None = None,
    command_guild_id: str | int | None = None,
    **context: Any,
) -> dict[str, Any]:
    """INTERACTION_CREATE type 4; ``focused`` names the option being typed (a Mapping's key)."""
    leaf, _ = build_options(options, focused=focused)
    if not any(o.get("focused") for o in leaf):
        raise ValueError("an autocomplete interaction needs exactly one focused option")
    name, opts = nest_command_path(command, leaf)
    # Discord leaves out `resolved` for autocomplete (values are what the user is typing).
    data = _command_data(name, opts, command_id, command_guild_id, None)
    return _interaction_base(APPLICATION_COMMAND_AUTOCOMPLETE, data, **context)


def _command_data(
    name: str,
    options: list[dict[str, Any]],
    command_id: str | int | None,
    command_guild_id: str | int | None,
    resolved: Mapping[str, Any] | None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(command_id) if command_id is not None else snowflake(),
        "name": name,
        "type": CHAT_INPUT,
    }
    if options:
        data["options"] = options
    if command_guild_id is not None:
        data["guild_id"] = str(command_guild_id)
    if resolved:
        data["resolved"] = dict(resolved)
    return data


def component_interaction(
    custom_id: str,
    *,
    message: Mapping[str, Any],
    component_type: int = BUTTON,
    values: Sequence[str] | None = None,
    **context: Any,
) -> dict[str, Any]:
    """INTERACTION_CREATE MESSAGE_COMPONENT: a BUTTON press, or a select (``SELECT_TYPES``)."""
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
    if values is not None:
        data["values"] = list(values)
    return _interaction_base(MESSAGE_COMPONENT, data, message=message, **context)


def modal_submit_interaction(
    custom_id: str,
    fields: Mapping[str, str],
    *,
    message: Mapping[str, Any] | None = None,
    **context: Any,
) -> dict[str, Any]:
    """INTERACTION_CREATE MODAL_SUBMIT; ``fields`` maps each text input's custom_id to its value."""
    rows = [
        {
            "type": ACTION_ROW,
            "components": [{"type": TEXT_INPUT, "custom_id": key, "value": value}],
        }
        for key, value in fields.items()
    ]
    data = {"custom_id": custom_id, "components": rows}
    return _interaction_base(MODAL_SUBMIT, data, message=message, **context)
