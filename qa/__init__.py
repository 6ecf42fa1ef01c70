"""qa — extractive question answering over your documents, with attributions.

Importing `qa` is cheap on purpose: heavy libraries (torch, sentence-transformers, faiss,
spaCy) load lazily inside the stages that need them, so `qa --help` and error paths stay fast.
"""

__version__ = "0.1.0"
