"""Waiting for an `asyncio.Event` with a time limit, without losing a cancellation."""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Wait until `event` is set or `seconds` have passed; True when it was set.

    `asyncio.timeout`, not `asyncio.wait_for`: on Python 3.11, `wait_for` returns
    normally when the task is cancelled just as the event is set (the cancellation
    is lost), so a loop sleeping this way runs on and whoever cancelled it to shut
    down waits for ever.
    """
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True
