"""What the admin commands answer: reload finished, reload busy, stats."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from bot.core.embeddings.status import embedding_line
from bot.core.loader import LoadReport
from bot.core.newsroom import Newsroom
from bot.core.records import RecordError
from bot.core.text import format_bytes, format_duration, plural
from bot.replies.embeds import info_embed
from bot.replies.reply import Reply
from bot.replies.sanitize import plain


def _rejection(error: RecordError, root: str | os.PathLike[str] | None) -> str:
    path = Path(error.path)
    if root is not None:
        # Relative to the data folder: the absolute path says nothing to a Discord
        # admin, and its length would push the reason past the cut below.
        with contextlib.suppress(ValueError):
            path = path.relative_to(root)
    return plain(f"{path}: {error.reason}")[:180]


def reload_reply(report: LoadReport, *, root: str | os.PathLike[str] | None = None) -> Reply:
    """/admin reload finished: counts, and the first rejections (paths relative to ``root``)."""
    fields = [
        ("Added", str(report.added)),
        ("Updated", str(report.updated)),
        ("Unchanged", str(report.unchanged)),
        ("Rejected", str(len(report.rejected))),
    ]
    if report.pruned:
        fields.append(("Pruned", str(report.pruned)))
    if report.rejected:
        shown = "\n".join(_rejection(e, root) for e in report.rejected[:5])
        more = len(report.rejected) - 5
        fields.append(("First rejections", shown + (f"\n…and {more} more" if more > 0 else "")))
    return Reply(
        [
            info_embed(
                "Reload finished",
                fields,
                description=f"{plural(report.files, 'file')} in {format_duration(report.seconds)}",
            )
        ],
        ephemeral=True,
    )


def busy_reply(running_for: float | None) -> Reply:
    """/admin reload while one is already running."""
    since = f" (running for {format_duration(running_for)})" if running_for is not None else ""
    return Reply(
        [
            info_embed(
                "Reload already running",
                [],
                description=f"A reload is already running{since}; try again when it has finished.",
            )
        ],
        ephemeral=True,
    )


async def stats_reply(room: Newsroom, *, latency: float | None = None) -> Reply:
    """/admin stats: the archive, subscriptions, alerts, reloads and uptime."""
    st = await room.stats()
    last = st["last_reload"] or "none since start"
    if st.get("last_reload_at"):
        ago = format_duration(time.time() - st["last_reload_at"])
        last += f" ({ago} ago)"
    subs = st["subscriptions_by_status"]
    fields = [
        ("Stories", str(st["stories"])),
        ("Topics", str(st["topics"])),
        ("Providers", str(st["providers"])),
        (
            "Subscriptions",
            f"{st['subscriptions']} ({', '.join(f'{v} {k}' for k, v in subs.items()) or 'none'})",
        ),
        ("Pending alerts", str(st["outbox"].get("pending", 0))),
        ("Embeddings", embedding_line(st)),
        ("DB size", format_bytes(st["db_bytes"])),
        ("Newest story", str(st["newest"] or "—")),
        ("Last reload", last),
        ("Uptime", format_duration(st["uptime"])),
    ]
    if latency is not None and latency == latency and latency != float("inf"):
        fields.append(("Gateway latency", f"{latency * 1000:.0f} ms"))
    return Reply([info_embed("newsbot stats", fields)], ephemeral=True)
