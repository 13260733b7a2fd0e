"""The named values the store takes and returns: no positional row crosses its interface.

Backend-neutral: a driver maps its rows onto these by column name. Domain
types the store returns (`Subscription`, `SubscriptionRule`, `StoryFacts`,
`PendingAlert`) live here because the store may not import `bot.core.alerts`;
that package re-exports them under their old names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

SearchField = Literal["title", "topics", "provider", "excerpt", "related"]
SubscriptionStatus = Literal["active", "paused", "disabled"]


# -- loading -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """What one upsert did: ids of the stories it added and rewrote, and how many it
    left alone because they were identical."""

    added: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: int = 0


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A record file a load read: its absolute path, bytes hash and story URL
    (canonical; None when the file held no story)."""

    path: str
    file_hash: str
    url: str | None


# -- articles ----------------------------------------------------------------------


class TopicCount(NamedTuple):
    """A topic and how many stories carry it.

    A NamedTuple rather than a dataclass: callers unpack it as a pair
    (``for name, n in await store.topics()``) and compare it with one.
    """

    name: str
    stories: int


# -- search ------------------------------------------------------------------------


class SearchText(NamedTuple):
    """The text the full-text index holds for one story, by field (a NamedTuple: it
    travels inside `Prepared`, see there)."""

    title: str
    topics: str
    provider: str
    excerpt: str
    related: str


@dataclass(frozen=True, slots=True)
class FieldWeights:
    """How much a match in each field counts when ranking (bm25 column weights)."""

    title: float
    topics: float
    provider: float
    excerpt: float
    related: float


@dataclass(frozen=True, slots=True)
class TextQuery:
    """A full-text query as data, so that each driver writes it in its own syntax.

    Matches the stories that hold, for every group, at least one of its terms
    (an AND of ORs). A term is one folded word, or several separated by
    spaces, which must then appear as a phrase. Terms are plain text, never
    operators. `fields` limits the search to those fields (empty: all of them).
    """

    groups: tuple[tuple[str, ...], ...]
    fields: tuple[SearchField, ...] = ()


class ScoredId(NamedTuple):
    """A story found by a ranked query; a lower `score` is a better match.

    A NamedTuple: a question makes hundreds, and it builds in half the time of a
    frozen dataclass.
    """

    article_id: int
    score: float


@dataclass(frozen=True, slots=True)
class IndexedArticles:
    """Every story, as parallel columns in id order (what the search index keeps per story)."""

    ids: list[int]
    titles: list[str]
    links: list[str]
    provider_ids: list[int | None]
    published_ts: list[float | None]
    quality: list[float | None]
    heat: list[float | None]


@dataclass(frozen=True, slots=True)
class ProviderRow:
    """An outlet as stored."""

    id: int
    name: str
    domain: str


@dataclass(frozen=True, slots=True)
class TopicRow:
    """A topic as stored (its display name)."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class IdPairs:
    """Pairs of ids as two parallel columns: `left[i]` goes with `right[i]`."""

    left: list[int]
    right: list[int]


@dataclass(frozen=True, slots=True)
class IndexSnapshot:
    """Everything the in-memory search index is built from, read in one go.

    `article_topics` pairs story ids with topic ids (each story's topics in
    record order); `related_pairs` pairs a story with a stored story it lists
    as related coverage; `shared_related` groups the stories that list one
    same related link; `vocabulary` maps each indexed term to how many
    stories hold it.
    """

    articles: IndexedArticles
    providers: list[ProviderRow]
    topics: list[TopicRow]
    article_topics: IdPairs
    related_pairs: IdPairs
    shared_related: list[tuple[int, ...]]
    vocabulary: dict[str, int]


# -- embeddings --------------------------------------------------------------------


class EmbeddingTask(NamedTuple):
    """A story to embed: its id, the content hash the vector will be stored under, and
    its indexed text by field."""

    article_id: int
    content_hash: str
    text: SearchText


class EmbeddingRow(NamedTuple):
    """One story's stored vector(s) of a model, as bytes, with the content hash they
    were made from."""

    article_id: int
    content_hash: str
    vector: bytes


class EmbeddingCounts(NamedTuple):
    """Stories with a current vector of a model, and stories awaiting one."""

    embedded: int
    awaiting: int


# -- subscriptions and alerts -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Subscription:
    """A topic subscription: where its alerts go, what it filters on, and its state."""

    id: int
    guild_id: int | None
    channel_id: int | None
    user_id: int
    target: str
    topic_key: str
    topic: str
    keywords: tuple[str, ...]
    min_quality: float
    created_at: float
    status: str
    status_reason: str | None

    @property
    def personal(self) -> bool:
        """Sent by DM (no channel)."""
        return self.channel_id is None

    def filters(self) -> str:
        """'keywords: robot arm · quality ≥ 70', or '' when there are none."""
        parts = []
        if self.keywords:
            parts.append("keywords: " + " ".join(self.keywords))
        if self.min_quality > 0:
            parts.append(f"quality ≥ {self.min_quality:g}")
        return " · ".join(parts)

    def state(self) -> str:
        """'active', or 'paused: <why>'."""
        if self.status == "active":
            return "active"
        return f"{self.status}: {self.status_reason}" if self.status_reason else self.status


@dataclass(frozen=True, slots=True)
class SubscriptionRule:
    """What matching needs of an active subscription."""

    id: int
    topic_key: str
    keywords: tuple[str, ...]
    min_quality: float
    created_at: float
    guild_id: int | None = None  # the server it was made in; None: made in a DM


@dataclass(frozen=True, slots=True)
class StoryFacts:
    """What matching needs of a stored story."""

    id: int
    title: str
    excerpt: str
    quality: float | None
    published_ts: float | None
    first_stored_at: float
    topic_keys: frozenset[str]
    # The servers that may see it (None: every server; see Audience).
    visible_to: frozenset[int] | None = None


@dataclass(frozen=True, slots=True)
class PendingAlert:
    """One pending outbox row with what delivering it needs."""

    row_id: int
    subscription_id: int
    article_id: int
    target: str
    topic: str
    published_ts: float | None
    batch: str | None
    attempts: int
    next_attempt_at: float


class Audience(NamedTuple):
    """Who a read is for: which stories it may see.

    A story from an operator's source (the record folder, a feed added on the
    command line) serves every server; one that came only from feeds a server
    added is seen by those servers alone (and by the operator). A story with
    no recorded source is the operator's.
    """

    guild_id: int | None = None  # the server asking; None: a DM
    operator: bool = False  # sees every story (the CLI, the console, NEWSBOT_ADMIN_IDS)

    @classmethod
    def of_guild(cls, guild_id: int | None) -> Audience:
        """The audience of a command run in this server (None: in a DM)."""
        return cls(guild_id, False)

    def sees(self, visible_to: frozenset[int] | None) -> bool:
        """Whether a story seen by `visible_to` servers (None: by all) is visible here."""
        return (
            self.operator
            or visible_to is None
            or (self.guild_id is not None and self.guild_id in visible_to)
        )


OPERATOR = Audience(None, True)
