"""What the store raises on purpose: `StoreError` and the kinds callers act on."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
C = TypeVar("C", bound=type)


class StoreError(RuntimeError):
    """The store cannot be used as asked; the message says why and where.

    A driver raises only these: its database library's own errors never reach
    callers, so the core and the front ends are the same for every backend.
    """


class StoreBusy(StoreError):
    """Another write (a reload) is running in this process."""


class StoreUnavailable(StoreError):
    """The database did not answer: locked by another process past the timeout,
    gone, unreadable, or out of space. Retrying later may work."""


def translating(
    catch: tuple[type[BaseException], ...], convert: Callable[[Any, BaseException], StoreError]
) -> Callable[[C], C]:
    """A class decorator for a driver's store and transaction classes: every public
    coroutine method (its query mixins' included) re-raises an error of `catch` as
    `convert(self, error)`, so the database library's own errors never leave the store."""

    def wrap(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(method)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await method(*args, **kwargs)
            except StoreError:
                raise
            except catch as exc:
                raise convert(args[0], exc) from exc

        return wrapper

    def decorate(cls: C) -> C:
        for name in dir(cls):
            # Plain functions only: a classmethod (`open`) does its own translating.
            method = inspect.getattr_static(cls, name)
            if not name.startswith("_") and inspect.iscoroutinefunction(method):
                setattr(cls, name, wrap(method))
        return cls

    return decorate
