"""A throwaway PostgreSQL cluster for the tests: initdb in a temporary folder, 127.0.0.1 only.

`PgCluster.start()` finds the server binaries (/usr/lib/postgresql/<version>/bin, the
highest version first, or `pg_config --bindir`), runs initdb with trust authentication
and no syncing, and starts the server on a free port with its unix socket inside the same
folder, so nothing outside the folder is touched. initdb refuses to run as root, so as
root the folder is handed to the `postgres` user and every server command runs through
`runuser -u postgres --`. `stop()` shuts the server down and removes the folder.

Startup measured at about 2 s (initdb 1.8 s, the start 0.1 s), so each pytest process
(xdist worker) starts its own rather than sharing one through a lock.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SERVER_USER = "postgres"
_START_ATTEMPTS = 3
# A throwaway cluster: losing it on a crash costs nothing, so skip every sync.
_NO_SYNC = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
_SETTINGS = (
    "listen_addresses=127.0.0.1",
    # Each test opens a pool (10 by default) and some open several stores at once.
    "max_connections=200",
)


class PgUnavailable(RuntimeError):
    """PostgreSQL cannot be started here; the message says why."""


def find_bindir() -> Path:
    """The folder holding initdb and pg_ctl, or PgUnavailable naming where it looked."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: _version_key(p.parent.name),
        reverse=True,
    )
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        bindir = Path(out.stdout.strip())
        if (bindir / "initdb").is_file():
            return bindir
    raise PgUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin "
        "nor from pg_config; install them with `apt-get install postgresql`"
    )


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit()) or (0,)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the start retries on a clash)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgCluster:
    """One running throwaway cluster; `url` reaches its `postgres` database as `postgres`."""

    root: Path
    bindir: Path
    port: int = 0
    durable: bool = False
    _as_server_user: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The admin URL (trust authentication: no password)."""
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/postgres"

    @property
    def data(self) -> Path:
        """The data directory."""
        return self.root / "data"

    @property
    def log(self) -> Path:
        """The server log (read it when a start fails)."""
        return self.root / "server.log"

    @classmethod
    def start(cls, *, durable: bool = False) -> PgCluster:
        """initdb and start a cluster; PgUnavailable (with the reason) when it cannot.

        `durable` keeps PostgreSQL's syncing on (benchmarks: a fair match for SQLite's);
        tests leave it off.
        """
        bindir = find_bindir()
        root = Path(tempfile.mkdtemp(prefix="newsbot-pg-"))
        cluster = cls(root=root, bindir=bindir, durable=durable)
        try:
            cluster._as_server_user = _server_user_prefix(root)
            cluster._initdb()
            cluster._start_server()
        except BaseException:
            cluster.stop()
            raise
        # Also on an exit that skips the fixtures' teardown (Ctrl-C, pytest -x).
        atexit.register(cluster.stop)
        return cluster

    def stop(self) -> None:
        """Stop the server (fast shutdown: tests are over) and remove the folder."""
        if (self.data / "postmaster.pid").exists():
            self._run(["pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop"], check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def _initdb(self) -> None:
        self._run(
            [
                "initdb",
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                SERVER_USER,
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            what="initdb",
        )

    def _start_server(self) -> None:
        last = ""
        for _ in range(_START_ATTEMPTS):
            self.port = free_port()
            options = " ".join(
                [f"-c {s}" for s in (*_SETTINGS, *(() if self.durable else _NO_SYNC))]
                + [f"-p {self.port}", f"-c unix_socket_directories={self.root}"]
            )
            start = ["pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30"]
            result = self._run([*start, "-o", options, "start"], check=False)
            if result.returncode == 0:
                return
            # Most likely another process took the port between the probe and the start.
            last = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            time.sleep(0.2)
        raise PgUnavailable(f"PostgreSQL did not start in {self.root}; its log ends:\n{last}")

    def _run(
        self, argv: list[str], *, check: bool = True, what: str = ""
    ) -> subprocess.CompletedProcess[str]:
        command = [*self._as_server_user, str(self.bindir / argv[0]), *argv[1:]]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            raise PgUnavailable(
                f"{what or argv[0]} failed ({result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[-2000:]}"
            )
        return result


def _server_user_prefix(root: Path) -> list[str]:
    """`runuser -u postgres --` when running as root (initdb refuses root), else nothing."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PgUnavailable("running as root, and runuser (to run initdb as postgres) is missing")
    try:
        shutil.chown(root, user=SERVER_USER)
    except LookupError as exc:
        raise PgUnavailable(
            f"running as root and there is no {SERVER_USER!r} user to run initdb as"
        ) from exc
    root.chmod(0o700)
    return [runuser, "-u", SERVER_USER, "--"]
