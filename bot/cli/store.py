"""Which store a command opens, and whether it may fill itself from the data folder.

Only the default store (`data/newsbot.db`, whichever way it was named: no
setting, `--db`, `NEWSBOT_DB` or `.env`) fills itself from the data folder on
first use, so the README's first command shows answers. A store named
explicitly is a store the user means: a typo in `--db` must not quietly become
a second store full of demo stories. A new one starts empty (and we say so);
one whose folder does not exist is an error, and no folder is made.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from bot.cli.errors import UsageError
from bot.core.settings import Settings

# Commands that never open the store (migrate opens its SQLite source read-only itself).
NO_STORE = frozenset({"sync", "migrate"})


@dataclass(frozen=True, slots=True)
class StorePlan:
    """How the command opens its store: `autoload` a new one from the data folder or not."""

    autoload: bool


def default_db() -> Path:
    """The default store's path, found as `Settings.from_env` finds it with nothing set."""
    return Settings.from_env({}).db_path


def is_default(path: Path) -> bool:
    """True when `path` names the default store."""
    return path.expanduser().resolve() == default_db().resolve()


def plan_store(settings: Settings, command: str | None) -> StorePlan:
    """Check the store's path for `command`; raises UsageError when its folder is missing.

    A named store that does not exist yet is announced on stderr (it will start empty).
    """
    path = settings.db_path
    if settings.db_url and command not in NO_STORE:
        return StorePlan(autoload=False)  # a database named by URL is never filled from files
    if command in NO_STORE or is_default(path):
        return StorePlan(autoload=True)
    if not path.parent.is_dir():
        raise UsageError(
            f"the folder of the store {path} does not exist (from --db or NEWSBOT_DB); "
            "create it first, or fix the path"
        )
    if not path.exists():
        how = (
            ""
            if command == "load"
            else f"; only the default store ({default_db()}) fills itself from the data "
            "folder: load stories with `newsbot load PATH`"
        )
        print(f"newsbot: {path} does not exist: starting a new, empty store{how}", file=sys.stderr)
    return StorePlan(autoload=False)
