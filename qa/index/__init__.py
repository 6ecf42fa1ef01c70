"""Passages to an index and back: the index folder (build, manifest, staleness, load), incremental
re-indexing and refresh, watching, the Ray build, encoders/, dense (FAISS) and lexical (BM25)
retrieval structures, and vectors/ (the stores that hold vectors: FAISS folder, Qdrant).

Nothing is imported here: importing a stage costs nothing until a module of it is used.
"""
