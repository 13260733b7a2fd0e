"""A `newsbot` process for tests/test_multiprocess.py and bench/shards.py: the real
command line (`bot.cli.main`), with discord.py pointed at a Discord stand-in.

    python -m tests.multiprocess_worker API_BASE GATEWAY_URL ARG...   # e.g. run --shards 0 ...

Test-only changes, nothing else: no 5-second pause between a process's shard
IDENTIFYs (the stand-in has no session-start limit to respect), and with
NEWSBOT_TEST_MAX_BATCH=N the alert dispatcher sends at most N stories a message
(1: one message per alert, so a dispatch lasts long enough to be killed midway).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import discord
import discord.gateway
import discord.http
import yarl

import bot.discord_app.sender as discord_sender
from bot.cli.main import main as cli_main
from bot.core.alerts.dispatch import Dispatcher
from bot.discord_app.bot import NewsBot


async def _no_pause(self: NewsBot, shard_id: int | None, *, initial: bool = False) -> None:
    return None


def main(argv: list[str]) -> int:
    api_base, gateway, *args = argv
    discord.http.Route.BASE = api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    NewsBot.before_identify_hook = _no_pause  # type: ignore[method-assign]
    max_batch = os.environ.get("NEWSBOT_TEST_MAX_BATCH")
    if max_batch:
        build = discord_sender.build_dispatcher

        def build_small(bot: Any) -> Dispatcher:
            d = build(bot)
            d.max_batch = int(max_batch)
            return d

        discord_sender.build_dispatcher = build_small
    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
