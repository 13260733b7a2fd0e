"""What each command answers, shared by the Discord bot and the console.

A `Reply` (`reply`) holds embeds and link buttons; `news`, `admin` and
`subscriptions` build them per command area from the core's objects; `embeds`
lays a story out, `sanitize`, `truncate`, `limits` and `enforce` keep untrusted
text inert and every embed within Discord's limits.
"""
