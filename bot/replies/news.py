"""What the news commands answer: /news, /latest, /topics and the help."""

from __future__ import annotations

from bot.core.newsroom import Newsroom
from bot.core.store.types import OPERATOR, Audience
from bot.replies.embeds import info_embed, latest_embed, no_match_embed, topics_embed
from bot.replies.reply import MAX_PAGES, NewsPager, Reply

HELP_LINES = (
    ("/news <question>", "the story that best answers your question, with related coverage"),
    ("/latest [topic] [count]", "the newest stories, of one topic if you like"),
    ("/topics", "the topics the bot knows, with story counts"),
    (
        "/subscribe <topic> [channel] [keywords] [min_quality]",
        "alerts when a matching story arrives",
    ),
    ("/unsubscribe <subscription>", "stop alerts"),
    ("/subscriptions", "this server's alerts and yours"),
    (
        "/admin reload | stats | sync | feeds",
        "server managers: reload the stories, see stats, publish commands, manage feeds",
    ),
)


async def news_reply(
    room: Newsroom, query: str, *, owner_id: int | None, audience: Audience = OPERATOR
) -> Reply:
    """/news: the best story for ``query`` (of those `audience` may see) with a pager
    for the next hits, or "No story matches" with suggestions (privately)."""
    answer = await room.ask(query, limit=MAX_PAGES, audience=audience)
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
