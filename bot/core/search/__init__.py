"""Search: a member's loose question → the stories that answer it.

`searcher` answers (candidates from the store's full-text index, rerank, collapse of
one event's records); `query` turns typed text into terms; `vocab` and `wordnet` fix
typos and relate words; `concepts` weighs what a question asks for; `index` is the
in-memory picture of the store that all of them read.
"""
