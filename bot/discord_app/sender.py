"""Delivering alerts to Discord: the `delivery.Sender` for a discord.py client.

Works at the HTTP level (`client.http`), so neither the channel nor the user
has to be in the cache: after a restart, or without the members intent, a
subscription's ids are all it needs. A DM is `POST /users/@me/channels`
(cached per user) then an ordinary channel message.

How a message lands is the `Delivery` the dispatcher hands over, carried out
as given: the message (`bot.replies.alerts.alert_message`, the very one a
preview shows) pings only its role; in a text or announcement channel it may
then start a thread (which shares the message's id: a retry that finds the
thread already there is a success, Discord's 160004) and be crossposted; in a
forum channel it is a post (a thread with the message as its starter, named
and tagged); with `edit_message_id` it edits an earlier alert instead.

Every Discord error becomes a `DeliveryError` whose kind tells the
dispatcher what to do; nothing else escapes except cancellation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord

from bot.core.alerts.delivery import (
    PLAIN_DELIVERY,
    Delivery,
    DeliveryError,
    FailureNotice,
    SendResult,
    Target,
)
from bot.core.alerts.dispatch import Dispatcher
from bot.core.alerts.pacing import Pacer, overall_share
from bot.core.records import Article
from bot.discord_app.bot import NewsBot
from bot.replies.alerts import (
    AlertMessage,
    ForumTag,
    alert_message,
    failure_notice_embed,
    forum_tag_ids,
)
from bot.replies.alerts import thread_name as clean_thread_name
from bot.replies.sanitize import NO_MENTIONS

log = logging.getLogger(__name__)

# 403 codes: what the bot lacks in a channel.
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
DM_CLOSED = 50007
UNKNOWN_MESSAGE = 10008
ALREADY_CROSSPOSTED = 40033
THREAD_ALREADY_CREATED = 160004
UNKNOWN_TARGETS = {10003, 10013, 50033}  # unknown channel, unknown user, invalid recipient

TEXT = discord.ChannelType.text.value
ANNOUNCEMENT = discord.ChannelType.news.value
FORUM = discord.ChannelType.forum.value
DM = discord.ChannelType.private.value
# A day without messages archives an alert's thread; it stays readable and reopens on reply.
THREAD_ARCHIVE_MINUTES = 1440


def classify(exc: discord.HTTPException) -> DeliveryError:
    """A discord.py HTTP error → the kind of failure the dispatcher acts on."""
    status, code, text = exc.status, exc.code, exc.text or str(exc)
    if status == 429:
        # discord.py already waited out and retried 429s; this is the last one.
        retry = _retry_after(exc)
        return DeliveryError("rate_limited", text, retry_after=retry, code=code, status=status)
    if code == DM_CLOSED:
        return DeliveryError("dm_closed", text, code=code, status=status)
    if code in UNKNOWN_TARGETS or status == 404:
        return DeliveryError("unknown_target", text, code=code, status=status)
    if status == 403:
        return DeliveryError("forbidden", text, code=code, status=status)
    if status >= 500:
        return DeliveryError("server_error", text, code=code, status=status)
    return DeliveryError("bad_request", text, code=code, status=status)


def _retry_after(exc: discord.HTTPException) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    for name in ("X-RateLimit-Reset-After", "Retry-After"):
        raw = headers.get(name)
        if raw:
            try:
                return float(raw)
            except ValueError:
                continue
    return 1.0


@dataclass(frozen=True, slots=True)
class _Channel:
    """What the sender needs to know of a target's channel."""

    id: int
    type: int
    guild_id: int | None
    tags: tuple[ForumTag, ...] = ()


class DiscordSender:
    """Sends one alert message per call, landing as its `Delivery` says.

    `timeout` bounds each request to Discord, including discord.py's own retries
    of 5xx answers (1 + 3 + 5 + 7 s of sleeping): past it the dispatcher's
    backoff takes over, and the nonce makes the retry safe even if Discord did
    take the message. `publish_timeout` bounds a crosspost: past Discord's 10 per
    hour it answers 429 with a wait of up to an hour, which discord.py would
    sleep through; the message then stays unpublished rather than late.
    """

    def __init__(
        self, client: discord.Client, *, timeout: float = 30.0, publish_timeout: float = 5.0
    ) -> None:
        self.client = client
        self.timeout = timeout
        self.publish_timeout = publish_timeout
        self._dm_channels: dict[int, int] = {}
        self._channels: dict[int, _Channel] = {}

    # -- the Sender protocol ------------------------------------------------------

    async def send(
        self,
        target: Target,
        articles: Sequence[Article],
        *,
        topic: str,
        nonce: str,
        delivery: Delivery = PLAIN_DELIVERY,
    ) -> SendResult:
        """Post (or edit) one alert message; every failure is a `DeliveryError`."""
        message = alert_message(articles, topic=topic, delivery=delivery)
        if not message.embeds:
            raise DeliveryError("bad_request", "no embed could be built")
        try:
            channel = await self._bounded(self._channel(target))
            self._precheck(channel, delivery)
            if delivery.edit_message_id is not None:
                return await self._edit(channel, message, delivery.edit_message_id)
            if channel.type == FORUM:
                return await self._forum_post(channel, message, articles, delivery)
            return await self._post(channel, message, nonce, delivery)
        except discord.HTTPException as exc:
            if target.kind == "user" and exc.status == 404:
                self._dm_channels.pop(target.id, None)
            raise classify(exc) from None

    async def find_thread(self, target: Target, name: str) -> int | None:
        """The newest unarchived thread (or forum post) of the target's channel that this
        bot started under `name`, or None. Raises DeliveryError when Discord cannot be
        asked: "not found" must mean not found, or a crash would post twice."""
        if target.kind != "channel":
            return None
        wanted = clean_thread_name(name)
        try:
            channel = await self._bounded(self._channel(target))
            if channel.guild_id is None:
                return None
            data = await self._bounded(self.client.http.get_active_threads(channel.guild_id))
        except discord.HTTPException as exc:
            raise classify(exc) from None
        me = self.client.user.id if self.client.user else None
        found = [
            int(t["id"])
            for t in data.get("threads", [])
            if int(t["parent_id"]) == channel.id
            and t["name"] == wanted
            and (me is None or int(t.get("owner_id") or 0) == me)
        ]
        return max(found) if found else None

    async def notify(self, notice: FailureNotice) -> None:
        """Tell the server's admins in its system channel (or, failing that, the
        subscription's creator by DM) that a subscription stopped. Never raises: a
        notice that cannot be delivered is logged and dropped."""
        embed = failure_notice_embed(notice.text)
        if notice.route == "system" and notice.guild_id is not None:
            channel_id = await self._system_channel(notice.guild_id)
            if channel_id is not None and await self._post_notice(channel_id, embed, notice):
                return
        if notice.user_id is None:
            log.warning(
                "failure notice for subscription #%d: nobody to tell", notice.subscription_id
            )
            return
        try:
            dm = await self._bounded(self._channel_id(Target("user", notice.user_id)))
        except (discord.HTTPException, DeliveryError, aiohttp.ClientError, OSError) as exc:
            log.warning("failure notice for #%d: no DM (%s)", notice.subscription_id, exc)
            return
        await self._post_notice(dm, embed, notice)

    # -- the ways a message lands ----------------------------------------------------

    async def _post(
        self, channel: _Channel, message: AlertMessage, nonce: str, delivery: Delivery
    ) -> SendResult:
        data = await self._bounded(self._create(channel.id, message, nonce))
        message_id = int(data["id"])
        thread_id = None
        if delivery.thread_name and channel.type in (TEXT, ANNOUNCEMENT):
            thread_id = await self._start_thread(channel, message_id, delivery.thread_name)
        published = False
        if delivery.publish and channel.type == ANNOUNCEMENT:
            published = await self._crosspost(channel, message_id)
        return SendResult(message_id, message.article_ids, thread_id=thread_id, published=published)

    async def _create(self, channel_id: int, message: AlertMessage, nonce: str) -> Any:
        view = message.view()
        with discord.http.handle_message_parameters(
            content=message.content if message.content else discord.utils.MISSING,
            embeds=message.embeds,
            nonce=nonce,
            allowed_mentions=message.allowed_mentions,
            view=view if view is not None else discord.utils.MISSING,
        ) as params:
            return await self.client.http.send_message(channel_id, params=params)

    async def _start_thread(self, channel: _Channel, message_id: int, name: str) -> int | None:
        """The thread on the alert message: created now, or by an earlier attempt (it
        shares the message's id). A channel where the bot may not create threads still
        gets the alert, without a thread."""
        try:
            data = await self._bounded(
                self.client.http.start_thread_with_message(
                    channel.id,
                    message_id,
                    name=clean_thread_name(name),
                    auto_archive_duration=THREAD_ARCHIVE_MINUTES,
                )
            )
        except discord.HTTPException as exc:
            if exc.code == THREAD_ALREADY_CREATED:
                return message_id
            if exc.status == 403:
                log.warning("alert in %d posted without its thread: %s", channel.id, exc.text)
                return None
            raise  # 5xx, 429: the retry re-sends under the same nonce and finds the message
        return int(data["id"])

    async def _crosspost(self, channel: _Channel, message_id: int) -> bool:
        """Publish to the channel's followers; False when Discord will not now (10 per hour
        per channel) or at all. The message is posted either way: never dropped."""
        try:
            async with asyncio.timeout(self.publish_timeout):
                await self.client.http.publish_message(channel.id, message_id)
        except TimeoutError:
            log.warning("alert %d in %d not published: crosspost limit", message_id, channel.id)
            return False
        except discord.RateLimited:
            return False
        except discord.HTTPException as exc:
            if exc.code == ALREADY_CROSSPOSTED:
                return True  # an earlier attempt published it
            log.warning("alert %d in %d not published: %s", message_id, channel.id, exc.text)
            return False
        return True

    async def _forum_post(
        self,
        forum: _Channel,
        message: AlertMessage,
        articles: Sequence[Article],
        delivery: Delivery,
    ) -> SendResult:
        """A post: a thread whose starter message is the alert (both share one id).
        Thread creation takes no nonce: the dispatcher asks `find_thread` after a crash."""
        name = clean_thread_name(delivery.thread_name or articles[0].title)
        channel_payload: dict[str, Any] = {
            "name": name,
            "auto_archive_duration": THREAD_ARCHIVE_MINUTES,
            "applied_tags": [str(t) for t in forum_tag_ids(forum.tags, delivery.forum_tags)],
        }
        view = message.view()
        with discord.http.handle_message_parameters(
            content=message.content if message.content else discord.utils.MISSING,
            embeds=message.embeds,
            allowed_mentions=message.allowed_mentions,
            view=view if view is not None else discord.utils.MISSING,
            channel_payload=channel_payload,
        ) as params:
            data = await self._bounded(
                self.client.http.start_thread_in_forum(forum.id, params=params)
            )
        thread_id = int(data["id"])
        starter = data.get("message") or {}
        return SendResult(
            int(starter.get("id", thread_id)), message.article_ids, thread_id=thread_id
        )

    async def _edit(self, channel: _Channel, message: AlertMessage, message_id: int) -> SendResult:
        """Edit an earlier alert in place. A forum post's message lives in its thread,
        which shares its id. A message deleted meanwhile is this alert's problem only
        (bad_request), not the channel's."""
        where = message_id if channel.type == FORUM else channel.id
        view = message.view()
        with discord.http.handle_message_parameters(
            content=message.content,
            embeds=message.embeds,
            allowed_mentions=message.allowed_mentions,
            view=view,
        ) as params:
            try:
                await self._bounded(self.client.http.edit_message(where, message_id, params=params))
            except discord.NotFound as exc:
                if exc.code == UNKNOWN_MESSAGE:
                    raise DeliveryError(
                        "bad_request", "the alert message to edit is gone", code=exc.code
                    ) from None
                raise
        return SendResult(message_id, message.article_ids)

    # -- helpers ---------------------------------------------------------------------

    async def _bounded(self, call: Any) -> Any:
        """One request within `timeout`; connection failures become DeliveryErrors."""
        try:
            async with asyncio.timeout(self.timeout):
                return await call
        except TimeoutError:
            raise DeliveryError("timeout", f"no answer within {self.timeout:g} s") from None
        except discord.RateLimited as exc:  # longer than the client's max_ratelimit_timeout
            raise DeliveryError("rate_limited", str(exc), retry_after=exc.retry_after) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise DeliveryError("server_error", f"connection: {exc}") from None

    async def _channel(self, target: Target) -> _Channel:
        """The target's channel: from the cache, else asked once of Discord."""
        if target.kind == "user":
            return _Channel(await self._channel_id(target), DM, None)
        cached = self.client.get_channel(target.id)
        if isinstance(cached, discord.abc.GuildChannel | discord.Thread):
            tags: tuple[ForumTag, ...] = ()
            if isinstance(cached, discord.ForumChannel):
                tags = tuple(ForumTag(t.id, t.name, t.moderated) for t in cached.available_tags)
            return _Channel(cached.id, cached.type.value, cached.guild.id, tags)
        known = self._channels.get(target.id)
        if known is None:
            data = await self.client.http.get_channel(target.id)
            tags = tuple(
                ForumTag(int(t["id"]), str(t["name"]), bool(t.get("moderated")))
                for t in data.get("available_tags", [])
            )
            gid = data.get("guild_id")
            known = _Channel(target.id, int(data["type"]), int(gid) if gid else None, tags)
            self._channels[target.id] = known
        return known

    def _precheck(self, channel: _Channel, delivery: Delivery) -> None:
        """Refuse early what Discord would refuse, or worse, accept without the
        embeds (a bot without Embed Links posts an empty message)."""
        if delivery.edit_message_id is not None:
            return  # editing one's own message needs no permission in the channel
        cached = self.client.get_channel(channel.id)
        if not isinstance(cached, discord.abc.GuildChannel):
            return  # not cached (yet), or a DM: let Discord answer
        me = cached.guild.me
        if me is None:
            return
        perms = cached.permissions_for(me)
        if not perms.view_channel:
            raise DeliveryError(
                "forbidden",
                "Missing Access (checked before sending)",
                code=MISSING_ACCESS,
                status=403,
            )
        missing = [
            name
            for name, ok in (
                ("Send Messages", perms.send_messages),
                ("Embed Links", perms.embed_links),
            )
            if not ok
        ]
        if missing:
            raise DeliveryError(
                "forbidden",
                "Missing Permissions: " + ", ".join(missing),
                code=MISSING_PERMISSIONS,
                status=403,
            )

    async def _channel_id(self, target: Target) -> int:
        if target.kind == "channel":
            return target.id
        cached = self._dm_channels.get(target.id)
        if cached is None:
            data = await self.client.http.start_private_message(target.id)
            cached = self._dm_channels[target.id] = int(data["id"])
        return cached

    async def _system_channel(self, guild_id: int) -> int | None:
        guild = self.client.get_guild(guild_id)
        if guild is not None:
            return guild.system_channel.id if guild.system_channel is not None else None
        try:
            data = await self._bounded(self.client.http.get_guild(guild_id))
        except (discord.HTTPException, DeliveryError) as exc:
            log.warning("failure notice: cannot read guild %d (%s)", guild_id, exc)
            return None
        raw = data.get("system_channel_id")
        return int(raw) if raw else None

    async def _post_notice(
        self, channel_id: int, embed: discord.Embed, notice: FailureNotice
    ) -> bool:
        try:
            with discord.http.handle_message_parameters(
                embeds=[embed], allowed_mentions=NO_MENTIONS
            ) as params:
                await self._bounded(self.client.http.send_message(channel_id, params=params))
        except (discord.HTTPException, DeliveryError) as exc:
            log.warning(
                "failure notice for subscription #%d not delivered to %d: %s",
                notice.subscription_id,
                channel_id,
                exc,
            )
            return False
        return True


def build_dispatcher(bot: NewsBot) -> Dispatcher:
    """The bot's alert dispatcher over its store, delivering through this sender: only
    to targets of the process's shards, at its share of the token's overall budget."""
    shards = bot.settings.shards
    return Dispatcher(
        bot.room.store,
        DiscordSender(bot),
        notices=bot.settings.failure_notices,
        shards=shards,
        pacer=Pacer(overall=overall_share(shards.share)),
    )
