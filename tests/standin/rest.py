"""The stand-in's REST core: recording each request, reading its body, matching a route,
then auth, injected faults and enforced rate limits before the route's handler runs."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from aiohttp import web

from .faults import rate_limited_body
from .protocol import GENERAL_ERROR, INVALID_FORM_BODY, INVALID_JSON
from .recorded import RecordedFile, RecordedRequest
from .rest_types import API_PREFIX, ApiError, Handler, RestResponse, RouteSpec
from .state import StandInState

log = logging.getLogger(__name__)


class RestCore(StandInState):
    """Serves ``/api/v10``: every request is recorded, then routed (see ``add_route``)."""

    def add_route(
        self, method: str, pattern: str, handler: Handler, *, name: str, auth: bool = True
    ) -> None:
        """Register an extra REST route (pattern is a regex over the path after /api/v10).

        The handler is called as ``await handler(request, **named_groups)`` and returns a
        ``RestResponse`` (or raises ``ApiError``).
        """
        self._routes.append(RouteSpec(method.upper(), re.compile(pattern), name, handler, auth))

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        rel = request.path[len(API_PREFIX) :] if request.path.startswith(API_PREFIX + "/") else None
        rec = RecordedRequest(
            method=request.method,
            path=rel if rel is not None else request.path,
            query=dict(request.query),
            headers=dict(request.headers),
            json=None,
            files=[],
            at=loop.time(),
            wall=datetime.now(tz=UTC),
        )
        self.requests.append(rec)
        try:
            reply = await self._process(rec, request, known_prefix=rel is not None)
        except ApiError as exc:
            reply = exc.response
        except Exception as exc:
            log.exception("stand-in REST handler crashed")
            self.errors.append(f"{rec.method} {rec.path} crashed: {exc!r}")
            # 503, not 500: discord.py retries 500s with 1+3+5+7 s sleeps, which would only
            # delay the failure; the recorded error fails the test at fixture teardown.
            reply = RestResponse(
                HTTPStatus.SERVICE_UNAVAILABLE,
                {"message": f"stand-in crashed: {exc!r}", "code": GENERAL_ERROR},
            )
        rec.status, rec.response, rec.response_headers = reply.status, reply.body, reply.headers
        rec.done = True
        self._notify()
        return reply.to_response()

    async def _process(
        self, rec: RecordedRequest, request: web.Request, *, known_prefix: bool
    ) -> RestResponse:
        await self._read_body(rec, request)
        spec, params = self._match(rec.method, rec.path) if known_prefix else (None, {})
        if spec is None:
            self.unknown_routes.append(f"{rec.method} {request.path_qs}")
            return RestResponse(
                HTTPStatus.NOT_FOUND, {"message": "404: Not Found", "code": GENERAL_ERROR}
            )
        rec.route, rec.params = spec.name, params
        if spec.auth:
            auth = request.headers.get("Authorization", "")
            wanted = f"Bot {self.expected_token}" if self.expected_token else None
            if not auth.startswith("Bot ") or (wanted is not None and auth != wanted):
                return RestResponse(
                    HTTPStatus.UNAUTHORIZED, {"message": "401: Unauthorized", "code": GENERAL_ERROR}
                )
        fault = self.faults.match(rec.method, rec.path)
        if fault is not None:
            rec.fault = fault
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status:  # status 0 = "only slow this request down"
                status, body, headers = fault.response()
                return RestResponse(status, body, headers)
        decision = self.ratelimits.check(rec.method, rec.path, asyncio.get_running_loop().time())
        if decision is not None and not decision.allowed:
            rec.rate_limited = True
            body = rate_limited_body(decision.retry_after, is_global=False)
            return RestResponse(HTTPStatus.TOO_MANY_REQUESTS, body, decision.headers)
        reply = await spec.handler(rec, **params)
        if decision is not None:
            reply.headers = {**decision.headers, **reply.headers}
        return reply

    def _match(self, method: str, path: str) -> tuple[RouteSpec | None, dict[str, str]]:
        for spec in self._routes:
            if spec.method == method:
                m = spec.regex.fullmatch(path)
                if m is not None:
                    return spec, m.groupdict()
        return None, {}

    async def _read_body(self, rec: RecordedRequest, request: web.Request) -> None:
        if not request.can_read_body:
            return
        ctype = request.content_type
        if ctype == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part is None:
                    break
                data = await part.read()  # type: ignore[union-attr]
                if part.name == "payload_json":  # type: ignore[union-attr]
                    rec.json = self._parse_json(data)
                else:
                    rec.files.append(
                        RecordedFile(
                            field=part.name or "",  # type: ignore[union-attr]
                            filename=part.filename,  # type: ignore[union-attr]
                            content_type=part.headers.get("Content-Type"),
                            data=bytes(data),
                        )
                    )
            return
        raw = await request.read()
        if not raw:
            return
        if ctype != "application/json":
            raise ApiError(
                HTTPStatus.BAD_REQUEST,
                {"message": f"Unsupported Content-Type {ctype!r}", "code": INVALID_FORM_BODY},
            )
        rec.json = self._parse_json(raw)

    @staticmethod
    def _parse_json(raw: bytes | bytearray) -> Any:
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ApiError(
                HTTPStatus.BAD_REQUEST,
                {"message": "The request body contains invalid JSON.", "code": INVALID_JSON},
            ) from exc
