"""Make text from files safe to show: no terminal control characters reach the screen."""

from __future__ import annotations

import re

# C0 and C1 controls except tab and newline, plus DEL; ESC among them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Replace control characters (ESC, BEL, CR, C1 ...) with visible symbols."""
    return _CONTROL.sub(_symbol, text)


def _symbol(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␛ for ESC
    return "\N{REPLACEMENT CHARACTER}"


def one_line(text: str) -> str:
    """Printable text folded onto one line (for titles in lists and trees)."""
    return " ".join(printable(text).split())
