"""Files to clean documents and passages: discover and read (formats/), clean, chunk, sentences.

Nothing is imported here: importing a stage costs nothing until a module of it is used.
"""
