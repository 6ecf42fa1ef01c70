"""`qa chat`: the Textual terminal chat over an index (presentation only).

The app talks to the engine through `qa.engine.Engine` and the records in `qa.records`;
nothing in `qa` imports this package, so the CLI and the library never pay for Textual.
"""
