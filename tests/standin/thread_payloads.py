"""Payloads of threads and forums (API v10): a forum's tags and fields, a thread channel,
the bot's membership of a thread. Pure builders, like ``payloads``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .payloads import iso_now, snowflake, snowflake_time


def forum_tag(name: str, *, id: str | int | None = None, moderated: bool = False) -> dict:
    """One of a forum channel's ``available_tags``."""
    return {
        "id": str(id) if id is not None else snowflake(),
        "name": name,
        "moderated": moderated,
        "emoji_id": None,
        "emoji_name": None,
    }


def forum_fields(tags: Iterable[str] = ()) -> dict[str, Any]:
    """What a forum channel (type 15) carries besides a text channel's fields."""
    return {
        "available_tags": [forum_tag(t) for t in tags],
        "default_reaction_emoji": None,
        "default_thread_rate_limit_per_user": 0,
        "default_auto_archive_duration": 4320,
        "default_sort_order": None,
        "default_forum_layout": 0,
    }


def thread(
    name: str,
    *,
    parent: Mapping[str, Any],
    owner_id: str | int,
    type: int,
    id: str | int | None = None,
    auto_archive_duration: int = 4320,
    applied_tags: Sequence[str] = (),
    message_count: int = 0,
) -> dict[str, Any]:
    """A thread channel (types 10, 11, 12) as REST returns it and THREAD_CREATE carries."""
    thread_id = str(id) if id is not None else snowflake()
    created = snowflake_time(thread_id).isoformat()
    return {
        "id": thread_id,
        "type": type,
        "guild_id": str(parent["guild_id"]),
        "parent_id": str(parent["id"]),
        "owner_id": str(owner_id),
        "name": name,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "message_count": message_count,
        "member_count": 1,
        "total_message_sent": message_count,
        "flags": 0,
        "applied_tags": list(applied_tags),
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": auto_archive_duration,
            "archive_timestamp": created,
            "locked": False,
            "create_timestamp": created,
        },
    }


def thread_member(thread_id: str | int, user_id: str | int) -> dict[str, Any]:
    """The bot's membership of a thread (``GET /guilds/{id}/threads/active`` lists these)."""
    return {"id": str(thread_id), "user_id": str(user_id), "join_timestamp": iso_now(), "flags": 0}
