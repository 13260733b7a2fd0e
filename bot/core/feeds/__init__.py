"""RSS, Atom and RDF feeds as a source of stories beside the record folder.

Modules: `policy` (which addresses may be fetched; the injectable resolver),
`fetch` (aiohttp: conditional GET, caps, redirects, timeouts, politeness),
`guard` (hostile XML refused before parsing), `parse` (feedparser → stories
through the record validation), `grouping` (same-event coverage), `schedule`
(states, backoff, next fetch), `opml` (import/export) and `service`
(`FeedService`, what front ends call; `Newsroom.feeds` holds one).
"""

from bot.core.feeds.opml import OPMLError, Outline, read_opml, write_opml
from bot.core.feeds.policy import AddressPolicy, AddressRefused, Resolver
from bot.core.feeds.service import Feed, FeedError, FeedService, PollReport

__all__ = [
    "AddressPolicy",
    "AddressRefused",
    "Feed",
    "FeedError",
    "FeedService",
    "OPMLError",
    "Outline",
    "PollReport",
    "Resolver",
    "read_opml",
    "write_opml",
]
