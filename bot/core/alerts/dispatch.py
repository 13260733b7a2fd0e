"""The alert dispatcher: pending outbox rows → messages, paced, retried, never twice.

It knows nothing of Discord: a *sender* (`delivery.Sender`) delivers one
message to one target and either returns which stories made it into the
message or raises a `DeliveryError` of a known kind.

Per target (a channel, or a user's DMs) one worker drains the queue in
publication order, one digest message at a time:

1. pick the next batch (`batching.next_batch`): a batch already claimed (a
   retry — same rows, same nonce) or the next message of the lane due first;
   a subscription over its max_per_hour has its rows folded into a digest
   sent when the cap allows, never dropped;
2. decide how it lands (`landing.delivery_for`): book a crosspost against the
   channel's hourly budget and record the thread it starts, both in the claim's
   transaction, before the call; commit the claim, wait for the pacer, send
   (a retry whose thread was recorded asks the sender to look for the thread
   first: threads take no nonce);
3. mark the stories that made it sent and unclaim the rest (they lead the
   next message), in one transaction.

Edited stories of on_update 'edit' subscriptions are edited in place
(`deliver_edits`), never posted again. A dispatcher of a process that runs some
of the shards (`shards`) sends, edits and reports failures only for targets of
guilds on them (DMs: shard 0), so processes sharing a store never both send.

Failures (see `_on_failure`): rate limited → wait `retry_after`, same claim;
server error/timeout → back off (same claim: the message may exist), after
`max_attempts` park until the next cycle, never dropped; forbidden → pause the
target's subscriptions; unknown channel → disable them; DMs closed → pause
(each such change sends one `FailureNotice`: never one per retry); bad request
→ split the digest into single alerts, and a single alert that is still refused
is marked failed while the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from bot.core.alerts.batching import MAX_BATCH, Batch, lane_of, next_batch
from bot.core.alerts.delivery import Delivery, DeliveryError, Sender, Target
from bot.core.alerts.edits import deliver_edits
from bot.core.alerts.landing import CROSSPOST_LIMIT, CROSSPOST_WINDOW, HOUR, delivery_for
from bot.core.alerts.matching import nonce_for, text_hash
from bot.core.alerts.notices import NoticeMode, failure_notice, status_for
from bot.core.alerts.pacing import Pacer
from bot.core.records import Article
from bot.core.settings import Settings
from bot.core.shards import ALL_SHARDS, ShardSpec
from bot.core.store import Store, StoreTransaction, StoreUnavailable
from bot.core.store.types import PendingAlert, Subscription
from bot.core.waiting import wait_event

__all__ = ["MAX_BATCH", "Batch", "DispatchStats", "Dispatcher", "NoticeMode", "next_batch"]

log = logging.getLogger(__name__)


# -- the dispatcher -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Plan:
    """One message ready to go: its batch, stories and Delivery; `booked`: a crosspost
    was booked for it; `look_for_thread`: an earlier attempt may have made its thread."""

    batch: Batch
    articles: list[Article]
    delivery: Delivery
    booked: bool
    look_for_thread: bool


@dataclass(slots=True)
class DispatchStats:
    """Counts since start: messages sent, alerts in them, alerts marked failed, errors by kind."""

    messages: int = 0
    alerts_sent: int = 0
    failed: int = 0
    folded: int = 0
    edits: int = 0
    notices: int = 0
    errors: dict[str, int] = field(default_factory=dict)


class Dispatcher:
    """Sends what the outbox holds. `start()` runs it in the background, `wake()` after
    a load commits new rows, `stop()` when shutting down; `run_once()` drains
    everything due now (tests, one-shot tools)."""

    def __init__(
        self,
        store: Store,
        sender: Sender,
        *,
        pacer: Pacer | None = None,
        max_batch: int = MAX_BATCH,
        max_attempts: int = 5,
        backoff: float = 5.0,
        max_backoff: float = 300.0,
        park: float = 300.0,
        idle: float = 60.0,
        grace: float = 5.0,
        notices: NoticeMode = Settings.failure_notices,
        shards: ShardSpec = ALL_SHARDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.shards = shards  # whose targets this process sends to
        self.sender = sender
        self.pacer = pacer or Pacer()
        self.max_batch = max(1, min(max_batch, MAX_BATCH))
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.park = park  # "the next cycle": how long a row rests after max_attempts
        self.idle = idle  # re-check even without a wake, in case one was missed
        self.grace = grace  # how long stop() lets messages in flight finish
        self.notices: NoticeMode = notices  # where failure notices go (NEWSBOT_FAILURE_NOTICES)
        self.clock = clock
        self.stats = DispatchStats()
        self._wake = asyncio.Event()
        self._stopping = False
        self._main: asyncio.Task[None] | None = None
        self._workers: dict[str, asyncio.Task[float | None]] = {}
        self._due: dict[str, float] = {}

    # -- lifecycle ------------------------------------------------------------

    def wake(self) -> None:
        """New rows may be pending (a load committed, a subscription resumed)."""
        self._wake.set()

    async def notify(self) -> None:
        """`wake` as an async callable, for `NewsBot.new_story_listeners`."""
        self.wake()

    @property
    def running(self) -> bool:
        """True while the background loop started by `start()` is alive."""
        return self._main is not None and not self._main.done()

    def start(self) -> None:
        """Run `run_forever` as a background task, unless it is already running."""
        if not self.running:
            self._stopping = False
            self._main = asyncio.create_task(self.run_forever(), name="alert-dispatcher")

    async def stop(self, grace: float | None = None) -> None:
        """Finish the messages in flight (up to `grace` seconds), then cancel.

        Cancelling is safe at any point: a claimed batch is re-sent with its nonce.
        """
        self._stopping = True
        self._wake.set()
        tasks = [t for t in [self._main, *self._workers.values()] if t is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.grace if grace is None else grace)
            for t in pending:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
        self._main = None
        self._workers.clear()

    async def run_forever(self) -> None:
        """Start workers for due targets on every wake or due time (at least every `idle`
        seconds) until `stop()`; then wait for the workers."""
        while not self._stopping:
            self._wake.clear()
            try:
                delay = await self._schedule()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("alert dispatcher: scheduling failed")
                delay = 5.0
            timeout = self.idle if delay is None else min(max(delay, 0.0), self.idle)
            await wait_event(self._wake, timeout)
        if self._workers:
            await asyncio.gather(*self._workers.values(), return_exceptions=True)

    async def _schedule(self) -> float | None:
        """Start a worker for each target with due rows; seconds until the next due one."""
        await self.deliver_edits()
        now = self.clock()
        targets = await self.store.pending_targets(shards=self.shards)
        soonest: float | None = None
        for target, due in targets.items():
            if target in self._workers:
                continue
            due = max(due, self._due.get(target, 0.0))
            if due <= now:
                task = asyncio.create_task(self._drain_and_report(target), name=f"alerts {target}")
                self._workers[target] = task
            else:
                soonest = due - now if soonest is None else min(soonest, due - now)
        for target in list(self._due):
            if target not in targets:
                del self._due[target]
        return soonest

    async def _drain_and_report(self, target: str) -> float | None:
        try:
            due = await self.drain(target)
        except asyncio.CancelledError:
            raise
        except StoreUnavailable as exc:
            # Another process held the store past the busy timeout (a long
            # `newsbot load`). A claim already committed stays, so the retry
            # re-sends under the same nonce even if this failed while marking.
            log.warning("alert dispatcher: store busy while delivering to %s (%s)", target, exc)
            due = self.clock() + 5.0
        except Exception:
            log.exception("alert dispatcher: delivering to %s failed", target)
            due = self.clock() + 5.0
        finally:
            self._workers.pop(target, None)
            self._wake.set()
        if due is not None:
            self._due[target] = due
        else:
            self._due.pop(target, None)
        return due

    async def run_once(self) -> None:
        """Deliver everything that is due now, and return (waits only for pacing)."""
        await self.deliver_edits()
        now = self.clock()
        targets = await self.store.pending_targets(shards=self.shards)
        due = [t for t, at in targets.items() if at <= now]
        await asyncio.gather(*(self.drain(t) for t in due))

    # -- one target -------------------------------------------------------------

    async def drain(self, target: str) -> float | None:
        """Send this target's due alerts in order. Returns when its head batch is not
        due (that time), or None when nothing is left."""
        try:
            where = Target.parse(target)
        except ValueError:
            log.error("alert dispatcher: subscription with a bad target %r; disabling it", target)
            async with self.store.transaction() as tx:
                await tx.set_target_status(target, "disabled", "invalid target")
            return None
        while not self._stopping:
            # Planned and claimed in one write transaction: the writer connection
            # sees its own commits at once, whereas the store's reads may still see an
            # older snapshot while other statements are open on them, and a plan made
            # from stale rows could send a story again under a new nonce.
            async with self.store.transaction() as tx:
                rows = await tx.pending_for(target)
                rows = await self._skip_already_delivered(tx, target, rows)
                now = self.clock()
                batch = next_batch(rows, self.max_batch, now=now)
                if batch is None:
                    return None
                if batch.due_at > now:
                    return batch.due_at
                if not batch.claimed and await self._over_cap(tx, batch, rows, now):
                    continue
                plan = await self._plan(tx, where, batch, now)
                if plan is None:
                    # Its stories were deleted meanwhile (their rows go with them): look
                    # again shortly rather than spin on a read that lags.
                    return now + 1.0
                if not batch.claimed:
                    await tx.claim(batch.row_ids, batch.nonce)
            # After a failure the next turn finds the batch deferred (→ its due
            # time), its subscriptions paused (→ nothing left) or split.
            await self._send(where, plan)
        return None

    async def _over_cap(
        self, tx: StoreTransaction, batch: Batch, rows: list[PendingAlert], now: float
    ) -> bool:
        """A subscription at its max_per_hour: fold the lane's rows until the cap allows
        a message again (they then go out as one digest). True when it folded."""
        lane = batch.lane
        cap = batch.options.max_per_hour
        if not cap or lane.kind not in ("own", "folded"):
            return False
        sent = await tx.sent_messages_since(lane.subscription_id, now - HOUR)
        if len(sent) < cap:
            return False
        until = sent[-cap] + HOUR
        held = [r.row_id for r in rows if not r.batch and lane_of(r) == lane]
        await tx.fold(held, until=until)
        if lane.kind == "own":
            self.stats.folded += len(held)
        log.info(
            "alerts of subscription #%d at %d/h: %d held", lane.subscription_id, cap, len(held)
        )
        return True

    async def _plan(
        self, tx: StoreTransaction, target: Target, batch: Batch, now: float
    ) -> Plan | None:
        """How the batch lands. The crosspost booking and the thread's name are written
        in the claim's transaction, before the call; a retry finds them again."""
        articles = await self.store.get_articles(batch.article_ids)
        if not articles:
            return None
        channel = target.kind == "channel"
        booked = False
        if channel and batch.options.publish:
            booked = await tx.book_crosspost(
                target.id, batch.nonce, now=now, limit=CROSSPOST_LIMIT, window=CROSSPOST_WINDOW
            )
        delivery = delivery_for(
            batch.options,
            articles,
            topic=batch.topic,
            topic_names=[t for a in articles for t in a.topics],
            channel=channel,
            digest_at=batch.digest_at,
            publish=booked,
        )
        look = False
        if delivery.thread_name:
            recorded = await tx.thread_intent(batch.nonce)
            if recorded is not None:
                delivery, look = replace(delivery, thread_name=recorded), True
            else:
                await tx.record_thread_intent(
                    batch.nonce, str(target), delivery.thread_name, now=now
                )
        return Plan(batch, articles, delivery, booked, look)

    async def _skip_already_delivered(
        self, tx: StoreTransaction, target: str, rows: list[PendingAlert]
    ) -> list[PendingAlert]:
        """Two subscriptions of one channel matching one story: post it once."""
        free = [r for r in rows if not r.batch]
        done = await tx.delivered_to(target, list({r.article_id for r in free}))
        if not done:
            return rows
        skip = [r for r in free if r.article_id in done]
        for r in skip:
            await tx.mark_sent([r.row_id], message_id=done[r.article_id], now=self.clock())
        skipped = {r.row_id for r in skip}
        return [r for r in rows if r.row_id not in skipped]

    async def _send(self, target: Target, plan: Plan) -> None:
        """One message, and its outcome written to the outbox."""
        batch, articles = plan.batch, plan.articles
        await self.pacer.acquire(str(target), cost=2 if target.kind == "user" else 1)
        try:
            if plan.look_for_thread and plan.delivery.thread_name:
                found = await self.sender.find_thread(target, plan.delivery.thread_name)
                if found is not None:
                    # The thread exists, so its message does too (a thread started from
                    # a message, and a forum post, have that message's id).
                    await self._mark_sent(batch, articles, found, list(batch.article_ids))
                    return
            result = await self.sender.send(
                target, articles, topic=batch.topic, nonce=batch.nonce, delivery=plan.delivery
            )
        except DeliveryError as exc:
            self.stats.errors[exc.kind] = self.stats.errors.get(exc.kind, 0) + 1
            await self._on_failure(target, batch, exc)
            return
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception as exc:
            # A bug (in rendering, say) must not drop alerts nor spin: back off like a 5xx.
            log.exception("alert sender raised unexpectedly for %s", target)
            err = DeliveryError("server_error", f"unexpected {type(exc).__name__}: {exc}")
            await self._on_failure(target, batch, err)
            return
        if plan.booked and not result.published:
            # Not an announcement channel after all, or Discord refused the crosspost.
            async with self.store.transaction() as tx:
                await tx.unbook_crosspost(batch.nonce)
        await self._mark_sent(batch, articles, result.message_id, list(result.article_ids))

    async def _mark_sent(
        self, batch: Batch, articles: list[Article], message_id: int | None, delivered: list[int]
    ) -> None:
        held = set(delivered)
        sent = [r.row_id for r in batch.rows if r.article_id in held]
        rest = [r.row_id for r in batch.rows if r.article_id not in held]
        if not sent:
            # Accepted but empty: retrying the same would loop for ever.
            async with self.store.transaction() as tx:
                await tx.mark_failed(rest, error="the sender accepted none of it")
            self.stats.failed += len(rest)
            return
        hashes = {a.id: text_hash(a.title, a.excerpt) for a in articles if a.id in held}
        # Sent and unclaimed in one transaction: the rest leads the next message.
        async with self.store.transaction() as tx:
            await tx.mark_sent(sent, message_id=message_id, now=self.clock(), text_hashes=hashes)
            if rest:
                await tx.release(rest)
        self.stats.messages += 1
        self.stats.alerts_sent += len(sent)

    async def deliver_edits(self) -> int:
        """Edit the alert messages of stories that changed (`edits.deliver_edits`)."""
        try:
            done = await deliver_edits(self.store, self.sender, self.pacer, shards=self.shards)
        except StoreUnavailable as exc:
            # A long load holds the store: the edits wait for the next cycle.
            log.warning("alert edits: store busy (%s)", exc)
            return 0
        self.stats.edits += done
        return done

    def _backoff(self, attempts: int) -> float:
        return min(self.max_backoff, self.backoff * 2 ** max(0, attempts - 1))

    async def _on_failure(self, target: Target, batch: Batch, exc: DeliveryError) -> None:
        now = self.clock()
        key = str(target)
        what = f"{exc.kind}: {exc.message}"[:500]
        if exc.kind == "rate_limited":
            # A floor: a 429 answered with retry_after 0 must not become a busy loop.
            wait = max(0.05, exc.retry_after if exc.retry_after is not None else 1.0)
            self.pacer.block(key, wait)
            log.warning("alerts to %s rate limited; retrying in %.2f s", key, wait)
            async with self.store.transaction() as tx:
                await tx.defer(batch.row_ids, until=now + wait, attempts=batch.attempts, error=what)
            return
        if exc.kind in ("server_error", "timeout"):
            attempts = batch.attempts + 1
            if attempts >= self.max_attempts:
                log.warning(
                    "alerts to %s: %s after %d attempts; parked for %.0f s (kept)",
                    key,
                    exc.kind,
                    attempts,
                    self.park,
                )
                until, attempts = now + self.park, 0
            else:
                until = now + self._backoff(attempts)
            async with self.store.transaction() as tx:
                await tx.defer(batch.row_ids, until=until, attempts=attempts, error=what)
            return
        if exc.kind in ("forbidden", "unknown_target", "dm_closed"):
            status, reason = status_for(target, exc)
            async with self.store.transaction() as tx:
                changed = await tx.change_target_status(key, status, reason)
                # Never created (4xx): the rows may be regrouped when it resumes.
                await tx.release(batch.row_ids, error=what)
                await tx.unbook_crosspost(batch.nonce)  # refused: nothing was published
            log.warning(
                "alerts to %s: %s; %d subscription(s) %s", key, exc.message, len(changed), status
            )
            await self._send_notice(target, changed)
            return
        # bad_request: something in this payload; find the one alert that causes it.
        stories = batch.article_ids
        if len(stories) > 1:
            by_story: dict[int, list[int]] = {}
            for r in batch.rows:
                by_story.setdefault(r.article_id, []).append(r.row_id)
            # Each story its own claim, and so its own message and nonce.
            async with self.store.transaction() as tx:
                await tx.unbook_crosspost(batch.nonce)
                for a in stories:
                    await tx.claim(by_story[a], nonce_for(by_story[a]))
            log.warning(
                "alerts to %s: digest refused (%s); sending its %d alerts one by one",
                key,
                exc.message,
                len(stories),
            )
            return
        async with self.store.transaction() as tx:
            await tx.mark_failed(batch.row_ids, error=what)
            await tx.unbook_crosspost(batch.nonce)
        self.stats.failed += len(batch.row_ids)
        log.warning("alert to %s refused by Discord (%s); marked failed", key, exc.message)

    async def _send_notice(self, target: Target, changed: list[Subscription]) -> None:
        """One notice per state change (see `notices.failure_notice`)."""
        notice = failure_notice(target, changed, self.notices)
        if notice is None:
            return
        try:
            await self.sender.notify(notice)
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception:
            # Never retried: a notice that fails must not become a loop of notices.
            log.exception(
                "failure notice for subscription #%d not delivered", notice.subscription_id
            )
            return
        self.stats.notices += 1
