"""Running real `newsbot run` processes against a Discord stand-in of this process, for
tests/test_multiprocess.py and bench/shards.py.

`BotProcess(standin, folder, store, "0-1", count=2).start()` runs
``python -m tests.multiprocess_worker`` (the real command line, discord.py pointed at
the stand-in) with its own token, so `posts(standin, p.token)` tells which process
made which request. Output goes to a file in `folder` (a full pipe would stall it).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.helpers import PROJECT_ROOT
from tests.standin import StandIn

MESSAGES = re.compile(r"/channels/(\d+)/messages")


def guild_id_on(shard: int, count: int, k: int = 1_000_000) -> int:
    """A guild id Discord routes to `shard` of `count`: `(id >> 22) % count == shard`."""
    return ((k * count + shard) << 22) | 1


class BotProcess:
    """One `newsbot run --shards IDS --shard-count N` process on `store`."""

    def __init__(
        self,
        standin: StandIn,
        folder: Path,
        store: str | Path,
        shards: str,
        *,
        count: int,
        data: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = f"shards-{shards}"
        self.token = f"token-{shards}"
        self.log = folder / f"{self.name}.log"
        self.cwd = folder
        self.args = [
            sys.executable,
            "-m",
            "tests.multiprocess_worker",
            standin.api_base,
            standin.gateway_url,
            "run",
            "--shards",
            shards,
            "--shard-count",
            str(count),
        ]
        base = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "DISCORD_"))}
        self.env = {
            **base,
            "PYTHONPATH": str(PROJECT_ROOT),
            "DISCORD_TOKEN": self.token,
            "NEWSBOT_DB": str(store),
            "NEWSBOT_DATA_DIR": str(data),
            "NEWSBOT_RESCAN_SECONDS": "0",
            "NEWSBOT_EMBEDDINGS": "off",
            "NEWSBOT_TEST_MAX_BATCH": "1",  # one message per alert
            **(env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> BotProcess:
        """Start the process (again, after a kill: same arguments, same log)."""
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.args, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        return self

    def output(self) -> str:
        """Everything the process (and its earlier runs) wrote."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def wait(self, within: float) -> int:
        """Its exit code; subprocess.TimeoutExpired after `within` seconds."""
        assert self.proc is not None
        return await asyncio.to_thread(self.proc.wait, within)

    async def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a crash or an OOM kill."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.wait(10)

    async def stop(self) -> None:
        """Ctrl-C, as a person stops it; SIGKILL if it does not end."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            await self.wait(15)
        except subprocess.TimeoutExpired:
            await self.kill()


def posts(standin: StandIn, token: str | None = None) -> list[Any]:
    """Accepted message posts (only those of the process with `token`, when given)."""
    return [
        r
        for r in standin.find_requests("POST", MESSAGES.pattern)
        if 200 <= r.status < 300
        and (token is None or r.headers.get("Authorization") == f"Bot {token}")
    ]


async def wait_for(
    standin: StandIn, check: Any, what: str, within: float, *procs: BotProcess
) -> Any:
    """`standin.wait_until(check)`; on a timeout, fail showing the processes' output."""
    try:
        return await standin.wait_until(check, timeout=within, what=what)
    except TimeoutError:
        logs = "\n".join(f"--- {p.name}\n{p.output()[-3000:]}" for p in procs)
        raise AssertionError(f"{what} not within {within}s\n{logs}") from None
