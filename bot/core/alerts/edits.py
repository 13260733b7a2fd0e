"""Edited stories: editing the alert message in place (subscriptions with on_update 'edit').

Matching marks the sent rows whose story now shows another title or excerpt
(`matching.request_edits`); this asks the sender to edit each such message with
every story it holds. An edit is idempotent, so a crash before the mark just
edits again; nothing is ever posted a second time.
"""

from __future__ import annotations

import asyncio
import logging

from bot.core.alerts.delivery import Delivery, DeliveryError, Sender, Target
from bot.core.alerts.matching import nonce_for, text_hash
from bot.core.alerts.pacing import Pacer
from bot.core.shards import ALL_SHARDS, ShardSpec
from bot.core.store import Store

__all__ = ["deliver_edits"]

log = logging.getLogger(__name__)

_TRANSIENT = ("rate_limited", "server_error", "timeout")


async def deliver_edits(
    store: Store, sender: Sender, pacer: Pacer, *, shards: ShardSpec = ALL_SHARDS
) -> int:
    """Edit every alert message owed an edit in a target of `shards`. A message that
    is gone, or a refusal, ends that edit (the message is left as it was); a transient
    error leaves it for the next cycle. Returns how many messages were edited."""
    done = 0
    for edit in await store.pending_edits(shards=shards):
        try:
            where = Target.parse(edit.target)
        except ValueError:
            continue
        articles = await store.get_articles(list(edit.article_ids))
        if not articles:
            continue
        await pacer.acquire(edit.target)
        hashes: dict[int, str] = {}
        try:
            await sender.send(
                where,
                articles,
                topic=edit.topic,
                # Its own nonce: an edit is no new message.
                nonce="ed" + nonce_for(edit.row_ids)[2:],
                delivery=Delivery(edit_message_id=edit.message_id),
            )
        except DeliveryError as exc:
            if exc.kind in _TRANSIENT:
                continue
            log.warning("alert edit in %s refused (%s); left as it was", where, exc.message)
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception:
            # A bug in rendering must not hold up every alert behind a failing edit.
            log.exception("alert edit in %s failed; left as it was", where)
        else:
            hashes = {a.id: text_hash(a.title, a.excerpt) for a in articles if a.id is not None}
            done += 1
        async with store.transaction() as tx:
            await tx.edits_done(list(edit.row_ids), hashes)
    return done
