"""Discord's message-body validation, reproduced closely enough to catch real bugs.

Functions return Discord's nested ``errors`` tree (``{"embeds": {"0": {"title": {"_errors":
[...]}}}}``) or an empty dict. The server wraps a non-empty tree in a 400 with code 50035
(``INVALID_FORM_BODY``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from .protocol import (
    ACTION_ROW,
    BUTTON,
    BUTTON_STYLES,
    CHAT_INPUT,
    IS_COMPONENTS_V2,
    LINK,
    PREMIUM,
    SELECT_TYPES,
    STRING_SELECT,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
)

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER = 2048
MAX_AUTHOR = 256
MAX_URL = 2048
MAX_ROWS = 5
MAX_ROW_ITEMS = 5
MAX_CUSTOM_ID = 100
MAX_BUTTON_LABEL = 80
MAX_CHOICES = 25
MAX_NONCE = 25

COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")

Errors = dict[str, Any]


def add_error(errors: Errors, path: Sequence[str | int], code: str, message: str) -> None:
    node = errors
    for part in path:
        node = node.setdefault(str(part), {})
    node.setdefault("_errors", []).append({"code": code, "message": message})


def error_paths(errors: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Flatten an errors tree to dotted paths ("data.embeds.0.title") for easy asserts."""
    out: list[str] = []
    for key, value in errors.items():
        if key == "_errors":
            out.append(prefix or "<root>")
        elif isinstance(value, Mapping):
            out.extend(error_paths(value, f"{prefix}.{key}" if prefix else key))
    return out


def _too_long(errors: Errors, path: Sequence[str | int], value: Any, limit: int) -> None:
    if value is not None and not isinstance(value, str):
        add_error(errors, path, "BASE_TYPE_STRING", "Must be a string.")
    elif value is not None and len(value) > limit:
        add_error(errors, path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _check_url(
    errors: Errors, path: Sequence[str | int], url: Any, *, schemes: tuple[str, ...]
) -> None:
    if url is None:
        return
    if not isinstance(url, str) or not url:
        add_error(errors, path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")
        return
    if len(url) > MAX_URL:
        add_error(errors, path, "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_URL} or fewer in length.")
        return
    try:
        parts = urlsplit(url)
    except ValueError:
        add_error(errors, path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")
        return
    if parts.scheme not in schemes:
        allowed = ", ".join(repr(s) for s in schemes)
        add_error(
            errors,
            path,
            "URL_TYPE_INVALID_SCHEME",
            f'Scheme "{parts.scheme}" is not supported. Scheme must be one of ({allowed}).',
        )
        return
    # http(s) needs a host; attachment://name.png puts the file name in the netloc.
    needs_host = parts.scheme in ("http", "https")
    if (needs_host and not parts.netloc) or not (parts.netloc or parts.path):
        add_error(errors, path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")


WEB = ("http", "https")
IMAGE = ("http", "https", "attachment")


def embed_size(embed: Mapping[str, Any]) -> int:
    """Characters Discord counts toward the 6000 limit."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for field in embed.get("fields") or []:
        total += len(field.get("name") or "") + len(field.get("value") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def validate_embeds(errors: Errors, embeds: Any, path: Sequence[str | int]) -> None:
    if embeds is None:
        return
    if not isinstance(embeds, list):
        add_error(errors, path, "BASE_TYPE_ARRAY", "Must be an array.")
        return
    if len(embeds) > MAX_EMBEDS:
        add_error(errors, path, "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_EMBEDS} or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        here = [*path, i]
        if not isinstance(embed, Mapping):
            add_error(errors, here, "MODEL_TYPE_CONVERT", "Only dictionaries may be used.")
            continue
        total += embed_size(embed)
        _too_long(errors, [*here, "title"], embed.get("title"), MAX_TITLE)
        _too_long(errors, [*here, "description"], embed.get("description"), MAX_DESCRIPTION)
        _check_url(errors, [*here, "url"], embed.get("url"), schemes=WEB)
        color = embed.get("color")
        if color is not None and (not isinstance(color, int) or not 0 <= color <= 0xFFFFFF):
            add_error(
                errors, [*here, "color"], "NUMBER_TYPE_MAX", "int value should be <= 16777215."
            )
        ts = embed.get("timestamp")
        if ts is not None:
            try:
                datetime.fromisoformat(str(ts).replace("Z", "+00:00"))
            except ValueError:
                add_error(
                    errors, [*here, "timestamp"], "DATE_TYPE_PARSE", "Could not parse timestamp."
                )
        fields = embed.get("fields")
        if fields is not None:
            if len(fields) > MAX_FIELDS:
                add_error(
                    errors,
                    [*here, "fields"],
                    "BASE_TYPE_MAX_LENGTH",
                    f"Must be {MAX_FIELDS} or fewer in length.",
                )
            for j, field in enumerate(fields):
                for key, limit in (("name", MAX_FIELD_NAME), ("value", MAX_FIELD_VALUE)):
                    value = field.get(key)
                    if value is None or value == "":
                        add_error(
                            errors,
                            [*here, "fields", j, key],
                            "BASE_TYPE_REQUIRED",
                            "This field is required",
                        )
                    else:
                        _too_long(errors, [*here, "fields", j, key], value, limit)
        footer = embed.get("footer")
        if footer is not None:
            _too_long(errors, [*here, "footer", "text"], footer.get("text"), MAX_FOOTER)
            _check_url(errors, [*here, "footer", "icon_url"], footer.get("icon_url"), schemes=IMAGE)
        author = embed.get("author")
        if author is not None:
            _too_long(errors, [*here, "author", "name"], author.get("name"), MAX_AUTHOR)
            _check_url(errors, [*here, "author", "url"], author.get("url"), schemes=WEB)
            _check_url(errors, [*here, "author", "icon_url"], author.get("icon_url"), schemes=IMAGE)
        for key in ("thumbnail", "image"):
            media = embed.get(key)
            if media is not None:
                _check_url(errors, [*here, key, "url"], media.get("url"), schemes=IMAGE)
    if total > MAX_EMBED_TOTAL:
        add_error(
            errors,
            path,
            "MAX_EMBED_SIZE_EXCEEDED",
            f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}",
        )


def _validate_button(
    errors: Errors, button: Mapping[str, Any], here: list[str | int], seen: set[str]
) -> None:
    style = button.get("style")
    if style not in BUTTON_STYLES:
        add_error(
            errors,
            [*here, "style"],
            "BASE_TYPE_CHOICES",
            f"Value must be one of {sorted(BUTTON_STYLES)}.",
        )
        return
    _too_long(errors, [*here, "label"], button.get("label"), MAX_BUTTON_LABEL)
    if style == LINK:
        if not button.get("url"):
            add_error(errors, [*here, "url"], "BASE_TYPE_REQUIRED", "This field is required")
        else:
            _check_url(errors, [*here, "url"], button["url"], schemes=("http", "https", "discord"))
        if "custom_id" in button:
            add_error(
                errors,
                [*here, "custom_id"],
                "COMPONENT_LINK_BUTTON_CUSTOM_ID",
                "A custom id cannot be set on a link button",
            )
        return
    if "url" in button:
        add_error(errors, [*here, "url"], "BUTTON_URL_SET", "A url can only be set on link buttons")
    if style == PREMIUM:
        if not button.get("sku_id"):
            add_error(errors, [*here, "sku_id"], "BASE_TYPE_REQUIRED", "This field is required")
        return
    _check_custom_id(errors, button.get("custom_id"), here, seen)
    if not button.get("label") and not button.get("emoji"):
        add_error(
            errors,
            [*here, "label"],
            "BUTTON_LABEL_OR_EMOJI_REQUIRED",
            "A label or emoji is required",
        )


def _check_custom_id(errors: Errors, custom_id: Any, here: list[str | int], seen: set[str]) -> None:
    if not custom_id:
        add_error(errors, [*here, "custom_id"], "BASE_TYPE_REQUIRED", "This field is required")
        return
    _too_long(errors, [*here, "custom_id"], custom_id, MAX_CUSTOM_ID)
    if custom_id in seen:
        add_error(
            errors,
            [*here, "custom_id"],
            "COMPONENT_CUSTOM_ID_DUPLICATED",
            "Component custom id cannot be duplicated",
        )
    seen.add(custom_id)


def _validate_select(
    errors: Errors, select: Mapping[str, Any], here: list[str | int], seen: set[str]
) -> None:
    _check_custom_id(errors, select.get("custom_id"), here, seen)
    _too_long(errors, [*here, "placeholder"], select.get("placeholder"), 150)
    if select.get("type") == STRING_SELECT:
        options = select.get("options") or []
        if not 1 <= len(options) <= 25:
            add_error(
                errors,
                [*here, "options"],
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 25 in length.",
            )
        for k, opt in enumerate(options):
            for key in ("label", "value", "description"):
                _too_long(errors, [*here, "options", k, key], opt.get(key), 100)


def validate_components(
    errors: Errors, components: Any, path: Sequence[str | int], *, v2: bool
) -> None:
    if components is None:
        return
    if not isinstance(components, list):
        add_error(errors, path, "BASE_TYPE_ARRAY", "Must be an array.")
        return
    seen: set[str] = set()
    if v2:
        _walk_v2(errors, components, list(path), seen)
        return
    if len(components) > MAX_ROWS:
        add_error(errors, path, "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_ROWS} or fewer in length.")
    for i, row in enumerate(components):
        here: list[str | int] = [*path, i]
        if row.get("type") != ACTION_ROW:
            add_error(
                errors,
                [*here, "type"],
                "UNION_TYPE_CHOICES",
                'Value of field "type" must be one of (1,). Top-level components must be action '
                "rows unless the IS_COMPONENTS_V2 flag is set.",
            )
            continue
        children = row.get("components") or []
        if not 1 <= len(children) <= MAX_ROW_ITEMS:
            add_error(
                errors,
                [*here, "components"],
                "BASE_TYPE_BAD_LENGTH",
                f"Must be between 1 and {MAX_ROW_ITEMS} in length.",
            )
        for j, child in enumerate(children):
            child_path: list[str | int] = [*here, "components", j]
            kind = child.get("type")
            if kind == BUTTON:
                _validate_button(errors, child, child_path, seen)
            elif kind in SELECT_TYPES:
                if len(children) > 1:
                    add_error(
                        errors,
                        child_path,
                        "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                        "The specified component exceeds the maximum width",
                    )
                _validate_select(errors, child, child_path, seen)
            else:
                add_error(
                    errors,
                    [*child_path, "type"],
                    "COMPONENT_TYPE_INVALID",
                    f"Component type {kind} is not valid in a message action row",
                )


def _walk_v2(errors: Errors, components: list[Any], path: list[str | int], seen: set[str]) -> None:
    for i, comp in enumerate(components):
        here: list[str | int] = [*path, i]
        if not isinstance(comp, Mapping):
            continue
        if comp.get("type") == BUTTON:
            _validate_button(errors, comp, here, seen)
        elif comp.get("type") in SELECT_TYPES:
            _validate_select(errors, comp, here, seen)
        if isinstance(comp.get("components"), list):
            _walk_v2(errors, comp["components"], [*here, "components"], seen)
        accessory = comp.get("accessory")
        if isinstance(accessory, Mapping) and accessory.get("type") == BUTTON:
            _validate_button(errors, accessory, [*here, "accessory"], seen)


def validate_allowed_mentions(errors: Errors, am: Any, path: Sequence[str | int]) -> None:
    if am is None:
        return
    parse = am.get("parse", [])
    for i, kind in enumerate(parse):
        if kind not in ("users", "roles", "everyone"):
            add_error(
                errors,
                [*path, "parse", i],
                "BASE_TYPE_CHOICES",
                "Value must be one of ('roles', 'users', 'everyone').",
            )
    for kind in ("users", "roles"):
        if kind in parse and am.get(kind):
            add_error(
                errors,
                [*path],
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids] are mutually exclusive.',
            )
        if len(am.get(kind) or []) > 100:
            add_error(
                errors, [*path, kind], "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."
            )


def validate_message(body: Mapping[str, Any], path: Sequence[str | int] = ()) -> Errors:
    """Validate a create/edit message body (channel message, webhook, callback ``data``)."""
    errors: Errors = {}
    path = list(path)
    content = body.get("content")
    _too_long(errors, [*path, "content"], content, MAX_CONTENT)
    validate_embeds(errors, body.get("embeds"), [*path, "embeds"])
    flags = body.get("flags") or 0
    validate_components(
        errors, body.get("components"), [*path, "components"], v2=bool(flags & IS_COMPONENTS_V2)
    )
    if flags & IS_COMPONENTS_V2 and (content or body.get("embeds")):
        add_error(
            errors,
            [*path, "content"] if content else [*path, "embeds"],
            "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "The 'content' and 'embeds' fields cannot be used when using "
            "MessageFlags.IS_COMPONENTS_V2",
        )
    validate_allowed_mentions(errors, body.get("allowed_mentions"), [*path, "allowed_mentions"])
    nonce = body.get("nonce")
    if nonce is not None:
        if isinstance(nonce, str) and len(nonce) > MAX_NONCE:
            add_error(
                errors,
                [*path, "nonce"],
                "BASE_TYPE_MAX_LENGTH",
                f"Must be {MAX_NONCE} or fewer in length.",
            )
        elif not isinstance(nonce, (str, int)):
            add_error(errors, [*path, "nonce"], "BASE_TYPE_STRING", "Must be a string or integer.")
    return errors


def is_empty_message(body: Mapping[str, Any], *, files: int = 0) -> bool:
    """Discord's 50006 "Cannot send an empty message" condition for *new* messages."""
    return not (
        body.get("content")
        or body.get("embeds")
        or body.get("components")
        or body.get("sticker_ids")
        or body.get("poll")
        or files
    )


def validate_choices(choices: Any, path: Sequence[str | int]) -> Errors:
    errors: Errors = {}
    path = list(path)
    if not isinstance(choices, list):
        add_error(errors, path, "BASE_TYPE_ARRAY", "Must be an array.")
        return errors
    if len(choices) > MAX_CHOICES:
        add_error(
            errors, path, "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CHOICES} or fewer in length."
        )
    for i, choice in enumerate(choices):
        name = choice.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            add_error(
                errors,
                [*path, i, "name"],
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            )
        value = choice.get("value")
        if isinstance(value, str):
            _too_long(errors, [*path, i, "value"], value, 100)
        elif not isinstance(value, (int, float)) or isinstance(value, bool):
            add_error(errors, [*path, i, "value"], "BASE_TYPE_REQUIRED", "This field is required")
    return errors


def validate_commands(commands: Any) -> Errors:
    """A reasonable subset of Discord's application-command validation for bulk overwrite."""
    errors: Errors = {}
    if not isinstance(commands, list):
        add_error(errors, [], "BASE_TYPE_ARRAY", "Must be an array.")
        return errors
    seen: set[tuple[str, int]] = set()
    for i, cmd in enumerate(commands):
        kind = cmd.get("type", CHAT_INPUT)
        name = cmd.get("name")
        if (
            not isinstance(name, str)
            or not COMMAND_NAME.match(name)
            or (kind == CHAT_INPUT and name != name.lower())
        ):
            add_error(
                errors, [i, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
            )
        if (name, kind) in seen:
            add_error(
                errors,
                [i, "name"],
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        seen.add((name, kind))
        if kind == CHAT_INPUT:
            desc = cmd.get("description")
            if not isinstance(desc, str) or not 1 <= len(desc) <= 100:
                add_error(
                    errors,
                    [i, "description"],
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 100 in length.",
                )
            _validate_command_options(errors, cmd.get("options") or [], [i, "options"], depth=0)
    return errors


def _validate_command_options(
    errors: Errors, options: list[Any], path: list[str | int], depth: int
) -> None:
    if len(options) > 25:
        add_error(errors, path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    optional_seen = False
    for i, opt in enumerate(options):
        here: list[str | int] = [*path, i]
        name = opt.get("name")
        if not isinstance(name, str) or not COMMAND_NAME.match(name) or name != name.lower():
            add_error(
                errors,
                [*here, "name"],
                "APPLICATION_COMMAND_INVALID_NAME",
                "Command name is invalid",
            )
        desc = opt.get("description")
        if not isinstance(desc, str) or not 1 <= len(desc) <= 100:
            add_error(
                errors,
                [*here, "description"],
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            )
        kind = opt.get("type")
        if kind in (SUB_COMMAND, SUB_COMMAND_GROUP):
            if depth >= (1 if kind == SUB_COMMAND_GROUP else 2):
                add_error(
                    errors,
                    [*here, "type"],
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "Sub-command nesting is too deep",
                )
            _validate_command_options(
                errors, opt.get("options") or [], [*here, "options"], depth + 1
            )
            continue
        if opt.get("required"):
            if optional_seen:
                add_error(
                    errors,
                    [*here, "required"],
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
        if len(opt.get("choices") or []) > MAX_CHOICES:
            add_error(
                errors, [*here, "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
            )
        if opt.get("choices") and opt.get("autocomplete"):
            add_error(
                errors,
                [*here, "autocomplete"],
                "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_WITH_CHOICES",
                "Autocomplete cannot be set on options with choices",
            )
