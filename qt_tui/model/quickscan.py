"""The quick pass of indexing: just what lists need, read from the top-level lines.

Listing an article needs its id, title, subject, date, url, question and SEO keywords, not
its answer or related entries. For the plain layout real files use (`key: value` or a
one-line `key: >-` block, `seo:` one level deep) those fields are read line by line here,
several times faster than parsing the front matter. Whatever is outside that layout, the
quick pass declines (returns None) and the file goes to the full loader. The values it does
return are exactly the full loader's (tests compare them on every kind of file we have);
only a YAML error elsewhere in a file it accepted goes unseen until the detail pass, which
then reports it.
"""

from __future__ import annotations

import datetime
import re
import sys
from collections.abc import Callable
from typing import Any

import yaml

from .article import NO_SUBJECT
from .loading import _date, _text

__all__ = ["LeanValues", "quick_values"]

_FAIL: Any = object()  # "the fast parser cannot say": fall back to the full loader
_BOOL = {
    word: value
    for words, value in (("yes true on", True), ("no false off", False))
    for lower in words.split()
    for word in (lower, lower.capitalize(), lower.upper())
}
_NULL = {"null", "Null", "NULL", "~"}
_SPECIAL_WORDS = frozenset(_BOOL) | _NULL
_SIMPLE_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")
_SIMPLE_FLOAT = re.compile(r"[-+]?[0-9]+\.[0-9]+\Z")
_SIMPLE_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
#: First characters for which YAML tries implicit types other than bool and null.
_RESOLVED_FIRST = frozenset("+-.0123456789<=~")
_RESOLVE: Callable[[type[yaml.Node], str, tuple[bool, bool]], str] = (
    yaml.resolver.Resolver().resolve
)
_TAG = "tag:yaml.org,2002:"


def _scalar(raw: str) -> Any:
    """A one-line plain or quoted YAML scalar as the safe loader builds it, or _FAIL."""
    first = raw[0]
    if first == '"':
        inner = raw[1:-1]
        ok = len(raw) > 1 and raw[-1] == '"' and '"' not in inner and "\\" not in inner
        return inner if ok else _FAIL
    if first == "'":
        inner = raw[1:-1]
        ok = len(raw) > 1 and raw[-1] == "'" and "'" not in inner.replace("''", "")
        return inner.replace("''", "'") if ok else _FAIL
    if ": " in raw or " #" in raw or raw[-1] == ":" or "\t" in raw:
        return _FAIL
    if first in _RESOLVED_FIRST:  # numbers, dates, ~ and friends
        if _SIMPLE_INT.match(raw):
            return int(raw)
        if _SIMPLE_FLOAT.match(raw):
            return float(raw)
        if _SIMPLE_DATE.match(raw):
            try:
                return datetime.date.fromisoformat(raw)
            except ValueError:
                return _FAIL
        if first == "-" and raw[1:2] in ("", " "):
            return _FAIL  # a sequence entry
        tag = _RESOLVE(yaml.ScalarNode, raw, (True, False))
        if tag == _TAG + "str":
            return raw
        return None if tag == _TAG + "null" and raw == "~" else _FAIL
    if first in _INDICATORS:
        return _FAIL
    if raw in _SPECIAL_WORDS:
        return _BOOL.get(raw)
    return sys.intern(raw) if len(raw) <= 32 else raw


#: (id, title, subject, date as ordinal or None, url, question, seo keywords)
LeanValues = tuple[Any, str, str, int | None, str, str, str]

_WANTED = ("id", "title", "article_title", "question", "subject", "url", "date")
_BLOCK_HEADS = frozenset((">-", ">", "|-", "|", ">+", "|+"))


def _entry(text: str, key: str) -> tuple[bool, str, list[str]] | None:
    """The rest of the `key:` line at column 0 and the indented lines under it.

    None when the key is not there; (False, ...) when it is there more than once or its
    lines are not of the simple kind (blank lines inside, tabs).
    """
    marker = f"\n{key}:"
    at = text.find(marker)
    if at < 0:
        return None
    if text.find(marker, at + 1) >= 0:
        return False, "", []
    start = at + len(marker)
    end = text.find("\n", start)
    rest = text[start:end]
    body: list[str] = []
    while text.startswith(" ", end + 1):
        line_end = text.find("\n", end + 1)
        body.append(text[end + 1 : line_end])
        end = line_end
    if text.startswith(("\n", "\t"), end + 1) and end + 1 < len(text):
        return False, "", []  # a blank line or a tab: leave the reading to YAML
    return True, rest, body


def _one_value(rest: str, body: list[str]) -> tuple[bool, Any]:
    """The value of `key:<rest>` followed by its indented `body` lines, if simple."""
    if rest and rest[0] != " ":
        return False, None
    head = rest.strip(" ")
    if head in _BLOCK_HEADS:
        if len(body) != 1:
            return False, None
        text = body[0].lstrip(" ")
        if not text or text[0] in "\t#":
            return False, None
        return True, text if head[-1] == "-" else text + "\n"
    if body:
        return False, None  # a multi-line plain scalar, a mapping or a list
    if not head:
        return True, None
    value = _scalar(head)
    if value is _FAIL:
        return False, None
    return True, value


def quick_values(front_matter: str, relpath: str) -> LeanValues | None:
    """The lean values of an article from its front matter text, or None when unsure.

    `front_matter` is the text between the `---` lines, starting with the newline after the
    first one (plain characters only: no \\r); `relpath` the file's path in the folder (its
    first part is the subject folder, its name the title of last resort).
    """
    found: dict[str, Any] = {}
    for key in _WANTED:
        entry = _entry(front_matter, key)
        if entry is None:
            continue
        ok, rest, body = entry
        if ok:
            ok, found[key] = _one_value(rest, body)
        if not ok:
            return None
    keywords: Any = None
    seo = _entry(front_matter, "seo")
    if seo is not None:
        ok, rest, body = seo
        if not ok or rest.strip(" ") or not body:
            return None
        ok, keywords = _seo_keywords(body)
        if not ok:
            return None
    ident = found.get("id")
    if not isinstance(ident, int | str) or isinstance(ident, bool):
        ident = None
    folder, _, name = relpath.rpartition("/")
    title = ""
    for key in ("title", "article_title", "question"):
        title = _text(found.get(key)).strip()
        if title:
            break
    else:
        title = name[:-3] if name.endswith(".md") else name.rpartition(".")[0] or name
    subject = _text(found.get("subject")).strip() or folder.partition("/")[0] or NO_SUBJECT
    date = _date(found.get("date"))
    return (
        ident,
        title,
        sys.intern(subject),
        None if date is None else date.toordinal(),
        _text(found.get("url")).strip(),
        _text(found.get("question")).strip(),
        _text(keywords).strip(),
    )


def _seo_keywords(body: list[str]) -> tuple[bool, Any]:
    """page_keywords from the lines under `seo:` (a plain one-level mapping), or not ok."""
    indent = len(body[0]) - len(body[0].lstrip(" "))
    text = "\n" + "\n".join(line[indent:] if line[:indent].isspace() else "\t" for line in body)
    entry = _entry(text + "\n", "page_keywords")
    if entry is None:
        return True, None
    ok, rest, lines = entry
    if not ok:
        return False, None
    return _one_value(rest, lines)
