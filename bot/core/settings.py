"""Settings from the environment (and `.env`), with defaults that work offline.

Every variable is documented in `.env.example` and the README's configuration
table. The token is kept out of `repr()` so it never lands in a log line.

Each default is stated once, as the `Settings` field's default: `from_env`
falls back to the class attribute, and other modules that need a default
(store limits, the record size cap) read it there too.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values

from bot.core.shards import ALL_SHARDS, ShardSpec, ShardSpecError, shard_spec
from bot.core.storeurl import is_postgres_url, is_url, redacted

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class ConfigError(ValueError):
    """A variable with a value that cannot be used; names the variable."""


# A Discord token (id.timestamp.hmac) pasted into the wrong variable must not be
# echoed back in the error about it (terminals, CI logs, bug reports).
_TOKEN_SHAPE = re.compile(r"[\w-]{16,}\.[\w-]{4,}\.[\w-]{16,}")


def _shown(value: str) -> str:
    return "<hidden: it looks like a token>" if _TOKEN_SHAPE.search(value) else repr(value)


def _default_dir(relative: Path) -> Path:
    """`data/...` under the current folder, else under the project checkout."""
    if relative.exists() or not (PROJECT_ROOT / relative).exists():
        return relative
    return PROJECT_ROOT / relative


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(name: str, value: str) -> float:
    """`300`, `90s`, `15m`, `48h`, `2d` → seconds."""
    m = _DURATION.match(value)
    if not m:
        raise ConfigError(
            f"{name}={_shown(value)}: expected a duration such as 300, 15m, 48h or 2d"
        )
    return float(m.group(1)) * _UNITS[m.group(2).lower()]


def _duration(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    return parse_duration(name, raw) if raw else default


def _int(env: dict[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={_shown(raw)}: expected a whole number") from None
    if value < minimum:
        raise ConfigError(f"{name}={_shown(raw)}: must be at least {minimum}")
    return value


def _ids(env: dict[str, str], name: str) -> frozenset[int]:
    raw = env.get(name, "").strip()
    if not raw:
        return frozenset()
    out: set[int] = set()
    for part in re.split(r"[,\s]+", raw):
        if not part:
            continue
        if not part.isdigit():
            raise ConfigError(f"{name}: {_shown(part)} is not a Discord user id")
        out.add(int(part))
    return frozenset(out)


ALL_NETWORKS = ("0.0.0.0/0", "::/0")


def _networks(env: dict[str, str], name: str) -> tuple[str, ...]:
    """`1`/`true`/`yes`: every network; `0`/empty: none; else comma-separated CIDR blocks."""
    raw = env.get(name, "").strip()
    if raw.lower() in ("", "0", "false", "no", "off"):
        return ()
    if raw.lower() in ("1", "true", "yes", "on"):
        return ALL_NETWORKS
    out: list[str] = []
    for part in re.split(r"[,\s]+", raw):
        if not part:
            continue
        try:
            out.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ConfigError(
                f"{name}: {_shown(part)} is not a network (expected 1, 0 or CIDR blocks "
                "such as 192.168.1.0/24)"
            ) from None
    return tuple(out)


@dataclass(frozen=True)
class Settings:
    """Everything newsbot reads from its environment; the field defaults work offline."""

    token: str | None = field(default=None, repr=False)
    db_path: Path = Path("data/newsbot.db")
    # A PostgreSQL URL (NEWSBOT_DB=postgresql://…) replaces the SQLite file `db_path`.
    db_url: str | None = field(default=None, repr=False)
    db_pool: int = 10
    # The Discord shards this process runs (NEWSBOT_SHARD_IDS / NEWSBOT_SHARD_COUNT).
    shards: ShardSpec = ALL_SHARDS
    data_dir: Path = Path("data/articles")
    max_record_bytes: int = 1024 * 1024
    dev_guild: int | None = None
    admin_ids: frozenset[int] = frozenset()
    rescan_seconds: float = 300.0
    alert_max_age: float = 48 * 3600.0
    max_subs_per_guild: int = 25
    max_subs_per_user: int = 10
    # Where a paused or disabled subscription is announced: the server's system
    # channel (else its creator by DM), the creator by DM, or nowhere.
    failure_notices: Literal["system", "creator", "off"] = "system"
    page_timeout: float = 300.0
    max_query_chars: int = 300
    log_level: str = "INFO"
    # Feeds (bot.core.feeds). Networks a feed may resolve to although private,
    # loopback or link-local: () none, "1" in the environment means all.
    feeds_allow_private: tuple[str, ...] = ()
    max_feeds_per_guild: int = 20
    feed_interval: float = 15 * 60.0
    feed_max_bytes: int = 5 * 1024 * 1024
    feed_host_gap: float = 1.0
    feed_connect_timeout: float = 10.0
    feed_timeout: float = 30.0
    # The sentence-embedding model of semantic search (bot.core.embeddings.models), or "off".
    embeddings: str = "all-minilm-l6-v2"

    def __repr__(self) -> str:
        # The token is never shown, and a store URL only without its password.
        shown = ", ".join(
            f"{f.name}={self._shown_field(f.name)!r}" for f in fields(self) if f.name != "token"
        )
        token = "set" if self.token else "unset"
        return f"Settings(token=<{token}>, {shown})"

    def _shown_field(self, name: str) -> object:
        value = getattr(self, name)
        return redacted(value) if name == "db_url" and value is not None else value

    @property
    def store_target(self) -> str | Path:
        """What `open_store` opens: the PostgreSQL URL, else the SQLite file."""
        return self.db_url or self.db_path

    @property
    def store_label(self) -> str:
        """The store as it may be shown in output and logs (no password)."""
        return redacted(self.store_target)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, *, dotenv: bool = True) -> Settings:
        """Read settings. `.env` in the current folder fills in what the environment lacks."""
        if env is None:
            if dotenv:
                file_values = {k: v for k, v in dotenv_values(".env").items() if v is not None}
                env = {**file_values, **os.environ}
            else:
                env = dict(os.environ)
        dev_guild = env.get("NEWSBOT_DEV_GUILD", "").strip()
        if dev_guild and not dev_guild.isdigit():
            raise ConfigError(
                f"NEWSBOT_DEV_GUILD={_shown(dev_guild)}: expected a server (guild) id"
            )
        level = (env.get("NEWSBOT_LOG_LEVEL") or "").strip().upper() or cls.log_level
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ConfigError(
                f"NEWSBOT_LOG_LEVEL={_shown(level)}: expected DEBUG, INFO, WARNING or ERROR"
            )
        notices = (env.get("NEWSBOT_FAILURE_NOTICES") or "").strip().lower() or cls.failure_notices
        if notices not in ("system", "creator", "off"):
            raise ConfigError(
                f"NEWSBOT_FAILURE_NOTICES={_shown(notices)}: expected system, creator or off"
            )
        db_default = _default_dir(cls.db_path.parent) / cls.db_path.name
        db = (env.get("NEWSBOT_DB") or "").strip()
        if is_url(db) and not is_postgres_url(db):
            raise ConfigError(
                f"NEWSBOT_DB={_shown(redacted(db))}: expected a file path or a postgresql:// URL"
            )
        try:
            shards = shard_spec(
                (env.get("NEWSBOT_SHARD_IDS") or "").strip() or None,
                _int(env, "NEWSBOT_SHARD_COUNT", 0, minimum=1) or None,
                source="NEWSBOT_SHARD_IDS/NEWSBOT_SHARD_COUNT",
            )
        except ShardSpecError as exc:
            raise ConfigError(str(exc)) from None
        return cls(
            token=(env.get("DISCORD_TOKEN") or "").strip() or cls.token,
            db_path=db_default if not db or is_url(db) else Path(db),
            db_url=db if is_url(db) else None,
            db_pool=_int(env, "NEWSBOT_DB_POOL", cls.db_pool, minimum=1),
            shards=shards,
            data_dir=Path(env.get("NEWSBOT_DATA_DIR") or _default_dir(cls.data_dir)),
            max_record_bytes=_int(env, "NEWSBOT_MAX_RECORD_BYTES", cls.max_record_bytes, minimum=1),
            dev_guild=int(dev_guild) if dev_guild else cls.dev_guild,
            admin_ids=_ids(env, "NEWSBOT_ADMIN_IDS") or cls.admin_ids,
            rescan_seconds=_duration(env, "NEWSBOT_RESCAN_SECONDS", cls.rescan_seconds),
            alert_max_age=_duration(env, "NEWSBOT_ALERT_MAX_AGE", cls.alert_max_age),
            max_subs_per_guild=_int(
                env, "NEWSBOT_MAX_SUBS_PER_GUILD", cls.max_subs_per_guild, minimum=1
            ),
            max_subs_per_user=_int(
                env, "NEWSBOT_MAX_SUBS_PER_USER", cls.max_subs_per_user, minimum=1
            ),
            failure_notices=notices,  # type: ignore[arg-type]
            page_timeout=_duration(env, "NEWSBOT_PAGE_TIMEOUT", cls.page_timeout),
            max_query_chars=_int(env, "NEWSBOT_MAX_QUERY_CHARS", cls.max_query_chars, minimum=20),
            log_level=level,
            feeds_allow_private=_networks(env, "NEWSBOT_FEEDS_ALLOW_PRIVATE")
            or cls.feeds_allow_private,
            max_feeds_per_guild=_int(
                env, "NEWSBOT_MAX_FEEDS_PER_GUILD", cls.max_feeds_per_guild, minimum=1
            ),
            feed_interval=_duration(env, "NEWSBOT_FEED_INTERVAL", cls.feed_interval),
            feed_max_bytes=_int(env, "NEWSBOT_FEED_MAX_BYTES", cls.feed_max_bytes, minimum=1024),
            feed_host_gap=_duration(env, "NEWSBOT_FEED_HOST_GAP", cls.feed_host_gap),
            feed_connect_timeout=_duration(
                env, "NEWSBOT_FEED_CONNECT_TIMEOUT", cls.feed_connect_timeout
            ),
            feed_timeout=_duration(env, "NEWSBOT_FEED_TIMEOUT", cls.feed_timeout),
            embeddings=embeddings_setting(env),
        )


def embeddings_setting(env: Mapping[str, str] | None = None) -> str:
    """NEWSBOT_EMBEDDINGS as a model name (folded), or `Settings.embeddings` when unset.

    A function of its own: a `Searcher` made without settings (scripts, `newsbot ask`)
    follows the environment too.
    """
    raw = (os.environ if env is None else env).get("NEWSBOT_EMBEDDINGS") or ""
    return raw.strip().lower() or Settings.embeddings
