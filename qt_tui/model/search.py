"""Search hits and turning what a user types into a safe FTS5 query."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "MARK_END",
    "MARK_START",
    "Query",
    "SearchHit",
    "fold",
    "fts_query",
    "make_snippet",
    "parse_query",
    "split_marked",
]

#: Around each matched word in a snippet; the UI highlights what lies between them. The indexed
#: answer text never holds them (indexing.plain_text turns them into plain quotes).
MARK_START = "«"
MARK_END = "»"

#: A last word shorter than this is matched whole: "a"* would expand to most of the index.
MIN_PREFIX = 3

#: Markdown and LaTeX punctuation, dropped from snippets.
_MARKUP = str.maketrans(dict.fromkeys("*_`#|>~$^{}[]=<\\", " "))

#: Words as FTS5's unicode61 tokenizer sees them: letters and digits (not "_").
_TERM = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class SearchHit:
    """One search result: the article's key, title and subject, a marked snippet, its score.

    `rank` is SQLite's bm25 score: lower (more negative) is better; 0.0 for hits of a very
    common query that were not ranked.
    """

    relpath: str
    title: str
    subject: str
    snippet: str
    rank: float


@dataclass(frozen=True)
class Query:
    """What the user typed, as words (folded like the index) and as FTS5 expressions."""

    words: tuple[str, ...]
    #: True when the last word is still being typed: it matches as a prefix.
    prefix: bool

    @property
    def fts(self) -> str:
        """Every word, quoted (no operator or syntax error possible); the last one `*` if typed."""
        quoted = [f'"{word}"' for word in self.words]
        if self.prefix:
            quoted[-1] += "*"
        return " ".join(quoted)

    @property
    def exact(self) -> str:
        """Like :attr:`fts` with the last word whole."""
        return " ".join(f'"{word}"' for word in self.words)

    def matches(self, token: str) -> bool:
        """Whether a word of some text is one the query looks for."""
        folded = fold(token)
        if self.prefix and folded.startswith(self.words[-1]):
            return True
        return folded in self.words


def fold(word: str) -> str:
    """A word as the index compares it: case and diacritics ignored."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def parse_query(text: str) -> Query | None:
    """The query for what the user typed; None when it has no words."""
    words = tuple(fold(word) for word in _TERM.findall(text))
    if not words:
        return None
    typing = bool(_TERM.match(text[-1])) and len(words[-1]) >= MIN_PREFIX
    return Query(words, typing)


def fts_query(text: str) -> str | None:
    """An FTS5 query matching every word of `text`; None when it has no words.

    Each word is quoted, so operators, quotes, `*` or `AND` typed by the user are plain words
    and can never be a syntax error; the last word also matches as a prefix while the user is
    still typing it (no space or punctuation after it yet, at least MIN_PREFIX letters).
    """
    query = parse_query(text)
    return None if query is None else query.fts


def make_snippet(text: str, query: Query, words: int = 14) -> str:
    """About `words` words of `text` around its first match, matches between the markers."""
    tokens = list(_TERM.finditer(text))
    if not tokens:
        return ""
    first = next((i for i, token in enumerate(tokens) if query.matches(token.group())), None)
    start = 0 if first is None else max(0, min(first - 3, len(tokens) - words))
    chosen = tokens[start : start + words]
    pieces: list[str] = ["… "] if start > 0 else []
    position = chosen[0].start()
    for token in chosen:
        pieces.append(text[position : token.start()].translate(_MARKUP))
        word = token.group()
        pieces.append(f"{MARK_START}{word}{MARK_END}" if query.matches(word) else word)
        position = token.end()
    if start + words < len(tokens):
        pieces.append(" …")
    return " ".join("".join(pieces).split())


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
