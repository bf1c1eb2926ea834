"""The one exception type users see as a clear, single-line error (exit code 2), and one-line warnings."""

from __future__ import annotations

import sys


class ClearirError(Exception):
    """A user-facing error: bad input, a missing file or option. The message names what and where."""


def one_line(text: str) -> str:
    """``text`` on one line: line breaks and runs of spaces become single spaces."""
    return " ".join(str(text).split())


def warn(message: str) -> None:
    """Print ``warning: <message>`` as one line on stderr (damage clearir repaired, a step it skipped)."""
    print(f"warning: {one_line(message)}", file=sys.stderr, flush=True)
