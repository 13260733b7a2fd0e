"""Alerts: subscriptions, which new stories match them, and delivering them once.

`subscriptions` (rules and limits), `matching` (which story alerts which
subscription, run inside a load's transaction), `dispatch` (the outbox → messages),
`delivery` (the `Sender` protocol a front end implements) and `pacing` (rate limits).
"""
