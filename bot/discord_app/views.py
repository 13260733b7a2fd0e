"""Interactive message components: the Previous/Next pager under a /news answer."""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.discord_app.errors import send_error
from bot.replies.reply import NewsPager, Reply
from bot.replies.sanitize import NO_MENTIONS

log = logging.getLogger(__name__)

PREV_ID, NEXT_ID = "newsbot:news:prev", "newsbot:news:next"
PAGER_IDS = frozenset({PREV_ID, NEXT_ID})
EXPIRED = (
    "These results have expired (the buttons timed out or the bot restarted); "
    "ask again with `/news`."
)


class NewsView(discord.ui.View):
    """Link buttons of the story shown, plus Previous/Next when there is more than one hit.

    `live` holds the ids of messages whose pager is alive in this process, so
    that a press on any other pager gets `EXPIRED` (see NewsBot.on_interaction)
    rather than Discord's bare "This interaction failed".
    """

    def __init__(self, reply: Reply, *, timeout: float, live: set[int]) -> None:
        super().__init__(timeout=timeout)
        self.pager: NewsPager | None = reply.pager
        self.interaction: discord.Interaction | None = None  # the one whose message we edit
        self.live = live
        self.message_id: int | None = None
        self._build(reply)

    def attach(self, message_id: int | None) -> None:
        """The message the view was sent with: its pager is live until the timeout."""
        self.message_id = message_id
        if message_id is not None and self.pager is not None:
            self.live.add(message_id)

    def _build(self, reply: Reply) -> None:
        self.clear_items()
        pager = self.pager
        if pager is not None and pager.total > 1:
            prev_btn: discord.ui.Button[NewsView] = discord.ui.Button(
                label="◀ Previous",
                style=discord.ButtonStyle.secondary,
                custom_id=PREV_ID,
                disabled=pager.index == 0,
                row=0,
            )
            next_btn: discord.ui.Button[NewsView] = discord.ui.Button(
                label="Next ▶",
                style=discord.ButtonStyle.primary,
                custom_id=NEXT_ID,
                disabled=pager.index >= pager.total - 1,
                row=0,
            )
            prev_btn.callback = self._prev  # type: ignore[method-assign]
            next_btn.callback = self._next  # type: ignore[method-assign]
            self.add_item(prev_btn)
            self.add_item(next_btn)
        for button in reply.buttons:
            button.row = 1
            self.add_item(button)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Only the asker pages; anyone else is told so privately."""
        if self.pager is not None and self.pager.can_page(interaction.user.id):
            return True
        await interaction.response.send_message(
            "Only the person who asked can page through these results; try `/news` yourself.",
            ephemeral=True,
        )
        return False

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        assert self.pager is not None
        reply = await self.pager.move(step)
        if reply.pager is None:
            # That story was deleted since the question: tell the presser privately
            # rather than replace the shared answer with a notice for everyone.
            await interaction.response.send_message(**reply.send_kwargs())
            return
        self._build(reply)
        await interaction.response.edit_message(
            embeds=reply.embeds, view=self, allowed_mentions=NO_MENTIONS
        )
        # The question's token dies 15 minutes after it was asked, and each press
        # restarts the timeout: disable the buttons later through this fresher token.
        self.interaction = interaction

    async def _prev(self, interaction: discord.Interaction) -> None:
        await self._turn(interaction, -1)

    async def _next(self, interaction: discord.Interaction) -> None:
        await self._turn(interaction, +1)

    async def on_timeout(self) -> None:
        """Forget the pager and show its buttons disabled."""
        # Paging state lives in this process only; after the timeout the
        # buttons would do nothing, so show them disabled (link buttons stay).
        if self.message_id is not None:
            self.live.discard(self.message_id)
        for item in self.children:
            if isinstance(item, discord.ui.Button) and item.style is not discord.ButtonStyle.link:
                item.disabled = True
        if self.interaction is not None:
            try:
                await self.interaction.edit_original_response(view=self)
            except discord.HTTPException as exc:
                log.debug("could not disable buttons after timeout: %s", exc)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        """Log a failed press and tell the presser privately."""
        log.exception("button %r failed", getattr(item, "custom_id", item), exc_info=error)
        await send_error(interaction, "That button did not work; please ask again with /news.")
