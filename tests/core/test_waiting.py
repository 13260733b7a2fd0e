"""`wait_event`: a time-limited wait that never loses a cancellation."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.waiting import wait_event


async def test_wait_event_says_whether_the_event_came() -> None:
    event = asyncio.Event()
    assert await wait_event(event, 0.01) is False
    event.set()
    assert await wait_event(event, 5) is True


async def test_a_cancel_that_arrives_as_the_event_is_set_still_cancels() -> None:
    # asyncio.wait_for on Python 3.11 returns normally here: the event's waiter
    # finishes first in the same loop turn and the cancellation is dropped.
    event = asyncio.Event()
    task = asyncio.create_task(wait_event(event, 60))
    await asyncio.sleep(0)
    event.set()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
