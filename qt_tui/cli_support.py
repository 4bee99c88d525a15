"""What the command-line entry points share: one-line usage errors."""

from __future__ import annotations

import argparse
from typing import NoReturn


class UsageError(Exception):
    """A problem with what the user asked for (exit status 2), shown as one line."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are raised as UsageError, never printed as a page."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")
