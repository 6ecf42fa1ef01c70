"""`python -m qa` is the `qa` command."""

from .cli import entry

entry()
