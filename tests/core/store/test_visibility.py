"""Per-server visibility: a story from server A's own feed is seen by A (and the operator)
only, in search, /latest, autocomplete and alert matching alike."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bot.core.alerts import subscriptions as subs
from bot.core.alerts.matching import match_articles
from bot.core.search.searcher import Searcher
from bot.core.store import Store
from bot.core.store.types import OPERATOR, Audience
from tests.drivers import sql_rows
from tests.helpers import make_article

A, B = 111, 222


async def _stories(store: Store) -> dict[str, int]:
    now = datetime.fromtimestamp(time.time() - 60, tz=UTC)
    q = ("Quantum",)
    arts = {
        "public": make_article(1, title="Quantum computer breaks record", published=now, topics=q),
        "a_only": make_article(2, title="Quantum chip from a garage lab", published=now, topics=q),
        "shared": make_article(3, title="Quantum networks span the city", published=now, topics=q),
    }
    async with store.transaction() as tx:
        await tx.upsert_articles(list(arts.values()))
    ids = await store.ids_by_url([a.url for a in arts.values()])
    out = {k: ids[a.canonical_url] for k, a in arts.items()}
    async with store.transaction() as tx:
        await tx.add_story_sources([out["a_only"], out["shared"]], "feed:1", A)
        # Also carried by an operator's source: visible everywhere.
        await tx.add_story_sources([out["shared"]], "folder", None)
    return out


async def test_hidden_ids_by_audience(store: Store) -> None:
    ids = await _stories(store)
    assert await store.hidden_ids(OPERATOR) == frozenset()
    assert await store.hidden_ids(Audience.of_guild(A)) == frozenset()
    assert await store.hidden_ids(Audience.of_guild(B)) == {ids["a_only"]}
    assert await store.hidden_ids(Audience.of_guild(None)) == {ids["a_only"]}


async def test_latest_and_search_respect_the_audience(store: Store) -> None:
    ids = await _stories(store)
    latest_b = await store.latest_ids(limit=10, audience=Audience.of_guild(B))
    assert ids["a_only"] not in latest_b and ids["public"] in latest_b
    assert ids["a_only"] in await store.latest_ids(limit=10, audience=Audience.of_guild(A))
    searcher = Searcher(store)
    seen_b = await searcher.ask("quantum garage lab chip", audience=Audience.of_guild(B))
    assert ids["a_only"] not in [h.article_id for h in seen_b.hits]
    seen_a = await searcher.ask("quantum garage lab chip", audience=Audience.of_guild(A))
    assert seen_a.hits and seen_a.hits[0].article_id == ids["a_only"]
    typed = await searcher.autocomplete("quantum ch", audience=Audience.of_guild(B))
    assert all("garage" not in label for label, _ in typed)
    assert any(
        "garage" in label
        for label, _ in await searcher.autocomplete("quantum ch", audience=Audience.of_guild(A))
    )


async def test_alerts_only_where_the_story_is_visible(store: Store) -> None:
    made = {}
    for guild, channel, keywords in ((A, 1, None), (B, 2, None), (B, 3, "garage")):
        sub = (
            await subs.subscribe(
                store,
                topic="Quantum",
                user_id=9,
                guild_id=guild,
                channel_id=channel,
                keywords=keywords,
                now=time.time() - 3600,
            )
        ).subscription
        made[channel] = sub.id
    ids = await _stories(store)
    async with store.transaction() as tx:
        await match_articles(tx, list(ids.values()))
    rows = set(sql_rows(store, "SELECT subscription_id, article_id FROM outbox"))
    # Server A sees all three; B's plain subscription misses A's own story, and B's
    # keyword subscription (matched in Python, not SQL) misses it too.
    assert rows == {
        (made[1], ids["public"]),
        (made[1], ids["a_only"]),
        (made[1], ids["shared"]),
        (made[2], ids["public"]),
        (made[2], ids["shared"]),
    }
