"""A fake Discord (REST + gateway) for driving the real discord.py client in tests.

Fixture: ``standin`` (tests/conftest.py) starts a ``StandIn`` on 127.0.0.1, patches
``discord.http.Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY``, and fails the test at
teardown if any unknown route was hit (``standin.unknown_routes``) or the stand-in itself
errored (``standin.errors``).

Typical use::

    async def test_news(standin):
        async with run_bot(MyBot(), standin) as bot:      # Bot or AutoShardedBot
            it = await standin.dispatch_interaction(standin.slash("news", {"query": "rates"}))
            cb = await it.wait_callback()                 # RecordedRequest
            assert cb.json["type"] == protocol.CHANNEL_MESSAGE

World: ``standin.world`` (guild "Newsroom"; users owner/alice/mod/admin; channels general,
news, alerts, staff, readonly, locked, muted). Payloads: ``standin.slash("admin reload",
{...})``, ``standin.autocomplete("news", {"query": "oi"})``, ``standin.button(message_id,
"custom:id")``, ``standin.modal_submit(custom_id, {...})``, all with ``user=``/``channel=``/
``dm=True``; pure builders live in ``payloads``, Discord's numbers by name in ``protocol``.

Knobs: ``interaction_deadline`` (3 s), ``followup_ttl`` (15 min), ``shard_count``,
``expected_token``, ``enforce_permissions``, ``faults`` (injected errors), ``ratelimits``
(enforced buckets; ``ratelimits.hits`` counts 429s), ``world.closed_dms``, ``crosspost_clock``
(the clock of the 10-crossposts-an-hour limit; ``crossposts`` records them per channel).

Threads and forum posts live in ``world.threads_of(channel)``; ``messages[id]["mention_roles"]``,
``["mentions"]`` and ``["mention_everyone"]`` say who a message actually pinged.
"""

from . import payloads, protocol
from .faults import FaultRule, Faults, RateLimits
from .gateway import IdentifyRecord, ResumeRecord
from .recorded import DispatchedInteraction, RecordedFile, RecordedRequest
from .rest_types import ApiError, RestResponse
from .runner import run_bot
from .server import StandIn
from .validation import error_paths
from .world import World, default_world

__all__ = [
    "ApiError",
    "DispatchedInteraction",
    "FaultRule",
    "Faults",
    "IdentifyRecord",
    "RateLimits",
    "RecordedFile",
    "RecordedRequest",
    "RestResponse",
    "ResumeRecord",
    "StandIn",
    "World",
    "default_world",
    "error_paths",
    "payloads",
    "protocol",
    "run_bot",
]
