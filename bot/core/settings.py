"""Settings from the environment (and `.env`), with defaults that work offline.

Every variable is documented in `.env.example` and the README's configuration
table. The token is kept out of `repr()` so it never lands in a log line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class ConfigError(ValueError):
    """A variable with a value that cannot be used; names the variable."""


# A Discord token (id.timestamp.hmac) pasted into the wrong variable must not be
# echoed back in the error about it (terminals, CI logs, bug reports).
_TOKEN_SHAPE = re.compile(r"[\w-]{16,}\.[\w-]{4,}\.[\w-]{16,}")


def _shown(value: str) -> str:
    return "<hidden: it looks like a token>" if _TOKEN_SHAPE.search(value) else repr(value)


def _default_dir(relative: str) -> Path:
    """`data/...` under the current folder, else under the project checkout."""
    here = Path(relative)
    if here.exists() or not (PROJECT_ROOT / relative).exists():
        return here
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


@dataclass(frozen=True)
class Settings:
    token: str | None = field(default=None, repr=False)
    db_path: Path = Path("data/newsbot.db")
    data_dir: Path = Path("data/articles")
    max_record_bytes: int = 1024 * 1024
    dev_guild: int | None = None
    admin_ids: frozenset[int] = frozenset()
    rescan_seconds: float = 300.0
    alert_max_age: float = 48 * 3600.0
    max_subs_per_guild: int = 25
    max_subs_per_user: int = 10
    page_timeout: float = 300.0
    max_query_chars: int = 300
    log_level: str = "INFO"

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.name != "token"
        )
        token = "set" if self.token else "unset"
        return f"Settings(token=<{token}>, {shown})"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, *, dotenv: bool = True) -> Settings:
        """Read settings. `.env` in the current folder fills in what the environment lacks."""
        if env is None:
            if dotenv:
                from dotenv import dotenv_values

                file_values = {k: v for k, v in dotenv_values(".env").items() if v is not None}
                env = {**file_values, **os.environ}
            else:
                env = dict(os.environ)
        dev_guild = env.get("NEWSBOT_DEV_GUILD", "").strip()
        if dev_guild and not dev_guild.isdigit():
            raise ConfigError(
                f"NEWSBOT_DEV_GUILD={_shown(dev_guild)}: expected a server (guild) id"
            )
        level = env.get("NEWSBOT_LOG_LEVEL", "INFO").strip().upper() or "INFO"
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ConfigError(
                f"NEWSBOT_LOG_LEVEL={_shown(level)}: expected DEBUG, INFO, WARNING or ERROR"
            )
        return cls(
            token=(env.get("DISCORD_TOKEN") or "").strip() or None,
            db_path=Path(env.get("NEWSBOT_DB") or _default_dir("data") / "newsbot.db"),
            data_dir=Path(env.get("NEWSBOT_DATA_DIR") or _default_dir("data/articles")),
            max_record_bytes=_int(env, "NEWSBOT_MAX_RECORD_BYTES", 1024 * 1024, minimum=1),
            dev_guild=int(dev_guild) if dev_guild else None,
            admin_ids=_ids(env, "NEWSBOT_ADMIN_IDS"),
            rescan_seconds=parse_duration(
                "NEWSBOT_RESCAN_SECONDS", env.get("NEWSBOT_RESCAN_SECONDS") or "300"
            ),
            alert_max_age=parse_duration(
                "NEWSBOT_ALERT_MAX_AGE", env.get("NEWSBOT_ALERT_MAX_AGE") or "48h"
            ),
            max_subs_per_guild=_int(env, "NEWSBOT_MAX_SUBS_PER_GUILD", 25, minimum=1),
            max_subs_per_user=_int(env, "NEWSBOT_MAX_SUBS_PER_USER", 10, minimum=1),
            page_timeout=parse_duration(
                "NEWSBOT_PAGE_TIMEOUT", env.get("NEWSBOT_PAGE_TIMEOUT") or "300"
            ),
            max_query_chars=_int(env, "NEWSBOT_MAX_QUERY_CHARS", 300, minimum=20),
            log_level=level,
        )
