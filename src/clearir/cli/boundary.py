"""The one error boundary of the ``clearir`` command: every failure ends as one clear line on stderr.

- usage errors (a missing or unknown option, an unknown command, a value of the wrong type): the command's
  usage line and one ``error:`` line, exit code 2;
- :class:`~clearir.errors.ClearirError` (bad input, damaged files): one ``error:`` line, exit code 2;
- operating-system errors (permission denied, not a directory, no space left): one line naming the operation
  and the path, exit code 2;
- anything else (a bug): one line and the path of a log file holding the traceback, exit code 1;
- Ctrl-C: ``interrupted``, exit code 130.

``--debug`` anywhere on the command line (or ``CLEARIR_DEBUG=1``) lets tracebacks through, for developers.
"""

from __future__ import annotations

import errno
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import typer
from rich.console import Console
from rich.text import Text

from clearir.errors import ClearirError, one_line

DEBUG_FLAG = "--debug"
DEBUG_ENV = "CLEARIR_DEBUG"
# The innermost function of a failed file-system call, as the operation the message names.
_OPERATIONS = {
    "mkdir": "create directory",
    "makedirs": "create directory",
    "mkdtemp": "create directory",
    "open": "open",
    "write": "write",
    "write_text": "write",
    "write_bytes": "write",
    "flush": "write",
    "close": "write",
    "save": "write",
    "save_file": "write",
    "replace": "move into place",
    "rename": "rename",
    "rmtree": "remove",
    "unlink": "remove",
    "rmdir": "remove",
    "copy": "copy",
    "copyfile": "copy",
    "copy2": "copy",
    "copytree": "copy",
    "read": "read",
    "read_text": "read",
    "read_bytes": "read",
    "iterdir": "list",
    "scandir": "list",
    "listdir": "list",
    "stat": "inspect",
    "touch": "create",
}


def _error(message: str, prefix: str = "error: ") -> None:
    Console(stderr=True, soft_wrap=True).print(Text(prefix, style="bold red") + Text(one_line(message)))


def _operation(tb: TracebackType | None) -> str | None:
    names = [frame.name for frame in traceback.extract_tb(tb)]
    return next((_OPERATIONS[name] for name in reversed(names) if name in _OPERATIONS), None)


def describe_os_error(exc: OSError) -> str:
    """``cannot <operation> <path>: <reason>`` for an operating-system error."""
    reason = (exc.strerror or os.strerror(exc.errno)) if exc.errno else (exc.strerror or str(exc))
    if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        reason += " (the disk or a size limit is full)"
    operation = _operation(exc.__traceback__) or "access"
    path = exc.filename
    if path is None:
        return f"cannot {operation} a file: {reason}"
    where = f"{path} -> {exc.filename2}" if exc.filename2 else f"{path}"
    return f"cannot {operation} {where}: {reason}"


def _log_traceback(argv: Sequence[str], exc: BaseException) -> Path | None:
    """Write the traceback to ``$CLEARIR_HOME/logs`` (else the temp directory); its path, or None."""
    from clearir.config import home_dir

    text = f"clearir {' '.join(argv)}\n\n" + "".join(traceback.format_exception(exc))
    name = f"clearir-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    for folder in (home_dir() / "logs", Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")
            return folder / name
        except OSError:
            continue
    return None


def _usage_error(exc: typer.TyperException) -> int:
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        print(ctx.get_usage().splitlines()[0], file=sys.stderr)
        hint = f" (see `{ctx.command_path} {ctx.help_option_names[0]}`)" if ctx.help_option_names else ""
        _error(exc.format_message() + hint)
    else:
        _error(exc.format_message())
    return getattr(exc, "exit_code", 2)


def run_guarded(app: typer.Typer, argv: Sequence[str]) -> int:
    """Run ``app`` on ``argv`` and return the exit code; every failure ends as one line (module doc)."""
    argv = list(argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    debug = DEBUG_FLAG in argv[:cut] or os.environ.get(DEBUG_ENV, "") not in ("", "0")
    if DEBUG_FLAG in argv[:cut]:
        argv = [arg for arg in argv[:cut] if arg != DEBUG_FLAG] + argv[cut:]
    try:
        result = app(args=argv, prog_name="clearir", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.TyperException as exc:  # click's usage errors (typer vendors click)
        if type(exc).__name__ == "NoArgsIsHelpError":  # the help was shown
            return 0
        if debug:
            raise
        return _usage_error(exc)
    except (typer.Abort, KeyboardInterrupt):
        if debug:
            raise
        _error("interrupted", prefix="")
        return 130
    except ClearirError as exc:
        if debug:
            raise
        _error(str(exc))
        return 2
    except OSError as exc:
        if debug:
            raise
        _error(describe_os_error(exc))
        return 2
    except Exception as exc:
        if debug:
            raise
        log = _log_traceback(argv, exc)
        where = f"the traceback is in {log}" if log else "no log could be written"
        _error(f"unexpected {type(exc).__name__}: {one_line(str(exc))[:300]} ({where}; please report it)")
        return 1
    return result if isinstance(result, int) else 0
