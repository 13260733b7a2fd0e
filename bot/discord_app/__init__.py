"""The Discord front end: the bot, its checks and errors, the pager, the alert sender.

The slash commands themselves are cogs in the top-level `commands/` package.
"""
