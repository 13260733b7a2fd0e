"""A feed's next state after a fetch: states, reasons, backoff and the next fetch time.

States (`FeedRow.state`):

* ``new``: never fetched; ``ok``: the last fetch worked (``reason``: a warning,
  such as a partly malformed document whose entries were kept);
* ``error``: not well-formed, too large, timed out, 429/5xx, a 404/410 not yet
  seen three times: retried with exponential backoff, up to `BACKOFF_CAP`;
* ``disabled``: 404/410 three fetches in a row; ``paused``: 401/403 (the outlet
  refuses us; an admin resumes it); neither is fetched again on its own, nor
  deleted;
* ``refused``: the address policy forbids the URL (or where it redirects to).

Success waits the feed's interval, or the server's `Cache-Control: max-age`
when longer (capped at `BACKOFF_CAP`); `Retry-After` likewise.
"""

from __future__ import annotations

from dataclasses import replace
from http import HTTPStatus

from bot.core.feeds.fetch import Fetched
from bot.core.store.feeds import FeedRow

MIN_EVERY = 120.0  # seconds: no feed is fetched more often
BACKOFF_CAP = 6 * 3600.0
GONE_LIMIT = 3  # consecutive 404/410 before a feed is disabled


def backoff(every: float, failures: int) -> float:
    """Seconds to wait after `failures` consecutive failures: the interval, doubled each time."""
    return min(BACKOFF_CAP, max(every, MIN_EVERY) * 2 ** max(0, failures - 1))


def _status(code: int) -> str:
    try:
        return f"HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


def succeeded(
    feed: FeedRow, fetched: Fetched, now: float, *, parsed: bool, title: str = "", warning: str = ""
) -> FeedRow:
    """The feed after a fetch that worked (a 304, an unchanged body, or a parsed document)."""
    wait = max(feed.every, min(fetched.max_age or 0.0, BACKOFF_CAP))
    return replace(
        feed,
        url=fetched.moved_to or feed.url,
        title=title or feed.title,
        state="ok",
        reason=warning or None,
        etag=fetched.etag or (None if parsed else feed.etag),
        last_modified=fetched.last_modified or (None if parsed else feed.last_modified),
        failures=0,
        gone=0,
        polls=feed.polls + (1 if parsed else 0),
        last_fetch=now,
        next_fetch=now + wait,
    )


def failed(feed: FeedRow, fetched: Fetched, now: float, *, error: str | None = None) -> FeedRow:
    """The feed after a fetch that did not give entries: its state, reason and next try."""
    failures = feed.failures + 1
    gone = feed.gone
    code = fetched.status
    wait = backoff(feed.every, failures)
    if fetched.refused:
        state, reason = "refused", fetched.error
    elif error is not None:  # a document that could not be read
        state, reason = "error", error
    elif fetched.error is not None or code == 0:  # no answer, or one we could not take
        state, reason = "error", fetched.error or "no answer"
    elif code in (404, 410):
        gone += 1
        if gone >= GONE_LIMIT:
            state = "disabled"
            reason = f"{_status(code)} on {gone} fetches in a row; remove it or fix the URL"
        else:
            state, reason = "error", f"{_status(code)} ({gone} of {GONE_LIMIT} before disabling)"
    elif code in (401, 403):
        state = "paused"
        reason = f"{_status(code)}: the server refuses newsbot; resume it once that is fixed"
    else:
        state, reason = "error", _status(code)
        if fetched.retry_after is not None:
            wait = min(BACKOFF_CAP, max(wait, fetched.retry_after))
    if code not in (404, 410):
        gone = 0
    return replace(
        feed,
        url=fetched.moved_to or feed.url,
        state=state,
        reason=reason,
        failures=failures,
        gone=gone,
        last_fetch=now,
        next_fetch=now + wait,
    )
