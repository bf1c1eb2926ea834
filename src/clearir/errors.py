"""The one exception type that users see as a clear, single-line error (exit code 2)."""


class ClearirError(Exception):
    """A user-facing error: bad input, a missing file or option. The message names what and where."""
