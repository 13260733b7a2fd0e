"""Discord's embed limits, and how Discord counts an embed's characters.

https://discord.com/developers/docs/resources/message#embed-object-embed-limits
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import discord

MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER = 2048
MAX_AUTHOR = 256
MAX_TOTAL = 6000
MAX_EMBEDS = 10
MAX_URL = 2048
# Link buttons are stricter than embeds: a longer URL fails the whole message.
MAX_BUTTON_URL = 512
MAX_LABEL = 80

# A blank field name: Discord rejects an empty one.
BLANK = "\u200b"


def embed_chars(embed: discord.Embed | Mapping[str, Any]) -> int:
    """Characters Discord counts toward the 6000 total: title, description,
    field names and values, footer text, author name."""
    d = embed.to_dict() if isinstance(embed, discord.Embed) else embed
    n = len(d.get("title") or "") + len(d.get("description") or "")
    for f in d.get("fields") or ():
        n += len(f.get("name") or "") + len(f.get("value") or "")
    n += len((d.get("footer") or {}).get("text") or "")
    n += len((d.get("author") or {}).get("name") or "")
    return n
