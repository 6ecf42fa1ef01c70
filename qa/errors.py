"""Errors the CLI turns into one clear line on stderr and exit code 2."""


class QAError(Exception):
    """A problem the user can fix; the message is shown as is."""

    exit_code = 2


class UsageError(QAError):
    """Bad input: a missing path, an empty question, an unknown option value."""


class IndexProblem(QAError):
    """The index is missing, stale, corrupt or built differently."""
