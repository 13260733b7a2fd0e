"""The core: everything that works without Discord.

Records, loading, the store, search, alert matching and dispatch (behind the
`Sender` protocol), subscriptions, summaries and settings. Nothing here imports
`discord` or a project module outside `bot.core` (tests/test_layout.py checks).
"""
