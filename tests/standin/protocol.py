"""Discord protocol values by name, for the stand-in and the tests that read what it recorded.

Where discord.py has an enum or flag class for a value, the value is taken from it (discord.py
2.7's source is the ground truth the stand-in follows); the rest (JSON error codes, gateway
close codes) are spelt out with Discord's names. HTTP statuses are ``http.HTTPStatus``'s.
"""

from __future__ import annotations

import discord
from discord.gateway import DiscordWebSocket

# --------------------------------------------------------------------- interaction types

PING = discord.InteractionType.ping.value
APPLICATION_COMMAND = discord.InteractionType.application_command.value
MESSAGE_COMPONENT = discord.InteractionType.component.value
APPLICATION_COMMAND_AUTOCOMPLETE = discord.InteractionType.autocomplete.value
MODAL_SUBMIT = discord.InteractionType.modal_submit.value

# ---------------------------------------------------- interaction callback (response) types

PONG = discord.InteractionResponseType.pong.value
CHANNEL_MESSAGE = discord.InteractionResponseType.channel_message.value  # "with source"
DEFERRED_CHANNEL_MESSAGE = discord.InteractionResponseType.deferred_channel_message.value
DEFERRED_UPDATE_MESSAGE = discord.InteractionResponseType.deferred_message_update.value
UPDATE_MESSAGE = discord.InteractionResponseType.message_update.value
AUTOCOMPLETE_RESULT = discord.InteractionResponseType.autocomplete_result.value
MODAL = discord.InteractionResponseType.modal.value

# ----------------------------------------------------------------------- component types

ACTION_ROW = discord.ComponentType.action_row.value
BUTTON = discord.ComponentType.button.value
STRING_SELECT = discord.ComponentType.string_select.value
TEXT_INPUT = discord.ComponentType.text_input.value
USER_SELECT = discord.ComponentType.user_select.value
ROLE_SELECT = discord.ComponentType.role_select.value
MENTIONABLE_SELECT = discord.ComponentType.mentionable_select.value
CHANNEL_SELECT = discord.ComponentType.channel_select.value
SECTION = discord.ComponentType.section.value
TEXT_DISPLAY = discord.ComponentType.text_display.value
THUMBNAIL = discord.ComponentType.thumbnail.value
CONTAINER = discord.ComponentType.container.value
SELECT_TYPES = frozenset(
    {STRING_SELECT, USER_SELECT, ROLE_SELECT, MENTIONABLE_SELECT, CHANNEL_SELECT}
)

# ------------------------------------------------------------------------- button styles

PRIMARY = discord.ButtonStyle.primary.value
SECONDARY = discord.ButtonStyle.secondary.value
SUCCESS = discord.ButtonStyle.success.value
DANGER = discord.ButtonStyle.danger.value
LINK = discord.ButtonStyle.link.value
PREMIUM = discord.ButtonStyle.premium.value
BUTTON_STYLES = frozenset({PRIMARY, SECONDARY, SUCCESS, DANGER, LINK, PREMIUM})

# ------------------------------------------------------------------------- message flags

SUPPRESS_EMBEDS = discord.MessageFlags(suppress_embeds=True).value
EPHEMERAL = discord.MessageFlags(ephemeral=True).value
LOADING = discord.MessageFlags(loading=True).value
SUPPRESS_NOTIFICATIONS = discord.MessageFlags(suppress_notifications=True).value
IS_COMPONENTS_V2 = discord.MessageFlags(components_v2=True).value
# Flags a bot may set when creating a message; anything else is silently dropped by Discord.
CREATABLE_FLAGS = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2
EDITABLE_FLAGS = SUPPRESS_EMBEDS | IS_COMPONENTS_V2
CROSSPOSTED = discord.MessageFlags(crossposted=True).value
HAS_THREAD = discord.MessageFlags(has_thread=True).value

# ------------------------------------------------------------------------- message types

DEFAULT_MESSAGE = discord.MessageType.default.value
REPLY = discord.MessageType.reply.value
CHAT_INPUT_COMMAND = discord.MessageType.chat_input_command.value

# ----------------------------------------------------------------- application commands

CHAT_INPUT = discord.AppCommandType.chat_input.value  # a slash command

# Option types.
SUB_COMMAND = discord.AppCommandOptionType.subcommand.value
SUB_COMMAND_GROUP = discord.AppCommandOptionType.subcommand_group.value
STRING = discord.AppCommandOptionType.string.value
INTEGER = discord.AppCommandOptionType.integer.value
BOOLEAN = discord.AppCommandOptionType.boolean.value
USER = discord.AppCommandOptionType.user.value
CHANNEL = discord.AppCommandOptionType.channel.value
ROLE = discord.AppCommandOptionType.role.value
MENTIONABLE = discord.AppCommandOptionType.mentionable.value
NUMBER = discord.AppCommandOptionType.number.value
ATTACHMENT = discord.AppCommandOptionType.attachment.value

# Interaction context types (discord.py has no enum; ``app_commands.AppCommandContext``
# spells them as flags).
CONTEXT_GUILD = 0
CONTEXT_BOT_DM = 1
CONTEXT_PRIVATE_CHANNEL = 2

# ------------------------------------------------------------------------- channel types

GUILD_TEXT = discord.ChannelType.text.value
DM = discord.ChannelType.private.value
GUILD_CATEGORY = discord.ChannelType.category.value
GUILD_ANNOUNCEMENT = discord.ChannelType.news.value
ANNOUNCEMENT_THREAD = discord.ChannelType.news_thread.value
PUBLIC_THREAD = discord.ChannelType.public_thread.value
PRIVATE_THREAD = discord.ChannelType.private_thread.value
GUILD_FORUM = discord.ChannelType.forum.value
THREAD_TYPES = frozenset({ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD})

# --------------------------------------------------------------------- application flags

# An unverified bot: the message-content and members intents are "limited", not denied.
DEFAULT_APPLICATION_FLAGS = discord.ApplicationFlags(
    app_commands_badge=True,
    gateway_message_content_limited=True,
    gateway_guild_members_limited=True,
).value

# ----------------------------------------------------------------------- gateway opcodes

DISPATCH = DiscordWebSocket.DISPATCH
HEARTBEAT = DiscordWebSocket.HEARTBEAT
IDENTIFY = DiscordWebSocket.IDENTIFY
PRESENCE_UPDATE = DiscordWebSocket.PRESENCE
VOICE_STATE_UPDATE = DiscordWebSocket.VOICE_STATE
RESUME = DiscordWebSocket.RESUME
RECONNECT = DiscordWebSocket.RECONNECT
REQUEST_GUILD_MEMBERS = DiscordWebSocket.REQUEST_MEMBERS
INVALID_SESSION = DiscordWebSocket.INVALIDATE_SESSION
HELLO = DiscordWebSocket.HELLO
HEARTBEAT_ACK = DiscordWebSocket.HEARTBEAT_ACK

# -------------------------------------------------------------------- gateway close codes

CLOSE_NORMAL = 1000  # websocket: the client is done; its session ends
CLOSE_GOING_AWAY = 1001  # websocket: also ends the session
CLOSE_UNKNOWN_ERROR = 4000  # resumable
CLOSE_UNKNOWN_OPCODE = 4001
CLOSE_DECODE_ERROR = 4002
CLOSE_NOT_AUTHENTICATED = 4003
CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_ALREADY_AUTHENTICATED = 4005
CLOSE_INVALID_SHARD = 4010
CLOSE_INVALID_INTENTS = 4013
CLOSE_DISALLOWED_INTENTS = 4014

# ------------------------------------------------------------------------------- intents

GUILD_MEMBERS = discord.Intents(members=True).value
GUILD_PRESENCES = discord.Intents(presences=True).value
GUILD_MESSAGES = discord.Intents(guild_messages=True).value
DIRECT_MESSAGES = discord.Intents(dm_messages=True).value
MESSAGE_CONTENT = discord.Intents(message_content=True).value

# ---------------------------------------------------------------------- JSON error codes

GENERAL_ERROR = 0  # the code of a 401/404/429/5xx that has no specific one
UNKNOWN_CHANNEL = 10003
UNKNOWN_GUILD = 10004
UNKNOWN_MEMBER = 10007
UNKNOWN_MESSAGE = 10008
UNKNOWN_USER = 10013
UNKNOWN_WEBHOOK = 10015
UNKNOWN_INTERACTION = 10062
UNKNOWN_APPLICATION_COMMAND = 10063
INTERACTION_ALREADY_ACKNOWLEDGED = 40060
MISSING_ACCESS = 50001
CANNOT_EDIT_OTHERS_MESSAGE = 50005
EMPTY_MESSAGE = 50006
CANNOT_SEND_IN_NON_TEXT_CHANNEL = 50008
CANNOT_SEND_TO_USER = 50007  # the user's DMs are closed to the bot
MISSING_PERMISSIONS = 50013
INVALID_CHANNEL_TYPE = 50024  # "Cannot execute action on this channel type"
INVALID_WEBHOOK_TOKEN = 50027
INVALID_RECIPIENTS = 50033
INVALID_FORM_BODY = 50035
INVALID_JSON = 50109
ALREADY_CROSSPOSTED = 40033
THREAD_ALREADY_CREATED = 160004

# Crossposting (publishing) in an announcement channel: at most this many per channel per hour.
CROSSPOSTS_PER_HOUR = 10
