"""What the news commands answer: /news, /latest, /topics and the help."""

from __future__ import annotations

import os

from bot.core.newsroom import Newsroom
from bot.core.store.types import OPERATOR, Audience
from bot.replies.embeds import info_embed, latest_embed, no_match_embed, topics_embed
from bot.replies.reply import MAX_PAGES, NewsPager, Reply

HELP_LINES = (
    ("/news <question>", "the story that best answers your question, with related coverage"),
    ("/latest [topic] [count]", "the newest stories, of one topic if you like"),
    ("/topics", "the topics the bot knows, with story counts"),
    (
        "/subscribe [topic] [channel] [keywords] [min_quality] [mention] [thread] [publish] "
        "[max_per_hour] [digest] [digest_hour] [on_update]",
        "alerts when a matching story arrives (a topic, or keywords alone), and how they land",
    ),
    ("/unsubscribe <subscription>", "stop alerts"),
    (
        "/subscriptions list | preview | why",
        "this server's alerts and yours; an alert as it would look; why a story was not sent",
    ),
    (
        "/admin reload | stats | sync | feeds",
        "server managers: reload the stories, see stats, publish commands, manage feeds",
    ),
)


def empty_store_text(data_dir: str | os.PathLike[str]) -> str:
    """What to do when the store holds no stories: every question would find nothing."""
    return (
        "The store holds no stories yet, so no question can find one. Load some with "
        f"`newsbot load PATH`, or put record files in the data folder ({data_dir}) "
        "and run /admin reload."
    )


async def news_reply(
    room: Newsroom, query: str, *, owner_id: int | None, audience: Audience = OPERATOR
) -> Reply:
    """/news: the best story for ``query`` (of those `audience` may see) with a pager
    for the next hits, or "No story matches" with suggestions (privately)."""
    answer = await room.ask(query, limit=MAX_PAGES, audience=audience)
    if not answer.hits and (await room.store.stats())["stories"] == 0:
        text = empty_store_text(room.settings.data_dir)
        return Reply([info_embed("No stories yet", [], description=text)], ephemeral=True)
    if not answer.hits:
        return Reply(
            [no_match_embed(query, answer.suggestions, notice=answer.notice)], ephemeral=True
        )
    return await NewsPager(room, answer, owner_id).render()


async def latest_reply(
    room: Newsroom, topic: str | None, count: int, *, audience: Audience = OPERATOR
) -> Reply:
    """/latest: the newest ``count`` stories (1-20) `audience` may see, of ``topic``
    when given."""
    count = max(1, min(count, 20))
    name, articles = await room.latest(topic, count, audience=audience)
    if topic and name is None:
        suggestions = await room.searcher.topic_choices(topic, limit=3)
        return Reply([no_match_embed(f"topic: {topic}", suggestions)], ephemeral=True)
    title = f"Latest in {name}" if name else "Latest stories"
    return Reply([latest_embed(articles, title=title, empty_text="No stories yet.")])


async def topics_reply(room: Newsroom) -> Reply:
    """/topics: every topic with its story count."""
    topics = await room.topics()
    stats = await room.store.stats()
    return Reply([topics_embed(topics, total_stories=stats["stories"])])


def help_reply() -> Reply:
    """/help: the commands, privately."""
    return Reply([info_embed("newsbot commands", list(HELP_LINES), inline=False)], ephemeral=True)
