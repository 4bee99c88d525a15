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


def _one_value(rest: str, block: str) -> tuple[bool, Any]:
    """The value of `key:<rest>` followed by its indented `block` lines (each after a
    newline), if simple."""
    if rest and rest[0] != " ":
        return False, None
    head = rest.strip(" ")
    if head in _BLOCK_HEADS:
        if not block or block.find("\n", 1) >= 0:
            return False, None  # no line, or several (folding rules: leave them to YAML)
        text = block.lstrip("\n ")
        if not text or text[0] in "\t#":
            return False, None
        return True, text if head[-1] == "-" else text + "\n"
    if block:
        return False, None  # a multi-line plain scalar, a mapping or a list
    if not head:
        return True, None
    value = _scalar(head)
    if value is _FAIL:
        return False, None
    return True, value


#: A wanted top-level key at the start of a line: its key, the rest of the line, the
#: indented lines under it.
_TOP = re.compile(
    r"\n(id|title|article_title|question|subject|url|date|seo):([^\n]*)((?:\n[ ]+[^\n]*)*)"
)
_CHILD = re.compile(r"\n([ ]+)page_keywords:([^\n]*)((?:\n\1[ ]+[^\n]*)*)")


def quick_values(front_matter: str, relpath: str) -> LeanValues | None:
    """The lean values of an article from its front matter text, or None when unsure.

    `front_matter` is the text between the `---` lines, starting with the newline after the
    first one (plain characters only: no \\r); `relpath` the file's path in the folder (its
    first part is the subject folder, its name the title of last resort).
    """
    text = front_matter
    at = text.find("\nanswer:")
    if at >= 0:  # most of the text: leave it out of the searches below
        end = text.find("\n", at + 1)
        while end >= 0 and text.startswith(" ", end + 1):
            end = text.find("\n", end + 1)
        if end < 0 or text.find("\nanswer:", end) >= 0:
            return None
        text = text[:at] + text[end:]
    if "\t" in text or "\n\n " in text or "\n \n" in text:
        return None  # tabs, blank lines inside blocks: leave the reading to YAML
    if "\n-" in text:
        return None  # a list at the margin: after `title:` it is the title's value
    found: dict[str, Any] = {}
    keywords: Any = None
    for key, rest, block in _TOP.findall(text):
        if key in found:
            return None  # a repeated key
        if key == "seo":
            if rest.strip(" ") or not block:
                return None
            found[key] = None
            child = _CHILD.findall(block)
            if child:
                indent = len(block) - len(block[1:].lstrip(" ")) - 1
                pad, rest, lines = child[0]
                if len(child) > 1 or len(pad) != indent or f"\n{pad}-" in block:
                    return None  # (a list at the key's own margin is its value)
                ok, keywords = _one_value(rest, lines)
                if not ok:
                    return None
            continue
        ok, found[key] = _one_value(rest, block)
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
