"""The stand-in's REST vocabulary: the response a route handler returns, the Discord JSON
error it may raise instead, and a route's spec."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aiohttp import web

from .faults import KNOWN_ERRORS
from .protocol import EMPTY_MESSAGE, INVALID_FORM_BODY

API_PREFIX = "/api/v10"


@dataclass
class RestResponse:
    """What a route handler answers: status, JSON body (``None`` for none) and headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def to_response(self) -> web.Response:
        """The aiohttp response, shaped the way discord.py parses Discord's."""
        headers = dict(self.headers)
        if self.status == HTTPStatus.NO_CONTENT or self.body is None:
            return web.Response(status=self.status, headers=headers)
        # discord.py only parses JSON when Content-Type is exactly "application/json";
        # aiohttp's json_response would append "; charset=utf-8".
        headers["Content-Type"] = "application/json"
        return web.Response(
            status=self.status, body=json.dumps(self.body).encode(), headers=headers
        )


class ApiError(Exception):
    """A Discord error answer, raised from a route handler; ``response`` is what is sent."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {body}")
        self.response = RestResponse(status, body, headers or {})

    @classmethod
    def code(cls, code: int, message: str | None = None) -> ApiError:
        """The error Discord sends for JSON error ``code`` (status and message from faults)."""
        status, default = KNOWN_ERRORS[code]
        return cls(status, {"message": message or default, "code": code})

    @classmethod
    def form(cls, errors: dict[str, Any]) -> ApiError:
        """400 Invalid Form Body with Discord's nested ``errors`` tree."""
        body = {"code": INVALID_FORM_BODY, "message": "Invalid Form Body", "errors": errors}
        return cls(HTTPStatus.BAD_REQUEST, body)

    @classmethod
    def empty_message(cls) -> ApiError:
        """400 "Cannot send an empty message"."""
        body = {"message": "Cannot send an empty message", "code": EMPTY_MESSAGE}
        return cls(HTTPStatus.BAD_REQUEST, body)


Handler = Callable[..., Awaitable[RestResponse]]


@dataclass
class RouteSpec:
    """One REST route: method, path regex (after /api/v10), name, handler, whether bot auth."""

    method: str
    regex: re.Pattern[str]
    name: str
    handler: Handler
    auth: bool


SNOW = r"(?P<{}>\d+)"
TOKEN = r"(?P<token>[^/]+)"
