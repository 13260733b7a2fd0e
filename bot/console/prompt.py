"""The console's line editor: prompt_toolkit with history, and Ctrl-C as shells treat it.

Ctrl-C on a half-typed line clears the line; on an empty line it leaves
(raises KeyboardInterrupt from `prompt_async`), as Ctrl-D does (EOFError).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any


def ctrl_c_bindings() -> Any:
    """prompt_toolkit KeyBindings: Ctrl-C clears a typed line, and exits
    (KeyboardInterrupt) on an empty one."""
    # Lazy for start-up speed (~0.1 s): every `newsbot` command imports the console,
    # and only an interactive terminal needs prompt_toolkit.
    from prompt_toolkit.key_binding import KeyBindings

    bindings = KeyBindings()

    @bindings.add("c-c")
    def _interrupt(event: Any) -> None:
        buffer = event.app.current_buffer
        if buffer.text:
            buffer.reset()
        else:
            event.app.exit(exception=KeyboardInterrupt())

    return bindings


def make_prompt(
    history: Path | None, **io: Any
) -> tuple[Any, Callable[[], AbstractContextManager]]:
    """A prompt_toolkit PromptSession (history kept in `history` when it can be
    written) and `patch_stdout`, which keeps background prints above the prompt.
    `io` goes to PromptSession (`input=`, `output=`: tests drive it through a pipe)."""
    # Lazy for start-up speed, as above.
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, History, InMemoryHistory
    from prompt_toolkit.patch_stdout import patch_stdout

    kept: History = InMemoryHistory()
    if history is not None:
        with contextlib.suppress(OSError):  # an unwritable folder: history for this run only
            kept = FileHistory(str(history))
    return PromptSession(history=kept, key_bindings=ctrl_c_bindings(), **io), patch_stdout
