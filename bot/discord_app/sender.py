"""Delivering alert digests to Discord: the `delivery.Sender` for a discord.py client.

Works at the HTTP level (`client.http`), so neither the channel nor the user
has to be in the cache: after a restart, or without the members intent, a
subscription's ids are all it needs. A DM is `POST /users/@me/channels`
(cached per user) then an ordinary channel message.

Every Discord error becomes a `DeliveryError` whose kind tells the
dispatcher what to do; nothing else escapes except cancellation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import aiohttp
import discord

from bot.core.alerts.delivery import DeliveryError, SendResult, Target
from bot.core.alerts.dispatch import Dispatcher
from bot.core.records import Article
from bot.discord_app.bot import NewsBot
from bot.replies.embeds import alert_embeds, story_buttons
from bot.replies.sanitize import NO_MENTIONS

log = logging.getLogger(__name__)

# 403 codes: what the bot lacks in a channel.
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
DM_CLOSED = 50007
UNKNOWN_TARGETS = {10003, 10013, 50033}  # unknown channel, unknown user, invalid recipient


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


class DiscordSender:
    """Sends one alert message (embeds from `alert_embeds`) per call.

    `timeout` bounds one whole send, including discord.py's own retries of
    5xx answers (1 + 3 + 5 + 7 s of sleeping): past it the dispatcher's
    backoff takes over, and the nonce makes the retry safe even if Discord
    did take the message.
    """

    def __init__(self, client: discord.Client, *, timeout: float = 30.0) -> None:
        self.client = client
        self.timeout = timeout
        self._dm_channels: dict[int, int] = {}

    async def send(
        self, target: Target, articles: Sequence[Article], *, topic: str, nonce: str
    ) -> SendResult:
        """Post the digest to the target's channel (or DM); every failure is a `DeliveryError`."""
        embeds = alert_embeds(articles, topic=topic)
        if not embeds:
            raise DeliveryError("bad_request", "no embed could be built")
        self._precheck(target)
        view = _buttons(articles[0]) if len(embeds) == 1 else None
        try:
            async with asyncio.timeout(self.timeout):
                channel_id = await self._channel_id(target)
                with discord.http.handle_message_parameters(
                    embeds=embeds,
                    nonce=nonce,
                    allowed_mentions=NO_MENTIONS,
                    view=view if view is not None else discord.utils.MISSING,
                ) as params:
                    data = await self.client.http.send_message(channel_id, params=params)
        except TimeoutError:
            raise DeliveryError("timeout", f"no answer within {self.timeout:g} s") from None
        except discord.RateLimited as exc:  # longer than the client's max_ratelimit_timeout
            raise DeliveryError("rate_limited", str(exc), retry_after=exc.retry_after) from None
        except discord.HTTPException as exc:
            if target.kind == "user" and exc.status == 404:
                self._dm_channels.pop(target.id, None)
            raise classify(exc) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise DeliveryError("server_error", f"connection: {exc}") from None
        # alert_embeds drops whole embeds from the end when they do not fit
        # 6000 characters: the message holds exactly the first len(embeds) stories.
        return SendResult(int(data["id"]), tuple(a.id for a in articles[: len(embeds)]))

    def _precheck(self, target: Target) -> None:
        """Refuse early what Discord would refuse, or worse, accept without the
        embeds (a bot without Embed Links posts an empty message)."""
        if target.kind != "channel":
            return
        channel = self.client.get_channel(target.id)
        if not isinstance(channel, discord.abc.GuildChannel):
            return  # not cached (yet): let Discord answer
        me = channel.guild.me
        if me is None:
            return
        perms = channel.permissions_for(me)
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


def _buttons(article: Article) -> discord.ui.View | None:
    buttons = story_buttons(article)
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for b in buttons:
        view.add_item(b)
    return view


def build_dispatcher(bot: NewsBot) -> Dispatcher:
    """The bot's alert dispatcher over its store, delivering through this sender."""
    return Dispatcher(bot.room.store, DiscordSender(bot))
