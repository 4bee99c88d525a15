"""What the command-line entry points share: one-line usage errors."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import IO, NoReturn

from .model.text import one_line


class UsageError(Exception):
    """A problem with what the user asked for (exit status 2), shown as one line."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are raised as UsageError, never printed as a page."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def emit(stream: IO[str], text: str) -> None:
    """Write `text`, escaping what the stream's encoding cannot hold instead of failing."""
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "utf-8"
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding))
    stream.flush()


def run_guarded(run: Callable[[Sequence[str]], int], argv: Sequence[str], unexpected: int) -> int:
    """Run a subcommand so that nothing ends in a traceback: errors are one line on stderr.

    Usage and I/O errors exit 2; anything unexpected (a bug) exits with `unexpected`.
    """
    try:
        return run(argv)
    except (UsageError, OSError) as exc:
        emit(sys.stderr, f"qt-tui: {one_line(str(exc))}\n")
        return 2
    except Exception as exc:  # a bug must still not end in a traceback
        emit(sys.stderr, f"qt-tui: unexpected error: {type(exc).__name__}: {one_line(str(exc))}\n")
        return unexpected
