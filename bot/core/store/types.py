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
DigestMode = Literal["off", "daily"]
UpdateMode = Literal["ignore", "edit"]


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
class AlertOptions:
    """How a subscription's alerts land (every field optional; the defaults are a plain
    message per story, as before)."""

    mention_role_id: int | None = None  # ping exactly this role
    thread: bool = False  # a thread per story (text channel) / a post per story (forum)
    publish: bool = False  # crosspost in an announcement channel (10 per hour per channel)
    max_per_hour: int | None = None  # messages per hour; the rest is folded into a digest
    digest: DigestMode = "off"  # 'daily': one message a day at digest_hour instead
    digest_hour: int = 0  # UTC hour of the daily digest
    on_update: UpdateMode = "ignore"  # 'edit': an edited story edits its alert message

    @property
    def plain(self) -> bool:
        """True when every option has its default (such alerts may share a digest)."""
        return self == PLAIN_OPTIONS

    def describe(self) -> str:
        """'thread · publish · ping <@&5> · ≤ 3/h · daily at 08:00 UTC · edits', or ''."""
        parts = []
        if self.mention_role_id is not None:
            parts.append(f"ping <@&{self.mention_role_id}>")
        if self.thread:
            parts.append("thread per story")
        if self.publish:
            parts.append("publish")
        if self.max_per_hour:
            parts.append(f"≤ {self.max_per_hour}/h")
        if self.digest == "daily":
            parts.append(f"daily digest at {self.digest_hour:02d}:00 UTC")
        if self.on_update == "edit":
            parts.append("edits on update")
        return " · ".join(parts)


#: Every option at its default: a plain message per story.
PLAIN_OPTIONS = AlertOptions()


@dataclass(frozen=True, slots=True)
class Subscription:
    """A subscription: where its alerts go, what it filters on, how they land, its state.

    `topic` is '' (and `topic_key` '') for a keyword-only subscription: any story
    whose title or excerpt names one of the keywords.
    """

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
    mention_role_id: int | None = None
    thread: bool = False
    publish: bool = False
    max_per_hour: int | None = None
    digest: DigestMode = "off"
    digest_hour: int = 0
    on_update: UpdateMode = "ignore"

    @property
    def personal(self) -> bool:
        """Sent by DM (no channel)."""
        return self.channel_id is None

    @property
    def keyword_only(self) -> bool:
        """No topic: matched on its keywords alone."""
        return not self.topic_key

    @property
    def label(self) -> str:
        """What it follows: the topic, or 'keywords: a b' for a keyword-only one."""
        return self.topic or "keywords: " + " ".join(self.keywords)

    @property
    def options(self) -> AlertOptions:
        """How its alerts land."""
        return AlertOptions(
            mention_role_id=self.mention_role_id,
            thread=self.thread,
            publish=self.publish,
            max_per_hour=self.max_per_hour,
            digest=self.digest,
            digest_hour=self.digest_hour,
            on_update=self.on_update,
        )

    def filters(self) -> str:
        """'keywords: robot arm · quality ≥ 70', or '' when there are none."""
        parts = []
        if self.keywords and self.topic_key:
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
    topic_key: str  # '': keyword-only (any topic)
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
    created_at: float = 0.0  # when matching wrote the row
    folded: bool = False  # held back by max_per_hour: goes out in the next digest
    options: AlertOptions = PLAIN_OPTIONS  # its subscription's


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One outbox row, whatever its state (what "why" reports)."""

    row_id: int
    state: str  # 'pending', 'sent', 'failed'
    created_at: float
    sent_at: float | None
    message_id: int | None
    last_error: str | None
    next_attempt_at: float
    folded: bool


@dataclass(frozen=True, slots=True)
class PendingEdit:
    """A sent alert whose story changed (on_update 'edit'): the message to edit and the
    stories it holds."""

    message_id: int
    target: str
    topic: str
    article_ids: tuple[int, ...]
    row_ids: tuple[int, ...]


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
