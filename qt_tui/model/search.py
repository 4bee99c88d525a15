"""Search hits and turning what a user types into a safe FTS5 query."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MARK_END", "MARK_START", "SearchHit", "fts_query", "split_marked"]

#: Around each matched word in a snippet; the UI highlights what lies between them. The indexed
#: answer text never holds them (indexing.plain_text turns them into plain quotes).
MARK_START = "«"
MARK_END = "»"

_TERM = re.compile(r"\w+")


@dataclass(frozen=True)
class SearchHit:
    """One search result: the article's key, title and subject, a marked snippet, its score.

    `rank` is SQLite's bm25 score: lower (more negative) is better.
    """

    relpath: str
    title: str
    subject: str
    snippet: str
    rank: float


def fts_query(text: str) -> str | None:
    """An FTS5 query matching every word of `text`; None when it has no words.

    Each word is quoted, so operators, quotes, `*` or `AND` typed by the user are plain words
    and can never be a syntax error; the last word also matches as a prefix while the user is
    still typing it (no space or punctuation after it yet).
    """
    terms = _TERM.findall(text)
    if not terms:
        return None
    quoted = [f'"{term}"' for term in terms]
    if _TERM.match(text[-1]):
        quoted[-1] += "*"
    return " ".join(quoted)


def split_marked(snippet: str) -> list[tuple[str, bool]]:
    """A snippet as (text, is_match) pieces, for highlighting without parsing markers again."""
    pieces: list[tuple[str, bool]] = []
    rest = snippet
    while rest:
        start = rest.find(MARK_START)
        end = rest.find(MARK_END, start + 1) if start >= 0 else -1
        if start < 0 or end < 0:
            pieces.append((rest, False))
            break
        if start:
            pieces.append((rest[:start], False))
        pieces.append((rest[start + 1 : end], True))
        rest = rest[end + 1 :]
    return pieces
