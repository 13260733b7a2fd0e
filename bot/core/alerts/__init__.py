"""Alerts: subscriptions, which new stories match them, and delivering them once.

`subscriptions` (rules, limits, options), `matching` (which story alerts which
subscription — `explain` says why not — run inside a load's transaction),
`explain` ("why wasn't this sent?", the preview), `dispatch` (the outbox →
messages), `batching` (which rows share a message), `landing` (how a message
lands: ping, thread, crosspost budget), `edits` (edited stories), `notices`
(paused/disabled → one notice), `delivery` (the `Sender` protocol a front end
implements) and `pacing` (rate limits).
"""
