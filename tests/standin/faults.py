"""Fault switches (injected errors) and an optional enforced per-route rate limiter.

Paths are matched with ``re.fullmatch`` against the path *after* ``/api/v10`` — e.g.
``r"/channels/\\d+/messages"`` — so a pattern for creating messages does not also catch edits
(``/channels/1/messages/2``) by accident.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from .protocol import (
    ALREADY_CROSSPOSTED,
    CANNOT_SEND_IN_NON_TEXT_CHANNEL,
    CANNOT_SEND_TO_USER,
    GENERAL_ERROR,
    INTERACTION_ALREADY_ACKNOWLEDGED,
    INVALID_CHANNEL_TYPE,
    INVALID_FORM_BODY,
    INVALID_WEBHOOK_TOKEN,
    MISSING_ACCESS,
    MISSING_PERMISSIONS,
    THREAD_ALREADY_CREATED,
    UNKNOWN_CHANNEL,
    UNKNOWN_INTERACTION,
    UNKNOWN_MESSAGE,
    UNKNOWN_USER,
    UNKNOWN_WEBHOOK,
)

KNOWN_ERRORS: dict[int, tuple[int, str]] = {
    # code: (status, message)
    UNKNOWN_CHANNEL: (HTTPStatus.NOT_FOUND, "Unknown Channel"),
    UNKNOWN_MESSAGE: (HTTPStatus.NOT_FOUND, "Unknown Message"),
    UNKNOWN_USER: (HTTPStatus.NOT_FOUND, "Unknown User"),
    UNKNOWN_WEBHOOK: (HTTPStatus.NOT_FOUND, "Unknown Webhook"),
    UNKNOWN_INTERACTION: (HTTPStatus.NOT_FOUND, "Unknown interaction"),
    INTERACTION_ALREADY_ACKNOWLEDGED: (
        HTTPStatus.BAD_REQUEST,
        "Interaction has already been acknowledged.",
    ),
    MISSING_ACCESS: (HTTPStatus.FORBIDDEN, "Missing Access"),
    CANNOT_SEND_TO_USER: (HTTPStatus.FORBIDDEN, "Cannot send messages to this user"),
    MISSING_PERMISSIONS: (HTTPStatus.FORBIDDEN, "Missing Permissions"),
    INVALID_WEBHOOK_TOKEN: (HTTPStatus.UNAUTHORIZED, "Invalid Webhook Token"),
    INVALID_FORM_BODY: (HTTPStatus.BAD_REQUEST, "Invalid Form Body"),
    CANNOT_SEND_IN_NON_TEXT_CHANNEL: (
        HTTPStatus.BAD_REQUEST,
        "Cannot send messages in a non-text channel",
    ),
    INVALID_CHANNEL_TYPE: (HTTPStatus.BAD_REQUEST, "Cannot execute action on this channel type"),
    ALREADY_CROSSPOSTED: (HTTPStatus.BAD_REQUEST, "This message has already been crossposted."),
    THREAD_ALREADY_CREATED: (
        HTTPStatus.BAD_REQUEST,
        "A thread has already been created for this message",
    ),
}

# discord.py treats a 429 without a ``Via`` header as a Cloudflare ban and raises instead of
# retrying (http.py / webhook/async_.py). Discord's edge always adds it.
VIA = "1.1 google"


def rate_limited_body(retry_after: float, *, is_global: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message": "You are being rate limited.",
        "retry_after": round(retry_after, 3),
        "global": is_global,
    }
    if not is_global:
        body["code"] = GENERAL_ERROR
    return body


def rate_limited_headers(
    retry_after: float,
    *,
    is_global: bool,
    scope: str,
    limit: int = 5,
    bucket: str = "",
) -> dict[str, str]:
    headers = {
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "X-RateLimit-Scope": "global" if is_global else scope,
        "Via": VIA,
    }
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    else:
        headers.update(
            {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                "X-RateLimit-Bucket": bucket or "fault",
            }
        )
    return headers


@dataclass
class FaultRule:
    """Answer matching requests with ``status`` (``times`` times; ``None`` = forever)."""

    method: str | None
    path_pattern: str
    status: int
    times: int | None = 1
    retry_after: float = 0.5
    is_global: bool = False
    scope: str = "user"
    code: int | None = None
    message: str | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return re.fullmatch(self.path_pattern, path) is not None

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def response(self) -> tuple[int, Any, dict[str, str]]:
        headers = dict(self.headers)
        if self.status == HTTPStatus.TOO_MANY_REQUESTS:
            digest = hashlib.sha1(self.path_pattern.encode()).hexdigest()[:16]
            headers = {
                **rate_limited_headers(
                    self.retry_after, is_global=self.is_global, scope=self.scope, bucket=digest
                ),
                **headers,
            }
            body = (
                self.body
                if self.body is not None
                else rate_limited_body(self.retry_after, is_global=self.is_global)
            )
            return HTTPStatus.TOO_MANY_REQUESTS, body, headers
        if self.body is not None:
            return self.status, self.body, headers
        if self.code is not None:
            message = self.message or KNOWN_ERRORS.get(self.code, (0, "Error"))[1]
            return self.status, {"message": message, "code": self.code}, headers
        reason = {
            HTTPStatus.INTERNAL_SERVER_ERROR: "Internal Server Error",
            HTTPStatus.BAD_GATEWAY: "Bad Gateway",
            HTTPStatus.SERVICE_UNAVAILABLE: "Service Unavailable",
        }
        text = self.message or reason.get(self.status, "Error")
        return self.status, {"message": f"{self.status}: {text}", "code": GENERAL_ERROR}, headers


class Faults:
    """The fault switchboard.

    ``standin.faults.add(method="POST", path_pattern=..., status=429)``.
    """

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []

    def add(
        self,
        *,
        method: str | None = None,
        path_pattern: str = ".*",
        status: int,
        times: int | None = 1,
        retry_after: float = 0.5,
        is_global: bool = False,
        scope: str = "user",
        code: int | None = None,
        message: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> FaultRule:
        rule = FaultRule(
            method=method,
            path_pattern=path_pattern,
            status=status,
            times=times,
            retry_after=retry_after,
            is_global=is_global,
            scope=scope,
            code=code,
            message=message,
            body=body,
            headers=dict(headers or {}),
            delay=delay,
        )
        self.rules.append(rule)
        return rule

    # Presets for the errors tests usually want.
    def rate_limit(
        self,
        path_pattern: str = ".*",
        *,
        method: str | None = None,
        retry_after: float = 0.5,
        times: int | None = 1,
        is_global: bool = False,
        scope: str = "user",
    ) -> FaultRule:
        return self.add(
            method=method,
            path_pattern=path_pattern,
            status=HTTPStatus.TOO_MANY_REQUESTS,
            retry_after=retry_after,
            times=times,
            is_global=is_global,
            scope=scope,
        )

    def server_error(
        self,
        path_pattern: str = ".*",
        *,
        method: str | None = None,
        status: int = HTTPStatus.INTERNAL_SERVER_ERROR,
        times: int | None = 1,
    ) -> FaultRule:
        return self.add(method=method, path_pattern=path_pattern, status=status, times=times)

    def error(
        self,
        code: int,
        path_pattern: str = ".*",
        *,
        method: str | None = None,
        times: int | None = 1,
    ) -> FaultRule:
        """Any Discord JSON error by code.

        E.g. ``faults.error(MISSING_PERMISSIONS, r"/channels/\\d+/messages")``.
        """
        status, _ = KNOWN_ERRORS[code]
        return self.add(
            method=method, path_pattern=path_pattern, status=status, code=code, times=times
        )

    def missing_permissions(self, path_pattern: str = ".*", **kw: Any) -> FaultRule:
        return self.error(MISSING_PERMISSIONS, path_pattern, **kw)

    def missing_access(self, path_pattern: str = ".*", **kw: Any) -> FaultRule:
        return self.error(MISSING_ACCESS, path_pattern, **kw)

    def unknown_channel(self, path_pattern: str = ".*", **kw: Any) -> FaultRule:
        return self.error(UNKNOWN_CHANNEL, path_pattern, **kw)

    def dm_closed(self, path_pattern: str = ".*", **kw: Any) -> FaultRule:
        return self.error(CANNOT_SEND_TO_USER, path_pattern, **kw)

    def match(self, method: str, path: str) -> FaultRule | None:
        for rule in self.rules:
            if rule.matches(method, path):
                rule.hits += 1
                return rule
        return None

    def clear(self) -> None:
        self.rules.clear()


@dataclass
class BucketRule:
    method: str | None
    path_pattern: str
    limit: int
    per: float
    name: str


@dataclass
class _Window:
    reset_at: float
    remaining: int


@dataclass
class RateLimitDecision:
    allowed: bool
    headers: dict[str, str]
    retry_after: float = 0.0
    rule: BucketRule | None = None


class RateLimits:
    """Enforced buckets, like Discord's: fixed windows keyed by route + major parameter.

    The named group ``major`` in the pattern (e.g. the channel id) splits buckets, the way
    Discord rate-limits each channel separately. ``hits`` counts 429s the limiter returned.
    """

    def __init__(self) -> None:
        self.rules: list[BucketRule] = []
        self._windows: dict[tuple[str, str], _Window] = {}
        self.hits: int = 0
        self.hit_log: list[tuple[str, str, float]] = []

    def add(
        self,
        *,
        method: str | None = "POST",
        path_pattern: str = r"/channels/(?P<major>\d+)/messages",
        limit: int = 5,
        per: float = 5.0,
    ) -> BucketRule:
        name = hashlib.sha1(f"{method} {path_pattern}".encode()).hexdigest()[:16]
        rule = BucketRule(method=method, path_pattern=path_pattern, limit=limit, per=per, name=name)
        self.rules.append(rule)
        return rule

    def enable_defaults(self) -> None:
        """Discord's well-known 5 messages / 5 s per channel limit."""
        self.add(method="POST", path_pattern=r"/channels/(?P<major>\d+)/messages", limit=5, per=5.0)

    def check(self, method: str, path: str, now: float) -> RateLimitDecision | None:
        for rule in self.rules:
            if rule.method is not None and rule.method.upper() != method.upper():
                continue
            m = re.fullmatch(rule.path_pattern, path)
            if m is None:
                continue
            major = m.groupdict().get("major") or ""
            key = (rule.name, major)
            window = self._windows.get(key)
            if window is None or now >= window.reset_at:
                window = self._windows[key] = _Window(reset_at=now + rule.per, remaining=rule.limit)
            # Rounded *up* to the millisecond: a client that waits exactly Reset-After must
            # land in the next window, never a hair early.
            reset_after = math.ceil(max(0.0, window.reset_at - now) * 1000) / 1000
            if window.remaining <= 0:
                self.hits += 1
                self.hit_log.append((method, path, now))
                headers = rate_limited_headers(
                    reset_after, is_global=False, scope="user", limit=rule.limit, bucket=rule.name
                )
                return RateLimitDecision(False, headers, reset_after, rule)
            window.remaining -= 1
            headers = {
                "X-RateLimit-Limit": str(rule.limit),
                "X-RateLimit-Remaining": str(window.remaining),
                "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
                "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                "X-RateLimit-Bucket": rule.name,
            }
            return RateLimitDecision(True, headers, 0.0, rule)
        return None

    def clear(self) -> None:
        self.rules.clear()
        self._windows.clear()
