"""Sentence embeddings of stories: the model (`models`), the vector layout and the
nearest-neighbour matrix (`vectors`), and the background backfill (`backfill`).

Embedding happens after a load, never inside its transaction: a story is
searchable lexically once stored and semantically once embedded.
"""
