"""REST routes of interactions: the callback (the 3-second acknowledgement) and the
interaction webhook (followups, and reading, editing or deleting the responses)."""

from __future__ import annotations

import asyncio
import copy
from http import HTTPStatus
from typing import Any

from . import validation as v
from .message_store import MessageStore
from .protocol import (
    APPLICATION_COMMAND,
    APPLICATION_COMMAND_AUTOCOMPLETE,
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    CHAT_INPUT_COMMAND,
    DEFAULT_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    EPHEMERAL,
    INTERACTION_ALREADY_ACKNOWLEDGED,
    INVALID_WEBHOOK_TOKEN,
    LOADING,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    UNKNOWN_INTERACTION,
    UNKNOWN_MESSAGE,
    UNKNOWN_WEBHOOK,
    UPDATE_MESSAGE,
)
from .recorded import DispatchedInteraction, RecordedRequest
from .rest import RestCore
from .rest_types import SNOW, TOKEN, ApiError, RestResponse

# Which callback types Discord accepts for which interaction type.
ALLOWED_CALLBACKS: dict[int, set[int]] = {
    APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL},
    MESSAGE_COMPONENT: {
        CHANNEL_MESSAGE,
        DEFERRED_CHANNEL_MESSAGE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
        MODAL,
    },
    APPLICATION_COMMAND_AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {
        CHANNEL_MESSAGE,
        DEFERRED_CHANNEL_MESSAGE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
    },
}


class InteractionRoutes(RestCore, MessageStore):
    """``/interactions/{id}/{token}/callback`` and ``/webhooks/{application}/{token}``."""

    def _install_interaction_routes(self) -> None:
        s = SNOW.format
        app = s("application_id")
        r = self.add_route
        r(
            "POST",
            rf"/interactions/{s('interaction_id')}/{TOKEN}/callback",
            self._interaction_callback,
            name="interaction_callback",
            auth=False,
        )
        hook = rf"/webhooks/{app}/{TOKEN}"
        msg_ref = r"(?P<message_id>@original|\d+)"
        r("POST", hook, self._webhook_execute, name="webhook_execute", auth=False)
        r(
            "GET",
            rf"{hook}/messages/{msg_ref}",
            self._webhook_get,
            name="webhook_get_message",
            auth=False,
        )
        r(
            "PATCH",
            rf"{hook}/messages/{msg_ref}",
            self._webhook_edit,
            name="webhook_edit_message",
            auth=False,
        )
        r(
            "DELETE",
            rf"{hook}/messages/{msg_ref}",
            self._webhook_delete,
            name="webhook_delete_message",
            auth=False,
        )

    async def _interaction_callback(
        self, req: RecordedRequest, interaction_id: str, token: str
    ) -> RestResponse:
        now = asyncio.get_running_loop().time()
        rec = self.interactions.get(interaction_id)
        if rec is None or rec.token != token:
            raise ApiError.code(UNKNOWN_INTERACTION)
        rec.attempts.append(req)
        if rec.callback is not None:
            raise ApiError.code(INTERACTION_ALREADY_ACKNOWLEDGED)
        if rec.expired or now - rec.created_at > self.interaction_deadline:
            rec.expired = True
            raise ApiError.code(UNKNOWN_INTERACTION)
        body = req.json
        if not isinstance(body, dict) or not isinstance(body.get("type"), int):
            errors: dict[str, Any] = {}
            v.add_error(errors, ["type"], "BASE_TYPE_REQUIRED", "This field is required")
            raise ApiError.form(errors)
        ctype = body["type"]
        data = body.get("data") or {}
        if ctype not in ALLOWED_CALLBACKS.get(rec.type, set()):
            errors = {}
            v.add_error(
                errors,
                ["type"],
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"Response type {ctype} is not valid for interaction type {rec.type}.",
            )
            raise ApiError.form(errors)
        self._validate_callback(ctype, data, files=len(req.files))

        rec.callback = req
        rec.acknowledged_at = now
        message: dict[str, Any] | None = None
        if ctype in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE):
            rec.ephemeral = bool((data.get("flags") or 0) & EPHEMERAL)
            rec.loading = ctype == DEFERRED_CHANNEL_MESSAGE
            message = await self._new_message(
                channel_id=rec.payload["channel_id"],
                body=data if ctype == CHANNEL_MESSAGE else {},
                files=req.files,
                extra_flags=(LOADING if rec.loading else 0) | (EPHEMERAL if rec.ephemeral else 0),
                msg_type=(
                    CHAT_INPUT_COMMAND if rec.type == APPLICATION_COMMAND else DEFAULT_MESSAGE
                ),
                interaction=rec,
            )
            rec.original_message_id = message["id"]
        elif ctype in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
            message = self._component_message(rec)
            if message is not None:
                rec.original_message_id = message["id"]
                rec.ephemeral = bool(message["flags"] & EPHEMERAL)
                if ctype == UPDATE_MESSAGE:
                    await self._apply_edit(message, data, req.files)
        if req.query.get("with_response", "").lower() not in ("1", "true"):
            return RestResponse(HTTPStatus.NO_CONTENT)
        # Shape from discord.py's InteractionCallbackResponse._update.
        interaction: dict[str, Any] = {
            "id": rec.id,
            "type": rec.type,
            "activity_instance_id": None,
            "response_message_loading": ctype == DEFERRED_CHANNEL_MESSAGE,
            "response_message_ephemeral": rec.ephemeral,
        }
        resource: dict[str, Any] = {"type": ctype}
        if message is not None:
            interaction["response_message_id"] = message["id"]
            resource["message"] = copy.deepcopy(message)
        return RestResponse(HTTPStatus.OK, {"interaction": interaction, "resource": resource})

    def _validate_callback(self, ctype: int, data: dict[str, Any], *, files: int) -> None:
        if ctype in (CHANNEL_MESSAGE, UPDATE_MESSAGE):
            errors = v.validate_message(data, ["data"])
            if errors:
                raise ApiError.form(errors)
            if ctype == CHANNEL_MESSAGE and v.is_empty_message(data, files=files):
                raise ApiError.empty_message()
        elif ctype == AUTOCOMPLETE_RESULT:
            errors = v.validate_choices(data.get("choices"), ["data", "choices"])
            if errors:
                raise ApiError.form(errors)
        elif ctype == MODAL:
            errors = {}
            if not data.get("custom_id"):
                v.add_error(
                    errors, ["data", "custom_id"], "BASE_TYPE_REQUIRED", "This field is required"
                )
            title = data.get("title")
            if not title or len(title) > 45:
                v.add_error(
                    errors,
                    ["data", "title"],
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 45 in length.",
                )
            if not 1 <= len(data.get("components") or []) <= 5:
                v.add_error(
                    errors,
                    ["data", "components"],
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 5 in length.",
                )
            if errors:
                raise ApiError.form(errors)

    def _component_message(self, rec: DispatchedInteraction) -> dict[str, Any] | None:
        msg = rec.payload.get("message")
        if msg is None:
            return None
        stored = self.messages.get(msg["id"])
        if stored is None:  # a message the test built by hand: adopt it
            stored = copy.deepcopy(msg)
            self.messages[stored["id"]] = stored
        return stored

    def _webhook_interaction(self, application_id: str, token: str) -> DispatchedInteraction:
        rec = self._by_token.get(token)
        if rec is None or application_id != self.world.application_id:
            raise ApiError.code(UNKNOWN_WEBHOOK)
        if rec.acknowledged_at is None:
            # The interaction webhook only exists once the interaction was acknowledged.
            raise ApiError.code(UNKNOWN_WEBHOOK)
        if asyncio.get_running_loop().time() - rec.acknowledged_at > self.followup_ttl:
            raise ApiError.code(INVALID_WEBHOOK_TOKEN)
        return rec

    def _webhook_message(self, rec: DispatchedInteraction, message_id: str) -> dict[str, Any]:
        mid = rec.original_message_id if message_id == "@original" else message_id
        if mid is None or mid in self.deleted_messages:
            raise ApiError.code(UNKNOWN_MESSAGE)
        if mid != rec.original_message_id and mid not in rec.followup_ids:
            raise ApiError.code(UNKNOWN_MESSAGE)
        return self.messages[mid]

    async def _webhook_execute(
        self, req: RecordedRequest, application_id: str, token: str
    ) -> RestResponse:
        rec = self._webhook_interaction(application_id, token)
        body = req.json or {}
        errors = v.validate_message(body)
        if errors:
            raise ApiError.form(errors)
        if v.is_empty_message(body, files=len(req.files)):
            raise ApiError.empty_message()
        if rec.loading and rec.original_message_id is not None:
            # The first followup after a DEFERRED_CHANNEL_MESSAGE resolves the "thinking"
            # message instead of posting a new one, and keeps the defer's ephemeral state.
            message = self.messages[rec.original_message_id]
            await self._apply_edit(message, {**body, "flags": message["flags"]}, req.files)
            rec.loading = False
        else:
            flags = body.get("flags") or 0
            message = await self._new_message(
                channel_id=rec.payload["channel_id"],
                body=body,
                files=req.files,
                extra_flags=flags & EPHEMERAL,
                msg_type=DEFAULT_MESSAGE,
                interaction=rec,
            )
        rec.followup_ids.append(message["id"])
        # Interaction followups always behave as wait=true.
        return RestResponse(HTTPStatus.OK, copy.deepcopy(message))

    async def _webhook_get(
        self, req: RecordedRequest, application_id: str, token: str, message_id: str
    ) -> RestResponse:
        rec = self._webhook_interaction(application_id, token)
        return RestResponse(HTTPStatus.OK, copy.deepcopy(self._webhook_message(rec, message_id)))

    async def _webhook_edit(
        self, req: RecordedRequest, application_id: str, token: str, message_id: str
    ) -> RestResponse:
        rec = self._webhook_interaction(application_id, token)
        message = self._webhook_message(rec, message_id)
        body = req.json or {}
        errors = v.validate_message(body)
        if errors:
            raise ApiError.form(errors)
        await self._apply_edit(message, body, req.files)
        if message["id"] == rec.original_message_id:
            rec.loading = False
        return RestResponse(HTTPStatus.OK, copy.deepcopy(message))

    async def _webhook_delete(
        self, req: RecordedRequest, application_id: str, token: str, message_id: str
    ) -> RestResponse:
        rec = self._webhook_interaction(application_id, token)
        message = self._webhook_message(rec, message_id)
        await self._delete(message)
        return RestResponse(HTTPStatus.NO_CONTENT)
