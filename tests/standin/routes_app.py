"""REST routes about the bot itself: users and DMs, the gateway URL, the application, and
application commands (global and per guild)."""

from __future__ import annotations

import copy
from http import HTTPStatus
from typing import Any

from . import payloads as p
from . import validation as v
from .protocol import (
    CHAT_INPUT,
    INVALID_RECIPIENTS,
    MISSING_ACCESS,
    UNKNOWN_APPLICATION_COMMAND,
    UNKNOWN_USER,
)
from .recorded import RecordedRequest
from .rest import RestCore
from .rest_types import SNOW, ApiError, RestResponse


class AppRoutes(RestCore):
    """``/users``, ``/gateway``, ``/applications`` (and its commands)."""

    def _install_app_routes(self) -> None:
        s = SNOW.format
        app = s("application_id")
        r = self.add_route
        r("GET", r"/users/@me", self._get_me, name="get_current_user")
        r("GET", rf"/users/{s('user_id')}", self._get_user, name="get_user")
        r("POST", r"/users/@me/channels", self._open_dm, name="create_dm")
        r("GET", r"/gateway", self._get_gateway, name="get_gateway", auth=False)
        r("GET", r"/gateway/bot", self._get_gateway_bot, name="get_gateway_bot")
        r("GET", r"/oauth2/applications/@me", self._get_application, name="get_application")
        r("GET", r"/applications/@me", self._get_application, name="get_application")
        cmds = rf"/applications/{app}/commands"
        gcmds = rf"/applications/{app}/guilds/{s('guild_id')}/commands"
        r("GET", cmds, self._get_commands, name="get_global_commands")
        r("PUT", cmds, self._put_commands, name="bulk_overwrite_global_commands")
        r("POST", cmds, self._post_command, name="create_global_command")
        r(
            "DELETE",
            rf"{cmds}/{s('command_id')}",
            self._delete_command,
            name="delete_global_command",
        )
        r("GET", gcmds, self._get_commands, name="get_guild_commands")
        r("PUT", gcmds, self._put_commands, name="bulk_overwrite_guild_commands")
        r("POST", gcmds, self._post_command, name="create_guild_command")
        r(
            "DELETE",
            rf"{gcmds}/{s('command_id')}",
            self._delete_command,
            name="delete_guild_command",
        )

    async def _get_me(self, req: RecordedRequest) -> RestResponse:
        return RestResponse(HTTPStatus.OK, copy.deepcopy(self.world.bot_user))

    async def _get_user(self, req: RecordedRequest, user_id: str) -> RestResponse:
        try:
            return RestResponse(HTTPStatus.OK, copy.deepcopy(self.world.user(user_id)))
        except KeyError:
            raise ApiError.code(UNKNOWN_USER) from None

    async def _open_dm(self, req: RecordedRequest) -> RestResponse:
        body = req.json or {}
        try:
            u = self.world.user(str(body.get("recipient_id")))
        except KeyError:
            raise ApiError(
                HTTPStatus.BAD_REQUEST,
                {"message": "Invalid Recipient(s)", "code": INVALID_RECIPIENTS},
            ) from None
        return RestResponse(HTTPStatus.OK, copy.deepcopy(self.world.open_dm(u)))

    async def _get_gateway(self, req: RecordedRequest) -> RestResponse:
        return RestResponse(HTTPStatus.OK, {"url": self.gateway_url})

    async def _get_gateway_bot(self, req: RecordedRequest) -> RestResponse:
        limit = {"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1}
        body = {"url": self.gateway_url, "shards": self.shard_count, "session_start_limit": limit}
        return RestResponse(HTTPStatus.OK, body)

    async def _get_application(self, req: RecordedRequest) -> RestResponse:
        owner = (
            self.world.user(self.world.guild()["owner_id"])
            if self.world.guilds
            else self.world.bot_user
        )
        body = p.application(
            id=self.world.application_id,
            bot=self.world.bot_user,
            owner=owner,
            name=self.world.bot_user["username"],
            flags=self.application_flags,
        )
        return RestResponse(HTTPStatus.OK, body)

    # ------------------------------------------------------------ REST: commands

    def _check_app(self, application_id: str) -> None:
        if application_id != self.world.application_id:
            raise ApiError.code(MISSING_ACCESS)

    def _command_store(self, guild_id: str | None) -> dict[str, dict[str, Any]]:
        if guild_id is None:
            return self.global_commands
        if guild_id not in self.world.guilds:
            raise ApiError.code(MISSING_ACCESS)
        return self.guild_commands.setdefault(guild_id, {})

    def _store_command(self, body: dict[str, Any], guild_id: str | None) -> dict[str, Any]:
        kind = body.get("type", CHAT_INPUT)
        key = (guild_id, body["name"], kind)
        # Discord keeps a command's id across overwrites as long as name and type match.
        cmd_id = self._command_ids.setdefault(key, p.snowflake())
        stored = {
            "id": cmd_id,
            "application_id": self.world.application_id,
            "version": p.snowflake(),
            "type": kind,
            "name": body["name"],
            "name_localizations": body.get("name_localizations"),
            "description": body.get("description", ""),
            "description_localizations": body.get("description_localizations"),
            "options": body.get("options", []),
            "default_member_permissions": body.get("default_member_permissions"),
            "nsfw": body.get("nsfw", False),
            "integration_types": body.get("integration_types", [0]),
            "contexts": body.get("contexts"),
        }
        if guild_id is not None:
            stored["guild_id"] = guild_id
        else:
            stored["dm_permission"] = body.get("dm_permission", True)
        return stored

    async def _get_commands(
        self, req: RecordedRequest, application_id: str, guild_id: str | None = None
    ) -> RestResponse:
        self._check_app(application_id)
        return RestResponse(
            HTTPStatus.OK, copy.deepcopy(list(self._command_store(guild_id).values()))
        )

    async def _put_commands(
        self, req: RecordedRequest, application_id: str, guild_id: str | None = None
    ) -> RestResponse:
        self._check_app(application_id)
        store = self._command_store(guild_id)
        errors = v.validate_commands(req.json)
        if errors:
            raise ApiError.form(errors)
        store.clear()
        for body in req.json:
            stored = self._store_command(body, guild_id)
            store[stored["id"]] = stored
        return RestResponse(HTTPStatus.OK, copy.deepcopy(list(store.values())))

    async def _post_command(
        self, req: RecordedRequest, application_id: str, guild_id: str | None = None
    ) -> RestResponse:
        self._check_app(application_id)
        store = self._command_store(guild_id)
        errors = v.validate_commands([req.json])
        if errors:
            raise ApiError.form(errors.get("0", errors))
        stored = self._store_command(req.json, guild_id)
        created = stored["id"] not in store
        store[stored["id"]] = stored
        return RestResponse(HTTPStatus.CREATED if created else HTTPStatus.OK, copy.deepcopy(stored))

    async def _delete_command(
        self,
        req: RecordedRequest,
        application_id: str,
        command_id: str,
        guild_id: str | None = None,
    ) -> RestResponse:
        self._check_app(application_id)
        store = self._command_store(guild_id)
        if store.pop(command_id, None) is None:
            raise ApiError(
                HTTPStatus.NOT_FOUND,
                {"message": "Unknown application command", "code": UNKNOWN_APPLICATION_COMMAND},
            )
        return RestResponse(HTTPStatus.NO_CONTENT)
