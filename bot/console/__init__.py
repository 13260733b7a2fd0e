"""The terminal front end (`newsbot console`): the bot's commands without Discord.

It prints the same `Reply` objects the Discord bot sends, and delivers alerts
through the same dispatcher with a console `Sender`.
"""
