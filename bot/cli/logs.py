"""Where log lines go: stderr for commands, a file for the console.

In the console, log lines on the terminal would land between prompts and
answers (and wrap mid-word), so they go to `newsbot.log` beside the store; the
console prints that file's path once.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from bot.core.settings import Settings

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
LOG_FILE_NAME = "newsbot.log"
_HANDLER_NAME = "newsbot"


def console_log_file(settings: Settings) -> Path:
    """The file the console logs to: `newsbot.log` in the store's folder."""
    return settings.db_path.parent / LOG_FILE_NAME


def setup_logging(
    settings: Settings, *, verbose: bool = False, console: bool = False
) -> logging.Handler:
    """Log at NEWSBOT_LOG_LEVEL (DEBUG with `verbose`): to stderr, or for the console to
    its log file (stderr when that file cannot be opened). Returns the handler, for
    `stop_logging`."""
    level = logging.DEBUG if verbose else getattr(logging, settings.log_level)
    handler: logging.Handler = logging.StreamHandler(sys.stderr)
    if console:
        path = console_log_file(settings)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(path, encoding="utf-8")
        except OSError:
            pass
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    # Replace only our own handler: a second `main()` in one process (tests, scripts)
    # must not stack them, nor remove a handler someone else installed.
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def stop_logging(handler: logging.Handler) -> None:
    """Detach and close a handler `setup_logging` installed (the log file is complete)."""
    logging.getLogger().removeHandler(handler)
    handler.close()
