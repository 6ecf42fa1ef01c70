"""A question to an answer: retrieve, read (the extractive reader), answer, spans (lines of a source).

Nothing is imported here: importing a stage costs nothing until a module of it is used.
"""
