"""Failure notices: telling a server that its alerts stopped (paused or disabled).

One notice per state change: the dispatcher asks for one only with the
subscriptions a failure has just moved out of 'active', and a paused target is
not retried, so a second refusal cannot send a second notice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from bot.core.alerts.delivery import DeliveryError, FailureNotice, Target
from bot.core.store.types import Subscription

__all__ = ["PAUSE_REASONS", "NoticeMode", "failure_notice", "status_for"]

PAUSE_REASONS = {
    50001: "I can't see that channel (Missing Access)",
    50013: "I lack permission to post there (Send Messages and Embed Links)",
}

# NEWSBOT_FAILURE_NOTICES: the system channel (else the creator), the creator, none.
NoticeMode = Literal["system", "creator", "off"]


def failure_notice(
    target: Target, changed: Sequence[Subscription], mode: NoticeMode
) -> FailureNotice | None:
    """The notice for these subscriptions of `target` having just been paused or
    disabled, or None: notices are off, nothing changed, or the target is a DM (the
    DM is what failed; its owner sees the state in /subscriptions)."""
    if mode == "off" or target.kind != "channel" or not changed:
        return None
    first = changed[0]
    labels = ", ".join(f"#{s.id} {s.label}" for s in changed)
    route: Literal["system", "creator"] = "system" if mode == "system" else "creator"
    return FailureNotice(
        guild_id=first.guild_id,
        user_id=first.user_id,
        subscription_id=first.id,
        text=(
            f"Alerts in <#{target.id}> are {first.status}: {first.status_reason}. "
            f"Subscriptions: {labels}."
        ),
        route=route,
    )


def status_for(target: Target, exc: DeliveryError) -> tuple[Literal["paused", "disabled"], str]:
    """The status a refusal of kind forbidden, unknown_target or dm_closed gives the
    target's subscriptions, and the reason shown for it."""
    if exc.kind == "unknown_target":
        what = "channel" if target.kind == "channel" else "user"
        return "disabled", f"the {what} no longer exists (Discord error {exc.code or 404})"
    if exc.kind == "dm_closed":
        return "paused", "your DMs are closed to me; allow DMs, then /subscribe again to resume"
    why = PAUSE_REASONS.get(exc.code or 0, f"Discord refused: {exc.message}")
    return "paused", f"{why}; fix it, then /subscribe again to resume"
