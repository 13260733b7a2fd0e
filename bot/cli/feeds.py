"""`newsbot feeds add|list|remove|poll|import|export`: the operator's feed commands.

The command line acts as the operator: feeds it adds serve every server, and
it lists, polls and removes every feed (any server's too).

Exit codes: 0 done; 2 a bad request (the message says why); 3 a poll or an
import where some feeds failed (the rest were done).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bot.cli.load import open_filled
from bot.core.feeds import (
    Feed,
    FeedError,
    FeedService,
    OPMLError,
    Outline,
    PollReport,
    read_opml,
    write_opml,
)
from bot.core.settings import ConfigError, Settings, parse_duration
from bot.core.store.types import OPERATOR


def add_feeds_options(fp: argparse.ArgumentParser) -> None:
    """The actions of `newsbot feeds` (add, list, remove, poll, import, export)."""
    fsub = fp.add_subparsers(dest="feeds_command", metavar="ACTION", required=True)

    def action(name: str, help_: str) -> argparse.ArgumentParser:
        ap = fsub.add_parser(name, help=help_, description=help_)
        ap.add_argument("--db", metavar="FILE", default=argparse.SUPPRESS, help="SQLite store")
        return ap

    a = action("add", "add a feed (it serves every server); prints its id")
    a.add_argument("url", metavar="URL")
    a.add_argument(
        "--topic", action="append", default=[], metavar="T", help="topic for its stories; repeat"
    )
    a.add_argument("--every", metavar="DURATION", help="fetch interval (default 15m, min 2m)")
    action("list", "every feed with its state").add_argument(
        "--json", action="store_true", help="print JSON"
    )
    action("remove", "remove a feed and the stories only it carried").add_argument(
        "id", type=int, metavar="ID"
    )
    action("poll", "fetch every feed not paused or disabled, once, now").add_argument(
        "--json", action="store_true", help="print JSON"
    )
    imp = action("import", "add the feeds listed in an OPML file")
    imp.add_argument("file", metavar="FILE.opml")
    exp = action("export", "write every feed as OPML")
    exp.add_argument("file", nargs="?", metavar="FILE", help="default: standard output")


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "-"


def _feed_dict(f: Feed) -> dict[str, Any]:
    return {
        "id": f.id,
        "url": f.url,
        "title": f.title,
        "guild_id": f.guild_id,
        "topics": list(f.topics),
        "every": f.every,
        "state": f.state,
        "reason": f.reason,
        "last_fetch": f.last_fetch,
        "next_fetch": f.next_fetch,
        "stories": f.stories,
    }


def _print_feeds(feeds: list[Feed]) -> None:
    if not feeds:
        print("no feeds (add one with: newsbot feeds add URL)")
        return
    for f in feeds:
        owner = "operator" if f.guild_id is None else f"server {f.guild_id}"
        state = f.state + (f" ({f.reason})" if f.reason else "")
        print(f"#{f.id}  {f.title or '(untitled)'}  <{f.url}>")
        print(
            f"     {state}; {f.stories} stories; last fetch {_when(f.last_fetch)}, "
            f"next {_when(f.next_fetch)}; every {f.every / 60:g} min; {owner}"
            + (f"; topics {', '.join(f.topics)}" if f.topics else "")
        )


def _print_reports(reports: list[PollReport]) -> None:
    if not reports:
        print("no feeds to poll")
    for r in reports:
        line = (
            f"#{r.feed_id} {r.state}: {r.added} added, {r.updated} updated, {r.unchanged} unchanged"
        )
        print(line + (f" ({r.reason})" if r.reason else ""))


async def cmd_feeds(args: argparse.Namespace, settings: Settings, *, autoload: bool = True) -> int:
    """Run one `feeds` action."""
    action = args.feeds_command
    every = None
    if getattr(args, "every", None):
        try:
            every = parse_duration("--every", args.every)
        except ConfigError as exc:
            print(f"newsbot: {exc}", file=sys.stderr)
            return 2
    store = await open_filled(settings, autoload=autoload)
    service = FeedService(store, settings)
    try:
        return await _run(action, args, service, every)
    except (FeedError, OPMLError) as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 2
    finally:
        await service.close()
        await store.close()


async def _run(
    action: str, args: argparse.Namespace, service: FeedService, every: float | None
) -> int:
    if action == "add":
        feed = await service.add(args.url, topics=args.topic, every=every)
        print(feed.id)
        return 0
    if action == "list":
        feeds = await service.list(OPERATOR)
        if args.json:
            print(json.dumps([_feed_dict(f) for f in feeds], indent=2))
        else:
            _print_feeds(feeds)
        return 0
    if action == "remove":
        feed = await service.remove(args.id, OPERATOR)
        print(f"removed feed #{feed.id} ({feed.url})")
        return 0
    if action == "poll":
        reports = await service.poll()
        if args.json:
            print(json.dumps([r.as_dict() for r in reports], indent=2))
        else:
            _print_reports(reports)
        return 0 if all(r.ok for r in reports) else 3
    if action == "import":
        return await _import(Path(args.file), service)
    if action == "export":
        feeds = await service.list(OPERATOR)
        data = write_opml(Outline(f.url, f.title, f.topics) for f in feeds)
        if args.file:
            Path(args.file).write_bytes(data)
            print(f"wrote {len(feeds)} feeds to {args.file}", file=sys.stderr)
        else:
            sys.stdout.write(data.decode("utf-8"))
        return 0
    raise FeedError(f"unknown feeds action {action!r}")


async def _import(path: Path, service: FeedService) -> int:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FeedError(f"{path}: cannot read: {exc.strerror or exc}") from None
    outlines = read_opml(raw, str(path))
    added = failed = 0
    for o in outlines:
        try:
            feed = await service.add(o.url, topics=o.topics)
        except FeedError as exc:
            failed += 1
            print(f"{path}: {o.url}: {exc}", file=sys.stderr)
            continue
        added += 1
        print(f"#{feed.id} {o.url}")
    print(f"imported {added} of {len(outlines)} feeds from {path}", file=sys.stderr)
    return 3 if failed else 0
