"""newsbot: a Discord bot that answers questions about the news.

`bot.core` is the Discord-free core (records, store, search, alerts); `bot.replies`
builds what each command answers; `bot.discord_app`, `bot.console` and `bot.cli` are
the front ends over them. README.md "How it works" draws the whole.
"""
